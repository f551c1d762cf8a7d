import { cryptoKeyRemovePublicMembers } from './cloudkms-cryptokey-remove-public-members.js';
import { cryptoKeySetRotationPeriod } from './cloudkms-cryptokey-set-rotation-period.js';
import { keyRingRemovePublicMembers } from './cloudkms-keyring-remove-public-members.js';
import type { RemediationAction } from './types.js';

/** Cloud KMS remediations (key rotation, key and key ring IAM). */
export const KMS_ACTIONS: RemediationAction[] = [
  cryptoKeySetRotationPeriod,
  cryptoKeyRemovePublicMembers,
  keyRingRemovePublicMembers,
];
