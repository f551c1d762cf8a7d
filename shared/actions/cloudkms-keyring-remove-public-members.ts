import { kmsRemovePublicMembers } from './cloudkms-remove-public-members.js';
import { KEY_RING_TYPE } from './iam-policy-edit.js';

/**
 * CIS 1.10: removes allUsers and allAuthenticatedUsers from every binding of a key ring's IAM policy, which every key in the ring inherits
 * (GET …:getIamPolicy?options.requestedPolicyVersion=3, then POST …:setIamPolicy with the etag read and
 * KMS's default update mask "bindings, etag"). Public access to a KMS key is never legitimate. Undo re-adds them.
 */
export const keyRingRemovePublicMembers = kmsRemovePublicMembers({
  id: 'cloudkms.keyring.remove-public-members',
  title: 'Remove allUsers / allAuthenticatedUsers from a Cloud KMS key ring',
  assetType: KEY_RING_TYPE,
});
