import {
  iamPolicyAction,
  isPublicMember,
  removeMembersSpec,
  SECRET_TYPE,
  targetLabel,
} from './iam-policy-edit.js';

/**
 * Removes allUsers and allAuthenticatedUsers from a secret's IAM policy (secrets.getIamPolicy with
 * requestedPolicyVersion 3, then secrets.setIamPolicy {policy: {version: 3, etag, bindings}} with updateMask
 * "bindings,etag", the default mask spelled out). Undo re-adds them.
 */
export const secretRemovePublicMembers = iamPolicyAction(
  removeMembersSpec({
    id: 'secretmanager.secret.remove-public-members',
    title: 'Remove allUsers / allAuthenticatedUsers from a Secret Manager secret',
    risk: 'low',
    assetTypes: [SECRET_TYPE],
    roleMatches: () => true,
    memberMatches: isPublicMember,
    describe: (t, changes) =>
      `Remove the public members from ${targetLabel(t)}: ${changes.length > 0 ? changes.join('; ') : '(none in the known policy)'}. ` +
      'Every other member and binding is kept (policy version 3, so conditional bindings survive); the policy ' +
      'is written with the etag read, so a concurrent change is refused with 409 ABORTED instead of ' +
      'overwritten. Reversible: undo re-adds exactly the removed members while the policy is still as the fix ' +
      'left it.',
  }),
);
