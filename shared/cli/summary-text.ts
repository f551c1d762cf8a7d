import type { SweepReport } from '../../functions/detect/handle-sweep.js';
import type { Summary } from '../engine/summary.js';

function list(rec: Record<string, number>): string {
  return Object.entries(rec)
    .map(([k, v]) => `${k} ${v}`)
    .join(' · ');
}

export function formatSummary(s: Summary, sweep: SweepReport): string {
  const a = s.actions;
  return [
    '',
    `Findings     ${s.findings.total} total (${s.findings.open} open, ${s.findings.resolved} resolved, ${s.findings.suppressed} suppressed)`,
    `  severity   ${list(s.findings.bySeverity)}`,
    `  layer      ${list(s.findings.byLayer)}`,
    `Actions      verified ${a.verified} · awaiting approval ${a.awaitingApproval} · failed ${a.failed} · rolled back ${a.rolledBack} · recommended only ${a.recommended} · in progress ${a.inProgress}`,
    `Compliance   ${s.compliance.before ?? '–'}% → ${s.compliance.after ?? '–'}% of ${sweep.evaluations} policy checks on ${sweep.assets} assets`,
    '',
  ].join('\n');
}
