import {
  iamPolicyAction,
  isPublicMember,
  PROJECT_TYPE,
  removeMembersSpec,
  targetLabel,
} from './iam-policy-edit.js';

/** The roles CIS 1.7 wants granted on individual service accounts, never on the whole project. */
export const PROJECT_LEVEL_SA_ROLES = [
  'roles/iam.serviceAccountUser',
  'roles/iam.serviceAccountTokenCreator',
];

/**
 * The members policy iam-project-sa-user-token-creator flags, as its CEL says: `lower(m)` starting with
 * user:, group: or domain:, or exactly allUsers / allAuthenticatedUsers. Service accounts and deleted:
 * principals are not flagged, so they are never removed.
 */
export function isHumanMember(m: string): boolean {
  const l = m.toLowerCase();
  return l.startsWith('user:') || l.startsWith('group:') || l.startsWith('domain:') || isPublicMember(m);
}

/**
 * CIS 1.7: removes the project-level grants of roles/iam.serviceAccountUser and
 * roles/iam.serviceAccountTokenCreator to users, groups and domains (projects.setIamPolicy, updateMask
 * "bindings,etag", version 3, etag-guarded). Other members of those bindings, conditional bindings' other
 * members and every other binding stay. The removed grants are kept in the before-state; undo re-adds
 * exactly those while the policy is still as the fix left it.
 */
export const removeProjectLevelServiceAccountUserRoles = iamPolicyAction(
  removeMembersSpec({
    id: 'iam.project.remove-project-level-service-account-user-roles',
    title: 'Remove project-wide Service Account User / Token Creator grants from users and groups',
    risk: 'high',
    assetTypes: [PROJECT_TYPE],
    roleMatches: (role) => PROJECT_LEVEL_SA_ROLES.includes(role),
    memberMatches: isHumanMember,
    describe: (t, changes) =>
      `Remove from ${targetLabel(t)} the project-wide grants of Service Account User / Token Creator to ` +
      `users, groups and domains: ${changes.length > 0 ? changes.join('; ') : '(none in the known policy)'}. ` +
      'Service accounts and every other binding are kept; conditional bindings keep their condition (read and ' +
      'written as policy version 3). The policy is re-read with its etag and written with updateMask ' +
      '"bindings,etag", so a concurrent change makes IAM refuse the write (409 ABORTED) instead of being ' +
      'overwritten. High risk: deploy pipelines impersonating service accounts through these grants break ' +
      'until the roles are granted on the individual service accounts they need. Reversible: undo re-adds ' +
      'exactly the removed grants while the policy is still as the fix left it.',
  }),
);
