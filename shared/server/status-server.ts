import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Repository } from '../engine/repository.js';
import { summarize, type Compliance } from '../engine/summary.js';
import { ActionStateSchema } from '../model/action.js';
import { FindingStatusSchema } from '../model/finding.js';
import type { Logger } from '../ports/logger.js';
import { renderStatusPage } from './status-page.js';

export interface StatusSource {
  repo: Repository;
  compliance(): { before: Compliance | null; after: Compliance | null };
  twinUrl: string | null;
  lastSweep(): unknown;
}

const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body, null, 2));
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}

/** Read-only status page and JSON API of the embedded mode, bound to loopback only. */
export function createStatusServer(src: StatusSource, logger: Logger): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    handle(src, req, res).catch((err: unknown) => {
      logger.error('status server error', { error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) error(res, 500, 'internal', 'internal error');
    });
  });
}

async function handle(src: StatusSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET') return error(res, 405, 'method_not_allowed', 'this server is read-only');
  const q = Object.fromEntries(url.searchParams);
  const c = src.compliance();
  switch (url.pathname) {
    case '/healthz':
      return json(res, 200, { status: 'ok' });
    case '/':
    case '/index.html': {
      const summary = await summarize(src.repo, c.before, c.after);
      const findings = await src.repo.listFindings({ where: [['status', '==', 'open']], limit: 200 });
      const actions = await src.repo.listActions({
        orderBy: { field: 'updatedAt', direction: 'desc' },
        limit: 200,
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderStatusPage(summary, findings, actions, src.twinUrl));
      return;
    }
    case '/api/v1/summary':
      return json(res, 200, await summarize(src.repo, c.before, c.after));
    case '/api/v1/automation/status':
      return json(res, 200, {
        status: 'ok',
        mode: 'embedded',
        twin: src.twinUrl,
        lastSweep: src.lastSweep(),
      });
    case '/api/v1/findings': {
      const page = ListQuerySchema.safeParse(q);
      const status = q['status'] === undefined ? undefined : FindingStatusSchema.safeParse(q['status']);
      if (!page.success || (status && !status.success))
        return error(res, 400, 'invalid_query', 'limit, offset or status is invalid');
      const where = status?.success ? [['status', '==', status.data] as ['status', '==', string]] : [];
      return json(res, 200, {
        findings: await src.repo.listFindings({ where, limit: page.data.limit, offset: page.data.offset }),
      });
    }
    case '/api/v1/automation/actions': {
      const page = ListQuerySchema.safeParse(q);
      const state = q['state'] === undefined ? undefined : ActionStateSchema.safeParse(q['state']);
      if (!page.success || (state && !state.success))
        return error(res, 400, 'invalid_query', 'limit, offset or state is invalid');
      const where = state?.success ? [['state', '==', state.data] as ['state', '==', string]] : [];
      return json(res, 200, {
        actions: await src.repo.listActions({ where, limit: page.data.limit, offset: page.data.offset }),
      });
    }
    default:
      return error(res, 404, 'not_found', `no route ${url.pathname}`);
  }
}
