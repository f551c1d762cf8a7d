import { z } from 'zod';
import { isNotFound, toWardenError } from '../cloud/errors.js';
import { isServiceAccountKeyName } from '../cloud/iam-admin.js';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';
import { withLiveData } from './live-asset.js';
import { parseRecordedState } from './recorded-state.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';

export const SERVICE_ACCOUNT_KEY_TYPE = 'iam.googleapis.com/ServiceAccountKey';
const IAM_API = 'https://iam.googleapis.com/v1';
const ID = 'iam.serviceaccountkey.disable';

type Json = Record<string, unknown>;

const StateSchema = z.object({
  /** projects/PROJECT_ID/serviceAccounts/EMAIL_OR_UNIQUE_ID/keys/KEY_ID, as the requests name it. */
  name: z.string().refine(isServiceAccountKeyName, 'a service account key name'),
  /** The key as keys.get returned it (REST JSON). */
  data: z.record(z.string(), z.unknown()),
  /** After-state of an apply that sent nothing (the key was already disabled): nothing to undo. */
  unchanged: z.literal(true).optional(),
});
type KeyState = z.infer<typeof StateSchema>;

function parse(value: unknown, what: string): KeyState {
  return parseRecordedState(StateSchema, value, what);
}

const CAI_NAME = /^\/\/iam\.googleapis\.com\/projects\/([^/]+)\/serviceAccounts\/([^/]+)\/keys\/([^/]+)$/;

/**
 * The key's API name from its CAI name `//iam.googleapis.com/projects/P/serviceAccounts/SA/keys/K`. The
 * data's own name (projects/P/serviceAccounts/EMAIL/keys/K) is preferred when it names the same project and
 * key, for a readable plan; both account forms (email, unique id) are accepted by the API.
 */
export function keyNameOf(asset: Asset): string {
  const m = CAI_NAME.exec(asset.name);
  const [, project, account, key] = m ?? [];
  if (!project || !account || !key || project === '-') {
    throw new WardenError(`${asset.name} is not a service account key`, {
      retryable: false,
      code: 'not_applicable',
    });
  }
  const named = asset.resource?.data['name'];
  if (
    typeof named === 'string' &&
    isServiceAccountKeyName(named) &&
    named.startsWith(`projects/${project}/serviceAccounts/`) &&
    named.endsWith(`/keys/${key}`)
  ) {
    return named;
  }
  return `projects/${project}/serviceAccounts/${account}/keys/${key}`;
}

function describe(name: string): string {
  const [, , , account, , key] = name.split('/');
  return `key ${String(key)} of service account ${String(account)}`;
}

/** As iam-sa-user-managed-key reads it: absent means enabled; older exports spell it "TRUE". */
export const isDisabled = (data: Json): boolean => String(data['disabled'] ?? false).toLowerCase() === 'true';

/** USER_MANAGED, or its enum number in older exports. */
const keyTypeOf = (data: Json): string => String(data['keyType'] ?? 'KEY_TYPE_UNSPECIFIED').toUpperCase();
const isUserManaged = (data: Json): boolean => ['USER_MANAGED', '1'].includes(keyTypeOf(data));

/** Why this key must not be disabled by the fix, if so: only user-managed keys are the finding. */
function refusalOf(name: string, data: Json): string | undefined {
  if (isUserManaged(data)) return undefined;
  const type = keyTypeOf(data);
  if (type === 'SYSTEM_MANAGED' || type === '2') {
    return `${describe(name)} is SYSTEM_MANAGED: Google holds and rotates it, it is no user credential`;
  }
  return `${describe(name)} has key type ${type}, not USER_MANAGED: it is not the user-managed credential the policy reports`;
}

/** Everything the key says about itself; `disabled` normalised so that absent and false compare equal. */
function keyStateOf(data: Json): string {
  return canonicalJson({ ...data, disabled: isDisabled(data) });
}

