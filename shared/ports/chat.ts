import { WardenError } from '../model/errors.js';

/**
 * The Block Kit shapes Warden builds (https://docs.slack.dev/reference/block-kit). Only what the approval
 * and notification messages use; any object with a `type` is a block to Slack's client.
 */
export type TextObject =
  { type: 'mrkdwn'; text: string } | { type: 'plain_text'; text: string; emoji?: boolean };

export interface ButtonElement {
  type: 'button';
  action_id: string;
  text: { type: 'plain_text'; text: string };
  value: string;
  style?: 'primary' | 'danger';
  confirm?: {
    title: { type: 'plain_text'; text: string };
    text: TextObject;
    confirm: { type: 'plain_text'; text: string };
    deny: { type: 'plain_text'; text: string };
  };
}

export type Block =
  | { type: 'header'; block_id?: string; text: { type: 'plain_text'; text: string } }
  | { type: 'section'; block_id?: string; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; block_id?: string; elements: TextObject[] }
  | { type: 'divider'; block_id?: string }
  | { type: 'actions'; block_id: string; elements: ButtonElement[] }
  | {
      type: 'input';
      block_id: string;
      label: { type: 'plain_text'; text: string };
      element: {
        type: 'plain_text_input';
        action_id: string;
        multiline?: boolean;
        min_length?: number;
        max_length?: number;
      };
    };

export interface ModalView {
  type: 'modal';
  callback_id: string;
  private_metadata: string;
  title: { type: 'plain_text'; text: string };
  submit: { type: 'plain_text'; text: string };
  close: { type: 'plain_text'; text: string };
  blocks: Block[];
}

export interface ChatMessage {
  /** A channel id (C…, G…) or a public channel's name (#warden-approvals). */
  channel: string;
  /** The notification text and the fallback where blocks cannot be shown. */
  text: string;
  blocks: Block[];
}

/** Where a posted message lives: Slack answers with the channel's id, which chat.update needs. */
export interface PostedMessage {
  channel: string;
  ts: string;
}

/**
 * The chat service approvals and notifications go through (Slack in practice). Calls fail with a
 * `ChatError` carrying Slack's error code and whether a retry can help.
 */
export interface ChatPort {
  postMessage(message: ChatMessage): Promise<PostedMessage>;
  /** Replaces a message this app posted (chat.update); `channel` must be the id postMessage returned. */
  updateMessage(message: ChatMessage & { ts: string }): Promise<PostedMessage>;
  /** A message only `user` sees (chat.postEphemeral); cannot be updated later. */
  postEphemeral(message: { channel: string; user: string; text: string }): Promise<void>;
  /** Opens a modal (views.open); a trigger id is single-use and lives 3 seconds. */
  openModal(request: { triggerId: string; view: ModalView }): Promise<void>;
}

/** Slack's error codes that a later attempt can get past (limits, outages, timeouts). */
const TRANSIENT = new Set([
  'ratelimited',
  'rate_limited',
  'service_unavailable',
  'internal_error',
  'fatal_error',
  'request_timeout',
  'network_error',
  'http_error',
]);

export class ChatError extends WardenError {
  /** Slack's `error` value (channel_not_found, message_not_found, expired_trigger_id, …). */
  readonly slackError: string;
  constructor(slackError: string, message: string, cause?: unknown) {
    super(message, { retryable: TRANSIENT.has(slackError), code: `slack_${slackError}`, cause });
    this.name = 'ChatError';
    this.slackError = slackError;
  }
}
