import { kmsRemovePublicMembers } from './cloudkms-remove-public-members.js';
import { CRYPTO_KEY_TYPE } from './iam-policy-edit.js';

/**
 * CIS 1.10: removes allUsers and allAuthenticatedUsers from every binding of a crypto key's IAM policy
 * (GET …:getIamPolicy?options.requestedPolicyVersion=3, then POST …:setIamPolicy with the etag read and
 * KMS's default update mask "bindings, etag"). Public access to a KMS key is never legitimate. Undo re-adds them.
 */
export const cryptoKeyRemovePublicMembers = kmsRemovePublicMembers({
  id: 'cloudkms.cryptokey.remove-public-members',
  title: 'Remove allUsers / allAuthenticatedUsers from a Cloud KMS crypto key',
  assetType: CRYPTO_KEY_TYPE,
});
