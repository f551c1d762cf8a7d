import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { handleApiRequest } from '../api/automation-api.js';
import { readBody, sendJson } from '../api/http.js';
import { callerFor, type ApiDeps } from '../api/router.js';
import type { VoteTask } from '../approvals/messages.js';
import type { Repository } from '../engine/repository.js';
import { summarize, type Compliance } from '../engine/summary.js';
import { FindingStatusSchema } from '../model/finding.js';
import type { Logger } from '../ports/logger.js';
import { handleSlackInteraction, type SlackEndpointDeps } from '../slack/interaction-endpoint.js';
import { renderApprovalPage } from './approval-page.js';
import { renderStatusPage } from './status-page.js';

export interface StatusSource {
  repo: Repository;
  compliance(): { before: Compliance | null; after: Compliance | null };
  twinUrl: string | null;
  /** The automation API (bearer token), also what the approval forms call as the local user. */
  api: ApiDeps;
  /** The Slack interactivity endpoint, when Slack is configured. */
  slack: SlackEndpointDeps | null;
  /** Decides a verified Slack vote in process, after Slack has had its answer. */
  runVote(task: VoteTask): void;
}

const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const error = (res: ServerResponse, status: number, code: string, message: string) =>
  sendJson(res, status, { error: { code, message } });

/**
 * The embedded server, bound to loopback: the status page with its approval forms, the read-only summary
 * JSON, the automation API (bearer token) and, when Slack is configured, /slack/interactions.
 */
export function createStatusServer(src: StatusSource, logger: Logger): Server {
  // Forms carry this token: another site's page cannot post them (the page itself never leaves loopback).
  const csrf = randomBytes(24).toString('base64url');
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    handle(src, csrf, req, res).catch((err: unknown) => {
      logger.error('status server error', { error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) error(res, 500, 'internal', 'internal error');
    });
  });
}

async function handle(
  src: StatusSource,
  csrf: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';

  if (url.pathname === '/slack/interactions') {
    if (!src.slack)
      return error(res, 404, 'not_found', 'Slack is not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)');
    if (method !== 'POST') return error(res, 405, 'method_not_allowed', 'POST only');
    const reply = await handleSlackInteraction(
      { rawBody: await readBody(req), headers: req.headers },
      src.slack,
    );
    sendJson(res, reply.response.status, reply.response.body);
    // Slack has its answer; the vote is decided now, in this process.
    if (reply.task) src.runVote(reply.task);
    return;
  }
  if (url.pathname.startsWith('/api/v1/automation/') || url.pathname === '/api/v1/openapi.json') {
    const r = await handleApiRequest(
      {
        method,
        url: req.url ?? '/',
        headers: req.headers,
        body: method === 'GET' ? Buffer.alloc(0) : await readBody(req),
      },
      src.api,
    );
    return sendJson(res, r.status, r.body, r.headers);
  }
  const decision = /^\/approvals\/([A-Za-z0-9_-]+)\/(approve|reject)$/.exec(url.pathname);
  if (decision) {
    if (method !== 'POST') return error(res, 405, 'method_not_allowed', 'POST only');
    return decideFromForm(src, csrf, req, res, decision[1]!, decision[2] as 'approve' | 'reject');
  }
  if (method !== 'GET')
    return error(res, 405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}`);

  const page = /^\/approvals\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
  if (page) {
    const { approvals, core, rules } = src.api.approvals;
    const request = await approvals.get(page[1]!);
    if (!request) return error(res, 404, 'not_found', `no approval request ${page[1]}`);
    const action = await core.repo.getAction(request.actionId);
    const finding = action ? await core.repo.getFinding(action.findingId) : null;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      renderApprovalPage({
        request,
        action,
        finding,
        localPerson: rules.personOf({ kind: 'local' }),
        csrf,
        result: url.searchParams.get('result'),
      }),
    );
    return;
  }

  const q = Object.fromEntries(url.searchParams);
  const c = src.compliance();
  switch (url.pathname) {
    case '/healthz':
      return sendJson(res, 200, { status: 'ok' });
    case '/':
    case '/index.html': {
      const summary = await summarize(src.repo, c.before, c.after);
      const findings = await src.repo.listFindings({ where: [['status', '==', 'open']], limit: 200 });
      const actions = await src.repo.listActions({
        orderBy: { field: 'updatedAt', direction: 'desc' },
        limit: 200,
      });
      const pending = await Promise.all(
        (await src.api.approvals.approvals.pending()).map(async (request) => ({
          request,
          action: await src.repo.getAction(request.actionId),
        })),
      );
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderStatusPage(summary, findings, actions, src.twinUrl, pending));
      return;
    }
    case '/api/v1/summary':
      return sendJson(res, 200, await summarize(src.repo, c.before, c.after));
    case '/api/v1/findings': {
      const page = ListQuerySchema.safeParse(q);
      const status = q['status'] === undefined ? undefined : FindingStatusSchema.safeParse(q['status']);
      if (!page.success || (status && !status.success))
        return error(res, 400, 'invalid_query', 'limit, offset or status is invalid');
      const where = status?.success ? [['status', '==', status.data] as ['status', '==', string]] : [];
      return sendJson(res, 200, {
        findings: await src.repo.listFindings({ where, limit: page.data.limit, offset: page.data.offset }),
      });
    }
    default:
      return error(res, 404, 'not_found', `no route ${url.pathname}`);
  }
}

/** An approval form: the same API call, as the local user, after the CSRF and same-origin checks. */
async function decideFromForm(
  src: StatusSource,
  csrf: string,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  vote: 'approve' | 'reject',
): Promise<void> {
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  const given = Buffer.from(form.get('csrf') ?? '');
  const expected = Buffer.from(csrf);
  const origin = req.headers['origin'];
  const sameOrigin = origin === undefined || origin === `http://${req.headers['host']}`;
  const back = (result: string) => {
    res.writeHead(303, {
      location: `/approvals/${encodeURIComponent(id)}?result=${encodeURIComponent(result)}`,
    });
    res.end();
  };
  if (!sameOrigin || given.length !== expected.length || !timingSafeEqual(given, expected))
    return back('forbidden');
  const reason = form.get('reason')?.trim();
  const r = await handleApiRequest(
    {
      method: 'POST',
      url: `/api/v1/automation/approvals/${encodeURIComponent(id)}:${vote}`,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(reason ? { reason } : {})),
      caller: callerFor({ kind: 'local' }, src.api, 'status-page'),
    },
    src.api,
  );
  const body = r.body as { outcome?: { kind: string }; error?: { code: string } };
  back(body.outcome?.kind ?? body.error?.code ?? String(r.status));
}
