import type { protos } from '@google-cloud/compute';
import { canonicalJson } from '../util/canonical-json.js';
import { fingerprintPatchAction, startedOperation, type ResourceJson } from './compute-fingerprint-patch.js';

type ISslPolicy = protos.google.cloud.compute.v1.ISslPolicy;

/** What an SSL policy without these fields means (catalog F2): the Google default, COMPATIBLE and TLS 1.0. */
const DEFAULT_PROFILE = 'COMPATIBLE';
const DEFAULT_MIN_TLS = 'TLS_1_0';
const WEAK_TLS = ['TLS_1_0', 'TLS_1_1'];

const profileOf = (d: ResourceJson): string => String(d['profile'] ?? DEFAULT_PROFILE).toUpperCase();
const minTlsOf = (d: ResourceJson): string => String(d['minTlsVersion'] ?? DEFAULT_MIN_TLS).toUpperCase();
const featuresOf = (d: ResourceJson): string[] =>
  Array.isArray(d['customFeatures']) ? d['customFeatures'].map(String) : [];
const isRsaKex = (f: string): boolean => f.toUpperCase().startsWith('TLS_RSA_');

/** Not weak, as ssl-policy-weak reads it. */
export function sslPolicyStrong(d: ResourceJson): boolean {
  const profile = profileOf(d);
  if (profile === 'COMPATIBLE') return false;
  if (profile !== 'RESTRICTED' && WEAK_TLS.includes(minTlsOf(d))) return false;
  return !(profile === 'CUSTOM' && featuresOf(d).some(isRsaKex));
}

/**
 * The fix: COMPATIBLE (or no profile) → MODERN; TLS 1.0/1.1 → TLS_1_2; a CUSTOM profile keeps its suites
 * minus the non-forward-secret TLS_RSA_* ones.
 */
export function tls12ModernBody(d: ResourceJson): ResourceJson {
  const profile = profileOf(d);
  const body: ResourceJson = {};
  if (profile === 'COMPATIBLE') body['profile'] = 'MODERN';
  if (profile !== 'RESTRICTED' && WEAK_TLS.includes(minTlsOf(d))) body['minTlsVersion'] = 'TLS_1_2';
  if (profile === 'CUSTOM') {
    const features = featuresOf(d);
    const kept = features.filter((f) => !isRsaKex(f));
    if (kept.length !== features.length) body['customFeatures'] = kept;
  }
  return body;
}

/**
 * Requires TLS 1.2 and forward-secret suites on an SSL policy (CIS 3.11, ssl-policy-weak):
 * sslPolicies.patch (global) or regionSslPolicies.patch with {fingerprint, minTlsVersion: "TLS_1_2",
 * profile: "MODERN"} for a COMPATIBLE or profile-less policy, {fingerprint, minTlsVersion: "TLS_1_2"} for
 * MODERN / FIPS_202205 below TLS 1.2, and for CUSTOM {fingerprint, customFeatures: the suites without
 * TLS_RSA_*, minTlsVersion: "TLS_1_2" if below}. A CUSTOM policy left with no suite at all is refused: the
 * fallback would be MODERN, whose customFeatures must be empty, and compute's client cannot send an empty
 * list (it omits it), so that patch cannot be expressed. Medium risk: clients that only speak TLS 1.0/1.1
 * or RSA key exchange lose connectivity to the load balancers using the policy.
 */
export const requireTls12Modern = fingerprintPatchAction({
  id: 'compute.ssl-policy.require-tls12-modern',
  title: 'Require TLS 1.2 and modern cipher suites on an SSL policy',
  risk: 'medium',
  assetTypes: ['compute.googleapis.com/SslPolicy'],
  collection: 'sslPolicies',
  scopes: 'any',
  what: 'SSL policy',
  get: async (ctx, ref) => {
    if (ref.region) {
      const client = await ctx.cloud.compute('RegionSslPoliciesClient');
      const [data] = await client.get({ project: ref.project, region: ref.region, sslPolicy: ref.name });
      return data;
    }
    const client = await ctx.cloud.compute('SslPoliciesClient');
    const [data] = await client.get({ project: ref.project, sslPolicy: ref.name });
    return data;
  },
  patch: async (ctx, ref, body) => {
    const sslPolicyResource = body as ISslPolicy;
    if (ref.region) {
      const client = await ctx.cloud.compute('RegionSslPoliciesClient');
      const [lro] = await client.patch({
        project: ref.project,
        region: ref.region,
        sslPolicy: ref.name,
        sslPolicyResource,
      });
      return startedOperation(lro);
    }
    const client = await ctx.cloud.compute('SslPoliciesClient');
    const [lro] = await client.patch({ project: ref.project, sslPolicy: ref.name, sslPolicyResource });
    return startedOperation(lro);
  },
  refusal(d) {
    const profile = profileOf(d);
    if (!['COMPATIBLE', 'MODERN', 'RESTRICTED', 'CUSTOM', 'FIPS_202205'].includes(profile)) {
      return `unknown SSL policy profile ${profile}`;
    }
    if (profile === 'CUSTOM' && featuresOf(d).length > 0 && featuresOf(d).every(isRsaKex)) {
      return (
        'every custom suite is a TLS_RSA_* one; switching to MODERN needs customFeatures emptied, which ' +
        "compute's client cannot send (it omits empty lists)"
      );
    }
    return undefined;
  },
  isFixed: sslPolicyStrong,
  fixBody: tls12ModernBody,
  undoBody(before, live) {
    const body: ResourceJson = {};
    if (profileOf(live) !== profileOf(before)) body['profile'] = profileOf(before);
    if (minTlsOf(live) !== minTlsOf(before)) body['minTlsVersion'] = minTlsOf(before);
    if (
      canonicalJson(featuresOf(live)) !== canonicalJson(featuresOf(before)) &&
      featuresOf(before).length > 0
    ) {
      body['customFeatures'] = featuresOf(before);
    }
    return Object.keys(body).length > 0 ? body : null;
  },
  describe(ref, d) {
    const where = ref.region ? `region ${ref.region}` : 'global';
    return (
      `Set SSL policy ${ref.name} (project ${ref.project}, ${where}) to ${JSON.stringify(tls12ModernBody(d))} ` +
      `with ${ref.region ? 'regionSslPolicies' : 'sslPolicies'}.patch carrying the policy's current ` +
      'fingerprint (412 if anyone changed it since), then wait for the operation. Clients limited to TLS ' +
      '1.0/1.1 or RSA key exchange can no longer connect to the load balancers using it. Reversible: undo ' +
      'restores the previous profile, minimum TLS version and suites if the policy is still as the fix left it.'
    );
  },
});
