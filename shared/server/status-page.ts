import type { ApprovalRequest } from '../approvals/request.js';
import { approversOf } from '../approvals/request.js';
import type { Action } from '../model/action.js';
import type { Finding } from '../model/finding.js';
import type { Summary } from '../engine/summary.js';
import { esc } from './html.js';

function table(headers: string[], rows: string[][]): string {
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body || `<tr><td colspan="${headers.length}">none</td></tr>`}</tbody></table>`;
}

/** The local status page: server-rendered, refreshed every few seconds, no script needed. */
export function renderStatusPage(
  summary: Summary,
  findings: Finding[],
  actions: Action[],
  twinUrl: string | null,
  pending: Array<{ request: ApprovalRequest; action: Action | null }> = [],
): string {
  const s = summary;
  const counts = (rec: Record<string, number>) =>
    Object.entries(rec)
      .map(([k, v]) => `<span class="pill">${esc(k)} <b>${v}</b></span>`)
      .join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Warden status</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1f2328}
 h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:2rem}
 .cards{display:flex;gap:1rem;flex-wrap:wrap} .card{border:1px solid #d0d7de;border-radius:8px;padding:.8rem 1.2rem;min-width:10rem}
 .card b{font-size:1.6rem;display:block} .pill{background:#f6f8fa;border:1px solid #d0d7de;border-radius:1rem;padding:.1rem .6rem;margin-right:.3rem}
 table{border-collapse:collapse;width:100%;margin-top:.5rem} th,td{border-bottom:1px solid #d0d7de;text-align:left;padding:.3rem .5rem;vertical-align:top}
 code{font-size:12px}
</style></head><body>
<h1>Warden — embedded</h1>
<div class="cards">
 <div class="card">Compliance<b id="compliance">${esc(s.compliance.before ?? '–')}% → ${esc(s.compliance.after ?? '–')}%</b></div>
 <div class="card">Open findings<b id="open-findings">${s.findings.open}</b></div>
 <div class="card">Verified fixes<b id="verified">${s.actions.verified}</b></div>
 <div class="card">Awaiting approval<b id="awaiting">${s.actions.awaitingApproval}</b></div>
 <div class="card">Failed / rolled back<b>${s.actions.failed} / ${s.actions.rolledBack}</b></div>
</div>
<p>By severity: ${counts(s.findings.bySeverity)}</p>
<p>By layer: ${counts(s.findings.byLayer)}</p>
${twinUrl ? `<p>GCP twin: <code>${esc(twinUrl)}</code> · JSON: <a href="/api/v1/summary">/api/v1/summary</a>, <a href="/api/v1/findings">/api/v1/findings</a>, <a href="/api/v1/automation/actions">/api/v1/automation/actions</a></p>` : ''}
<h2>Waiting for approval</h2>
${table(
  ['risk', 'action', 'resource', 'approvals', 'expires', ''],
  pending.map(({ request: r, action: a }) => [
    esc(r.risk),
    esc(a?.actionType ?? r.actionId),
    `<code>${esc(a?.resourceName ?? '')}</code>`,
    `${approversOf(r).length} of ${r.requiredApprovals}`,
    esc(r.expiresAt),
    `<a href="/approvals/${esc(r.id)}">review and decide</a>`,
  ]),
)}
<h2>Open findings</h2>
${table(
  ['severity', 'layer', 'policy', 'resource'],
  findings.map((f) => [
    esc(f.severity),
    esc(f.layer),
    esc(f.policyId),
    `<code>${esc(f.resourceName)}</code>`,
  ]),
)}
<h2>Actions</h2>
${table(
  ['state', 'action', 'risk', 'resource', 'why'],
  actions.map((a) => [
    esc(a.state),
    esc(a.actionType),
    esc(a.decision.risk),
    `<code>${esc(a.resourceName)}</code>`,
    esc(a.error?.message ?? a.decision.factors.map((f) => `${f.factor}: ${f.effect}`).join('; ')),
  ]),
)}
</body></html>`;
}
