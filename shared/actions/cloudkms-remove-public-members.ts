import { iamPolicyAction, isPublicMember, removeMembersSpec, targetLabel } from './iam-policy-edit.js';

/**
 * Crypto keys and key rings take the same fix (CIS 1.10): public access to KMS material is never legitimate,
 * so every public member goes, whatever its role. Both are written with setIamPolicy and the updateMask
 * "bindings,etag" (KMS's default, sent explicitly).
 */
export function kmsRemovePublicMembers(spec: { id: string; title: string; assetType: string }) {
  return iamPolicyAction(
    removeMembersSpec({
      id: spec.id,
      title: spec.title,
      risk: 'low',
      assetTypes: [spec.assetType],
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
}
