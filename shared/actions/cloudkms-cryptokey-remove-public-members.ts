import {
  CRYPTO_KEY_TYPE,
  iamPolicyAction,
  isPublicMember,
  removeMembersSpec,
  targetLabel,
} from './iam-policy-edit.js';

/**
 * CIS 1.10: removes allUsers and allAuthenticatedUsers from every binding of a crypto key's IAM policy
 * (GET …:getIamPolicy?options.requestedPolicyVersion=3, then POST …:setIamPolicy with the etag read and
 * KMS's default update mask "bindings, etag"). Public access to a KMS key is never legitimate. Undo re-adds them.
 */
export const cryptoKeyRemovePublicMembers = iamPolicyAction(
  removeMembersSpec({
    id: 'cloudkms.cryptokey.remove-public-members',
    title: 'Remove allUsers / allAuthenticatedUsers from a Cloud KMS crypto key',
    risk: 'low',
    assetTypes: [CRYPTO_KEY_TYPE],
    roleMatches: () => true,
    memberMatches: isPublicMember,
    describe: (t, changes) =>
      `Remove the public members from ${targetLabel(t)}: ${changes.length > 0 ? changes.join('; ') : '(none in the known policy)'}. ` +
      'Every other member and binding is kept (policy version 3, so conditional bindings survive); the policy ' +
      'is written with the etag read (under KMS\'s default update mask "bindings, etag"), so a concurrent change is refused with ' +
      '409 ABORTED instead of overwritten. Reversible: undo re-adds exactly the removed members while the ' +
      'policy is still as the fix left it.',
  }),
);
