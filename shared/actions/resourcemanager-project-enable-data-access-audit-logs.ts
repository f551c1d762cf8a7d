import {
  clone,
  iamPolicyAction,
  PROJECT_TYPE,
  targetLabel,
  type AuditConfig,
  type LogType,
  type Policy,
} from './iam-policy-edit.js';

/** What the fix turns on for allServices: CIS 2.1 needs DATA_READ and DATA_WRITE, ADMIN_READ is recommended. */
export const AUDIT_LOG_TYPES: readonly LogType[] = ['ADMIN_READ', 'DATA_READ', 'DATA_WRITE'];
const DATA_TYPES: readonly LogType[] = ['DATA_READ', 'DATA_WRITE'];

function allServices(policy: Policy): AuditConfig | undefined {
  return policy.auditConfigs?.find((c) => c.service === 'allServices');
}

function missingLogTypes(policy: Policy): LogType[] {
  const present = new Set(allServices(policy)?.auditLogConfigs.map((l) => l.logType) ?? []);
  return AUDIT_LOG_TYPES.filter((t) => !present.has(t));
}

/**
 * The project's auditConfigs with an allServices config holding every log type it lacked. Existing
 * configs, other services' configs and every exemptedMembers list are kept exactly: an exemption is a
 * deliberate human decision (e.g. a noisy ETL account), never Warden's to remove.
 */
export function withDataAccessLogs(policy: Policy): { policy: Policy; added: LogType[] } | null {
  const added = missingLogTypes(policy);
  if (added.length === 0) return null;
  const configs = clone(policy.auditConfigs ?? []);
  const existing = configs.find((c) => c.service === 'allServices');
  if (existing) existing.auditLogConfigs.push(...added.map((logType) => ({ logType })));
  else configs.push({ service: 'allServices', auditLogConfigs: added.map((logType) => ({ logType })) });
  return { policy: { ...clone(policy), auditConfigs: configs }, added };
}

/**
 * CIS 2.1 (catalog F5): enables Data Access audit logs (ADMIN_READ, DATA_READ, DATA_WRITE) for allServices in
 * the project's IAM policy: projects.getIamPolicy (version 3) → add the missing log types →
 * projects.setIamPolicy {policy: {…, version: 3, etag}, updateMask: "auditConfigs,etag"}. The mask is what
 * makes the change land: without one setIamPolicy uses "bindings, etag" and drops auditConfigs silently;
 * "etag" in it keeps the write guarded (409 ABORTED on a concurrent change). Undo writes back the previous
 * auditConfigs with the same mask while the policy is still as the fix left it. Medium risk: Data Access
 * logs can cost a lot to ingest, and Storage DATA_READ can make authenticated browser downloads fail.
 */
export const enableDataAccessAuditLogs = iamPolicyAction({
  id: 'resourcemanager.project.enable-data-access-audit-logs',
  title: 'Enable Data Access audit logs for all services on a project',
  risk: 'medium',
  assetTypes: [PROJECT_TYPE],
  mask: ['auditConfigs', 'etag'],
  refusal(policy) {
    if (missingLogTypes(policy).length > 0) return undefined;
    const exempted = (allServices(policy)?.auditLogConfigs ?? []).filter(
      (l) => DATA_TYPES.includes(l.logType) && (l.exemptedMembers?.length ?? 0) > 0,
    );
    if (exempted.length === 0) return undefined;
    return (
      `allServices already logs ${AUDIT_LOG_TYPES.join(', ')}, but ` +
      exempted.map((l) => `${l.logType} exempts ${(l.exemptedMembers ?? []).join(', ')}`).join('; ') +
      ': exemptions are a human decision and Warden never removes them'
    );
  },
  fix(policy) {
    const r = withDataAccessLogs(policy);
    return r ? { policy: r.policy, changes: r.added.map((t) => `allServices ${t}`) } : null;
  },
  restore(before, _after, live) {
    const restored: Policy = { ...clone(live) };
    if (before.policy.auditConfigs) restored.auditConfigs = clone(before.policy.auditConfigs);
    else delete restored.auditConfigs;
    return restored;
  },
  describe: (t, changes) =>
    `Enable Data Access audit logs in ${targetLabel(t)}: add ${changes.length > 0 ? changes.join(', ') : 'nothing (the known policy already has them)'} ` +
    'to the auditConfigs, keeping every existing config and exemptedMembers list. The policy is re-read ' +
    '(version 3) and written with its etag and updateMask "auditConfigs,etag" — without the mask IAM ignores ' +
    'auditConfigs (catalog F5) — so bindings are untouched and a concurrent change is refused (409 ABORTED). ' +
    'Medium risk: Data Access logs add log-ingestion cost, and Storage DATA_READ logging can make ' +
    'authenticated browser downloads fail. Reversible: undo writes back the previous auditConfigs while the ' +
    'policy is still as the fix left it.',
});
