import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the part of Slack's Web API Warden calls (chat.postMessage, chat.update,
 * chat.postEphemeral, views.open), answering in Slack's shapes: HTTP 200 with `{ok:true, …}` or
 * `{ok:false, error}`, 429 with Retry-After when rate limited. It checks the bot token, knows its channels by
 * name and id, hands out single-use trigger ids, and records every call for tests to assert on.
 */

export interface CapturedCall {
  method: string;
  args: Record<string, unknown>;
  token: string | null;
}

export interface StandInMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** Every version, oldest first. */
  versions: Array<{ text: string; blocks: unknown[] }>;
}

type Fault = { status: 429; retryAfter: number } | { status: 500 } | { error: string };

export interface SlackStandIn {
  /** For WebClient's slackApiUrl (ends with /api/). */
  apiUrl: string;
  calls: CapturedCall[];
  messages: Map<string, StandInMessage>;
  ephemeral: Array<{ channel: string; user: string; text: string }>;
  views: Array<{ triggerId: string; view: Record<string, unknown> }>;
  issueTrigger(): string;
  failNext(method: string, fault: Fault): void;
  message(channel: string, ts: string): StandInMessage | undefined;
  close(): Promise<void>;
}

const JSON_FIELDS = new Set(['blocks', 'view', 'attachments', 'metadata']);

export async function startSlackStandIn(opts: {
  token: string;
  /** name (without #) → id */
  channels: Record<string, string>;
}): Promise<SlackStandIn> {
  const calls: CapturedCall[] = [];
  const messages = new Map<string, StandInMessage>();
  const ephemeral: SlackStandIn['ephemeral'] = [];
  const views: SlackStandIn['views'] = [];
  const triggers = new Set<string>();
  const faults = new Map<string, Fault[]>();
  let seq = 0;
  const ids = new Set(Object.values(opts.channels));
  const channelId = (c: unknown): string | null => {
    if (typeof c !== 'string') return null;
    if (ids.has(c)) return c;
    return opts.channels[c.replace(/^#/, '')] ?? null;
  };
  const nextTs = () => {
    seq += 1;
    return `1531420618.${String(seq).padStart(6, '0')}`;
  };

  const answer = (method: string, args: Record<string, unknown>): Record<string, unknown> => {
    switch (method) {
      case 'chat.postMessage': {
        const channel = channelId(args['channel']);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (typeof args['text'] !== 'string' && !Array.isArray(args['blocks']))
          return { ok: false, error: 'no_text' };
        const ts = nextTs();
        const text = String(args['text'] ?? '');
        const blocks = (args['blocks'] as unknown[]) ?? [];
        messages.set(`${channel}/${ts}`, { channel, ts, text, blocks, versions: [{ text, blocks }] });
        return { ok: true, channel, ts, message: { type: 'message', text, blocks, ts, bot_id: 'B0WARDEN' } };
      }
      case 'chat.update': {
        const channel = channelId(args['channel']);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const m = messages.get(`${channel}/${String(args['ts'])}`);
        if (!m) return { ok: false, error: 'message_not_found' };
        m.text = String(args['text'] ?? '');
        m.blocks = (args['blocks'] as unknown[]) ?? [];
        m.versions.push({ text: m.text, blocks: m.blocks });
        return { ok: true, channel, ts: m.ts, text: m.text, message: { text: m.text, blocks: m.blocks } };
      }
      case 'chat.postEphemeral': {
        const channel = channelId(args['channel']);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (typeof args['user'] !== 'string') return { ok: false, error: 'user_not_in_channel' };
        ephemeral.push({ channel, user: args['user'], text: String(args['text'] ?? '') });
        return { ok: true, message_ts: nextTs() };
      }
      case 'views.open': {
        const trigger = String(args['trigger_id'] ?? '');
        if (!triggers.delete(trigger)) return { ok: false, error: 'expired_trigger_id' };
        const view = args['view'] as Record<string, unknown>;
        views.push({ triggerId: trigger, view });
        seq += 1;
        return { ok: true, view: { id: `V${seq}`, ...view } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const raw = Buffer.concat(chunks).toString('utf8');
      const args: Record<string, unknown> = {};
      if ((req.headers['content-type'] ?? '').includes('application/json')) {
        Object.assign(args, raw ? (JSON.parse(raw) as Record<string, unknown>) : {});
      } else {
        for (const [k, v] of new URLSearchParams(raw)) args[k] = JSON_FIELDS.has(k) ? JSON.parse(v) : v;
      }
      const auth = req.headers['authorization'];
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : ((args['token'] as string) ?? null);
      calls.push({ method, args, token });
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(body));
      };
      const fault = faults.get(method)?.shift();
      if (fault) {
        if ('error' in fault) return send(200, { ok: false, error: fault.error });
        if (fault.status === 429)
          return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) });
        return send(500, { ok: false, error: 'internal_error' });
      }
      if (token !== opts.token) return send(200, { ok: false, error: 'invalid_auth' });
      send(200, answer(method, args));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    messages,
    ephemeral,
    views,
    issueTrigger() {
      seq += 1;
      const id = `${seq}.4745.standin${seq}`;
      triggers.add(id);
      return id;
    },
    failNext(method, fault) {
      faults.set(method, [...(faults.get(method) ?? []), fault]);
    },
    message(channel, ts) {
      return messages.get(`${channel}/${ts}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
