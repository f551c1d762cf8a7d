import {
  FOLDER_TYPE,
  iamPolicyAction,
  ORGANIZATION_TYPE,
  PROJECT_TYPE,
  removeMembersSpec,
  targetLabel,
} from './iam-policy-edit.js';

/** `b.role in ["roles/owner", "roles/editor"] || lower(b.role).contains("admin")` (CIS 1.6). */
export function isAdminRole(role: string): boolean {
  return role === 'roles/owner' || role === 'roles/editor' || role.toLowerCase().includes('admin');
}

const USER_MANAGED_SA = /^serviceaccount:[^@]+@[^@]+\.iam\.gserviceaccount\.com$/;
const SERVICE_AGENT_SA = /^serviceaccount:(service-(org-|folder-)?[0-9]+|[pof][0-9]+-[0-9]+|bq-[0-9]+)@.*$/;
const GCP_SA_DOMAIN = /^serviceaccount:[^@]+@gcp-sa-[^@]*$/;
const DEFAULT_COMPUTE_SA = /^serviceaccount:[0-9]+-compute@developer\.gserviceaccount\.com$/;
const APPSPOT_SA = /^serviceaccount:[^@]+@appspot\.gserviceaccount\.com$/;

/**
 * The members policy iam-service-account-admin-privileges flags, its CEL condition in TypeScript: a
 * user-managed service account (PROJECT_ID.iam.gserviceaccount.com, minus Google's service agents
 * service-N@, service-org-/service-folder-N@, pN-N@/oN-N@/fN-N@ log sink writers, bq-N@ and gcp-sa-*
 * domains), or the user-managed default accounts N-compute@developer… and …@appspot…. The Google APIs
 * service agent N@cloudservices.gserviceaccount.com and deleted: members never match.
 */
export function isUserManagedServiceAccount(member: string): boolean {
  const m = member.toLowerCase();
  return (
    (USER_MANAGED_SA.test(m) && !SERVICE_AGENT_SA.test(m) && !GCP_SA_DOMAIN.test(m)) ||
    DEFAULT_COMPUTE_SA.test(m) ||
    APPSPOT_SA.test(m)
  );
}

/**
 * CIS 1.6: removes exactly the grants policy iam-service-account-admin-privileges flags (owner, editor or
 * *admin* roles held by user-managed service accounts) from a project, folder or organization IAM policy,
 * with the etag read and updateMask "bindings,etag" (version 3 so conditional bindings survive). Removing a
 * service account's role breaks the automation that relies on it and choosing its least-privilege
 * replacement is a human decision, so this is high risk: it runs only with a human's approval, and the
 * plan lists every grant it removes. Reversible: undo re-adds exactly those grants.
 */
export const removeServiceAccountAdminRoles = iamPolicyAction(
  removeMembersSpec({
    id: 'resourcemanager.iam.remove-service-account-admin-roles',
    title: 'Remove owner, editor and admin roles from user-managed service accounts',
    risk: 'high',
    assetTypes: [PROJECT_TYPE, FOLDER_TYPE, ORGANIZATION_TYPE],
    roleMatches: isAdminRole,
    memberMatches: isUserManagedServiceAccount,
    describe: (t, changes) =>
      `Remove from ${targetLabel(t)} these grants of owner, editor or admin roles to user-managed service ` +
      `accounts: ${changes.length > 0 ? changes.join('; ') : '(none in the known policy)'}. ` +
      'Google-managed service agents (the Google APIs service agent NUMBER@cloudservices…, service-NUMBER@…, ' +
      'gcp-sa-* accounts, log sink writers) and every other binding are kept; conditional bindings keep ' +
      'their condition (policy version 3). Before approving, grant each account the least-privilege roles it ' +
      'really uses (IAM Recommender): whatever relies on these roles breaks once they are gone. The policy is ' +
      'written with the etag read and updateMask "bindings,etag" (409 ABORTED on a concurrent change, nothing ' +
      'overwritten). Reversible: undo re-adds exactly the removed grants while the policy is still as the fix ' +
      'left it.',
  }),
);
