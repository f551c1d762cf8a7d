import type { ApprovalRequest } from '../approvals/request.js';
import { approversOf } from '../approvals/request.js';
import type { Action } from '../model/action.js';
import type { Finding } from '../model/finding.js';
import { consoleLink } from '../slack/console-link.js';
import { esc } from './html.js';

const RESULTS: Record<string, string> = {
  approved: 'Approved: Warden is applying the change.',
  pending: 'Your approval counted; more approvers are needed.',
  rejected: 'Rejected: nothing will be changed.',
  not_an_approver: 'You are not an approver for this change. Nothing was changed.',
  self_approval: 'You asked for this change, so you cannot approve it. Nothing was changed.',
  already_voted: 'You have already voted on this request. Nothing was changed.',
  already_decided: 'This request was already decided. Nothing was changed.',
  expired: 'This request has expired: it failed closed and nothing was changed.',
  reason_required: 'A rejection needs a reason.',
  invalid_body: 'A rejection needs a reason.',
  not_found: 'There is no such approval request.',
  forbidden: 'The form was not accepted (stale page or another site): reload and try again.',
};

/**
 * One approval request, with the exact change and Approve / Reject forms acting as the local user (the
 * rules of approvals.yaml apply as in Slack). No auto-refresh here: a reason being typed must not be lost.
 */
export function renderApprovalPage(input: {
  request: ApprovalRequest;
  action: Action | null;
  finding: Finding | null;
  localPerson: string | null;
  csrf: string;
  result: string | null;
}): string {
  const { request: r, action: a, finding: f } = input;
  const approvers = approversOf(r);
  const plan = a
    ? a.plan.requests
        .map(
          (q) => `${q.method} ${q.url}${q.body === undefined ? '' : `\n${JSON.stringify(q.body, null, 2)}`}`,
        )
        .join('\n\n')
    : '';
  const result = input.result ? (RESULTS[input.result] ?? input.result) : null;
  const forms =
    r.status === 'pending'
      ? `<h2>Decide</h2>
<p>You act as <b>${esc(input.localPerson ?? 'nobody (set local_approver in policies/approvals.yaml)')}</b>.</p>
<form method="post" action="/approvals/${esc(r.id)}/approve">
 <input type="hidden" name="csrf" value="${esc(input.csrf)}">
 <button type="submit" id="approve">Approve</button>
</form>
<form method="post" action="/approvals/${esc(r.id)}/reject">
 <input type="hidden" name="csrf" value="${esc(input.csrf)}">
 <label>Reason (required)<br><textarea name="reason" required minlength="3" rows="3" cols="60"></textarea></label><br>
 <button type="submit" id="reject">Reject</button>
</form>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Approval ${esc(r.id.slice(0, 8))} · Warden</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1f2328;max-width:60rem}
 pre{background:#f6f8fa;padding:.8rem;overflow:auto} .result{border:1px solid #d0d7de;padding:.6rem;border-radius:6px;background:#fff8c5}
 th{text-align:left;padding-right:1rem;vertical-align:top} form{margin:.8rem 0}
</style></head><body>
<p><a href="/">← status</a></p>
<h1>${esc(f?.title ?? a?.policyId ?? r.actionId)}</h1>
${result ? `<p class="result" id="result">${esc(result)}</p>` : ''}
<table>
 <tr><th>Status</th><td id="status">${esc(r.status)}${r.outcomeReason ? ` — ${esc(r.outcomeReason)}` : ''}</td></tr>
 <tr><th>Resource</th><td>${a ? `<a href="${esc(consoleLink(a.resourceName, a.assetType, a.project))}"><code>${esc(a.resourceName)}</code></a>` : ''}</td></tr>
 <tr><th>Risk</th><td>${esc(r.risk)}</td></tr>
 <tr><th>Why</th><td>${a ? a.decision.factors.map((x) => `${esc(x.factor)}: ${esc(x.effect)}`).join('<br>') : ''}</td></tr>
 <tr><th>Requested by</th><td>${esc(r.requester.join(', '))}</td></tr>
 <tr><th>Teams</th><td>${esc(r.teams.join(', ') || 'none')}</td></tr>
 <tr><th>Approvals</th><td id="approvals">${approvers.length} of ${r.requiredApprovals}${approvers.length ? `: ${esc(approvers.join(', '))}` : ''}</td></tr>
 <tr><th>Expires</th><td>${esc(r.expiresAt)}</td></tr>
</table>
<h2>The change</h2>
<p>${esc(a?.plan.description ?? '')}</p>
<pre>${esc(plan)}</pre>
<h2>Votes</h2>
<ul>${r.votes.map((v) => `<li>${esc(v.person)} ${esc(v.vote)} via ${esc(v.via)} at ${esc(v.at)}${v.reason ? `: ${esc(v.reason)}` : ''}</li>`).join('') || '<li>none yet</li>'}</ul>
${forms}
</body></html>`;
}
