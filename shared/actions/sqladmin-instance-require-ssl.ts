import { rec } from './compute-fingerprint-patch.js';
import type { Json } from './compute-resource.js';
import { engineOf, settingsOf, sqlSettingsPatchAction } from './sql-instance-patch.js';

const STRICT_MODES = ['ENCRYPTED_ONLY', 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED'];

function ipConfigurationOf(data: Json): Json {
  return rec(settingsOf(data)['ipConfiguration']) ?? {};
}

function requireSslOn(ip: Json): boolean {
  return String(ip['requireSsl'] ?? false).toLowerCase() === 'true';
}

/** Unset sslMode: older instances and older CAI schemas, where the legacy requireSsl decides. */
const UNSET_MODES = ['', 'SSL_MODE_UNSPECIFIED', '0'];

/**
 * Passes sql-ssl-not-enforced, as it judges: sslMode wins over the legacy requireSsl (the IpConfiguration
 * reference: "the value of ssl_mode gets priority"); only an unset sslMode leaves it to requireSsl.
 */
function sslEnforced(data: Json): boolean {
  const ip = ipConfigurationOf(data);
  const mode = String(ip['sslMode'] ?? '')
    .trim()
    .toUpperCase();
  if (UNSET_MODES.includes(mode)) return requireSslOn(ip);
  return STRICT_MODES.includes(mode) || mode === '2' || mode === '3';
}

/**
 * The IpConfiguration.ssl_mode reference allows only consistent pairs: for MySQL and PostgreSQL
 * ENCRYPTED_ONLY goes with requireSsl false, for SQL Server with requireSsl true (catalog F12); Cloud SQL
 * answers 400 to a conflicting pair.
 */
function requireSslFor(data: Json): boolean {
  return engineOf(data) === 'sqlserver';
}

/** The requireSsl the reference pairs with each sslMode, per engine (Cloud SQL answers 400 to any other). */
function pairedRequireSsl(data: Json, sslMode: string): boolean | undefined {
  const pairs: Record<string, boolean> =
    engineOf(data) === 'sqlserver'
      ? { ALLOW_UNENCRYPTED_AND_ENCRYPTED: false, ENCRYPTED_ONLY: true }
      : {
          ALLOW_UNENCRYPTED_AND_ENCRYPTED: false,
          ENCRYPTED_ONLY: false,
          TRUSTED_CLIENT_CERTIFICATE_REQUIRED: true,
        };
  return pairs[sslMode];
}

/**
 * Makes a Cloud SQL instance accept encrypted connections only (sql-ssl-not-enforced, CIS 6.4):
 * instances.patch {settings: {settingsVersion, ipConfiguration: {sslMode: ENCRYPTED_ONLY, requireSsl}}}.
 * sslMode is the setting; the legacy requireSsl is sent with the value the reference pairs with
 * ENCRYPTED_ONLY for the engine, so the two never conflict. Client certificates are not required (that
 * would be TRUSTED_CLIENT_CERTIFICATE_REQUIRED): clients that do not use TLS break, the Cloud SQL Auth Proxy
 * and connectors do not. ipConfiguration merges, so nothing else of it is sent or changed.
 *
 * Undo sends the previous sslMode and requireSsl back. An instance that had no sslMode at all (older ones)
 * gets ALLOW_UNENCRYPTED_AND_ENCRYPTED, the documented meaning of an unset sslMode: the client cannot send
 * the field's absence. A legacy requireSsl that conflicted with its sslMode (ALLOW_UNENCRYPTED_AND_ENCRYPTED
 * beside requireSsl true, which sslMode overrode) cannot be sent back: Cloud SQL refuses the pair, so the
 * sslMode is restored with the requireSsl the reference pairs with it.
 */
export const sqlInstanceRequireSsl = sqlSettingsPatchAction({
  id: 'sqladmin.instance.require-ssl',
  title: 'Accept only SSL/TLS-encrypted connections to a Cloud SQL instance',
  risk: 'medium',
  aspect: (data) => {
    const ip = ipConfigurationOf(data);
    return { sslMode: ip['sslMode'], requireSsl: ip['requireSsl'] };
  },
  isFixed: sslEnforced,
  fixSettings: (data) => ({
    ipConfiguration: { sslMode: 'ENCRYPTED_ONLY', requireSsl: requireSslFor(data) },
  }),
  undoSettings(before, live) {
    const was = ipConfigurationOf(before);
    const now = ipConfigurationOf(live);
    const sslMode = String(was['sslMode'] ?? 'ALLOW_UNENCRYPTED_AND_ENCRYPTED');
    const requireSsl = pairedRequireSsl(before, sslMode) ?? requireSslOn(was);
    if (now['sslMode'] === sslMode && requireSslOn(now) === requireSsl) return null;
    return { ipConfiguration: { sslMode, requireSsl } };
  },
  describe(ref, data) {
    return (
      `Make Cloud SQL instance ${ref.project}:${ref.instance} accept only SSL/TLS-encrypted connections: ` +
      `instances.patch settings.ipConfiguration {sslMode: ENCRYPTED_ONLY, requireSsl: ${String(requireSslFor(data))}} ` +
      "(the legacy requireSsl kept consistent with sslMode for the engine) carrying the instance's current " +
      'settingsVersion (412 staleData if anyone changed its settings since), then poll the operation until DONE. ' +
      'Clients connecting without TLS are refused from then on; the Cloud SQL Auth Proxy and connectors are not ' +
      'affected. Reversible: undo restores the previous sslMode and requireSsl if the settings are still as the ' +
      'fix left them.'
    );
  },
});