async function getKey(ctx: ActionContext, name: string): Promise<Json | null> {
  const iamAdmin = await ctx.cloud.iamAdmin();
  try {
    return await iamAdmin.getServiceAccountKey(name);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading ${describe(name)}`);
  }
}

async function setDisabled(ctx: ActionContext, name: string, disabled: boolean): Promise<'done' | 'gone'> {
  const iamAdmin = await ctx.cloud.iamAdmin();
  try {
    if (disabled) await iamAdmin.disableServiceAccountKey(name);
    else await iamAdmin.enableServiceAccountKey(name);
    return 'done';
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw toWardenError(err, `${disabled ? 'disabling' : 'enabling'} ${describe(name)}`);
  }
}

/** Re-reads after a write; IAM is eventually consistent, so a read that lags is retried, not trusted. */
async function readBack(ctx: ActionContext, name: string, disabled: boolean): Promise<Json | null> {
  const data = await getKey(ctx, name);
  if (data && isDisabled(data) !== disabled) {
    throw new WardenError(
      `${describe(name)} does not read back as ${disabled ? 'disabled' : 'enabled'} yet; a retry re-reads it`,
      { retryable: true, code: 'not_visible' },
    );
  }
  return data;
}

/**
 * Fixes iam-sa-user-managed-key (CIS: only Google-managed service account keys): disables a user-managed
 * key with projects.serviceAccounts.keys.disable. The key is not deleted: a disabled key cannot
 * authenticate, and keys.enable makes it work again, which is the undo. Every workload still using the key fails to
 * authenticate from then on, hence high risk.
 *
 * Keys carry no etag and disable takes no precondition, so this is a guarded write: the key is re-read right
 * before the call, and nothing is sent unless it is still USER_MANAGED, still enabled and otherwise as
 * captured (Google flagging it as exposed, for one, changes its extendedStatus). Undo re-enables it only
 * while it is exactly as the fix left it: a key someone re-enabled, disabled again for another reason or
 * deleted is left alone.
 */
export const serviceAccountKeyDisable: RemediationAction<KeyState> = {
  id: ID,
  title: 'Disable a user-managed service account key',
  risk: 'high',
  reversible: true,
  assetTypes: [SERVICE_ACCOUNT_KEY_TYPE],

  plan(asset: Asset, _settings: ActionSettings): Plan {
    const name = keyNameOf(asset);
    const url = `${IAM_API}/${name}`;
    const refused = refusalOf(name, asset.resource?.data ?? {});
    return {
      description:
        (refused ? `Refused: ${refused}. ` : '') +
        `Disable ${describe(name)} with keys.disable, after re-reading the key and checking it is still ` +
        'USER_MANAGED, enabled and unchanged (keys carry no etag). Any workload still using this key will fail ' +
        'to authenticate as the service account from then on. The key is not deleted. Reversible: undo ' +
        're-enables the key with keys.enable, only while it is still as the fix left it.',
      requests: [
        { method: 'GET', url },
        { method: 'POST', url: `${url}:disable`, body: {} },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    const name = keyNameOf(asset);
    const data = await getKey(ctx, name);
    return data ? { name, data } : null;
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parse(rawBefore, 'before-state');
    const { name } = before;
    const guarded = await rereadBeforeApply(() => getKey(ctx, name), {
      refusal: (live) => refusalOf(name, live),
      alreadyApplied: (live) => (isDisabled(live) ? { name, data: live, unchanged: true } : undefined),
      asCaptured: (live) => keyStateOf(live) === keyStateOf(before.data),
      what: describe(name),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if ((await setDisabled(ctx, name, true)) === 'gone') return { status: 'gone' };
    const data = await readBack(ctx, name, true);
    if (!data) return { status: 'gone' };
    ctx.logger.info('service account key disabled', { action: ID, key: name });
    return { status: 'applied', after: { name, data } };
  },

  async readLive(asset, ctx) {
    const data = await getKey(ctx, keyNameOf(asset));
    return data ? withLiveData(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parse(rawBefore, 'before-state');
    const after = parse(rawAfter, 'after-state');
    if (after.unchanged) return { status: 'restored' };
    const { name } = before;
    const guarded = await rereadBeforeUndo(() => getKey(ctx, name), {
      asFixLeftIt: (live) => keyStateOf(live) === keyStateOf(after.data),
      what: describe(name),
    });
    if ('outcome' in guarded) return guarded.outcome;
    if ((await setDisabled(ctx, name, false)) === 'gone') return { status: 'gone' };
    if (!(await readBack(ctx, name, false))) return { status: 'gone' };
    ctx.logger.info('service account key enabled again', { action: ID, key: name });
    return { status: 'restored' };
  },
};
