import { ErrorCode, LogLevel, WebClient, type RetryOptions } from '@slack/web-api';
import {
  ChatError,
  type ChatMessage,
  type ChatPort,
  type ModalView,
  type PostedMessage,
} from '../ports/chat.js';

export interface SlackChatOptions {
  botToken: string;
  /** Slack's Web API base (https://slack.com/api/); tests point it at a local stand-in. */
  slackApiUrl?: string;
  /**
   * The client's own retries: none by default. A retried chat.postMessage whose first attempt timed out
   * but landed posts twice (Slack has no idempotency key); Pub/Sub redelivery and the approval tick retry
   * instead, behind the request's posting claim, and an interaction's 3 seconds leave no room for backoff.
   */
  retryConfig?: RetryOptions;
  timeoutMs?: number;
}

/** The chat port over Slack's Web API with the official client. */
export function createSlackChat(opts: SlackChatOptions): ChatPort {
  const client = new WebClient(opts.botToken, {
    ...(opts.slackApiUrl ? { slackApiUrl: opts.slackApiUrl } : {}),
    retryConfig: opts.retryConfig ?? { retries: 0 },
    // A rate-limited call fails at once (retryable) instead of sleeping inside a function invocation.
    rejectRateLimitedCalls: true,
    timeout: opts.timeoutMs ?? 5000,
    logLevel: LogLevel.ERROR,
  });

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toChatError(what, err);
    }
  }

  return {
    async postMessage(message: ChatMessage): Promise<PostedMessage> {
      const r = await call('chat.postMessage', () =>
        client.chat.postMessage({ channel: message.channel, text: message.text, blocks: message.blocks }),
      );
      if (!r.channel || !r.ts) throw new ChatError('invalid_response', 'chat.postMessage returned no ts');
      return { channel: r.channel, ts: r.ts };
    },
    async updateMessage(message: ChatMessage & { ts: string }): Promise<PostedMessage> {
      const r = await call('chat.update', () =>
        client.chat.update({
          channel: message.channel,
          ts: message.ts,
          text: message.text,
          blocks: message.blocks,
        }),
      );
      return { channel: r.channel ?? message.channel, ts: r.ts ?? message.ts };
    },
    async postEphemeral(message: { channel: string; user: string; text: string }): Promise<void> {
      await call('chat.postEphemeral', () =>
        client.chat.postEphemeral({ channel: message.channel, user: message.user, text: message.text }),
      );
    },
    async openModal(request: { triggerId: string; view: ModalView }): Promise<void> {
      await call('views.open', () =>
        client.views.open({ trigger_id: request.triggerId, view: request.view }),
      );
    },
  };
}

function toChatError(what: string, err: unknown): ChatError {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; message?: string };
  switch (e.code) {
    case ErrorCode.PlatformError: {
      const slackError = e.data?.error ?? 'unknown_error';
      return new ChatError(slackError, `${what}: ${slackError}`, err);
    }
    case ErrorCode.RateLimitedError:
      return new ChatError('ratelimited', `${what}: rate limited`, err);
    case ErrorCode.HTTPError: {
      const status = e.statusCode ?? 0;
      const transient = status >= 500 || status === 408 || status === 429;
      return new ChatError(transient ? 'http_error' : `http_${status}`, `${what}: HTTP ${status}`, err);
    }
    case ErrorCode.RequestError:
      return new ChatError('network_error', `${what}: ${e.message ?? 'request failed'}`, err);
    default:
      return new ChatError('unknown_error', `${what}: ${e.message ?? String(err)}`, err);
  }
}
