import {
  ChatError,
  type ChatMessage,
  type ChatPort,
  type ModalView,
  type PostedMessage,
} from '../ports/chat.js';

export interface StoredChatMessage extends ChatMessage {
  ts: string;
  /** Every version the message went through, oldest first (the first is what was posted). */
  history: ChatMessage[];
}

/**
 * The chat port in memory, with Slack's rules: unknown channels and messages are errors, channels are
 * answered by id, a trigger id opens one modal only. Tests read what was said from it.
 */
export class MemoryChat implements ChatPort {
  readonly messages = new Map<string, StoredChatMessage>();
  readonly ephemeral: Array<{ channel: string; user: string; text: string }> = [];
  readonly modals: Array<{ triggerId: string; view: ModalView }> = [];
  private readonly channels: Map<string, string>;
  private readonly triggers = new Set<string>();
  private readonly faults: Array<{ method: string; error: string }> = [];
  private seq = 0;

  /** channels: name (without #) → id. */
  constructor(channels: Record<string, string> = {}) {
    this.channels = new Map(Object.entries(channels));
  }

  private channelId(channel: string): string {
    const ids = new Set(this.channels.values());
    if (ids.has(channel)) return channel;
    const id = this.channels.get(channel.replace(/^#/, ''));
    if (!id) throw new ChatError('channel_not_found', `channel ${channel} not found`);
    return id;
  }

  /** The next call of `method` (postMessage, updateMessage, …) fails with Slack's `error`. */
  failNext(method: keyof ChatPort, error: string): void {
    this.faults.push({ method, error });
  }

  private fault(method: keyof ChatPort): void {
    const i = this.faults.findIndex((f) => f.method === method);
    if (i < 0) return;
    const [f] = this.faults.splice(i, 1);
    throw new ChatError(f!.error, `${method}: ${f!.error}`);
  }

  /** A trigger id as Slack puts in an interaction payload. */
  issueTrigger(): string {
    this.seq += 1;
    const id = `${this.seq}.1.memory-trigger`;
    this.triggers.add(id);
    return id;
  }

  async postMessage(message: ChatMessage): Promise<PostedMessage> {
    this.fault('postMessage');
    const channel = this.channelId(message.channel);
    this.seq += 1;
    const ts = `1700000000.${String(this.seq).padStart(6, '0')}`;
    const stored = { ...structuredClone(message), channel, ts, history: [structuredClone(message)] };
    this.messages.set(`${channel}/${ts}`, stored);
    return { channel, ts };
  }

  async updateMessage(message: ChatMessage & { ts: string }): Promise<PostedMessage> {
    this.fault('updateMessage');
    const stored = this.messages.get(`${message.channel}/${message.ts}`);
    if (!stored) throw new ChatError('message_not_found', `no message ${message.ts} in ${message.channel}`);
    stored.text = message.text;
    stored.blocks = structuredClone(message.blocks);
    stored.history.push(
      structuredClone({ channel: message.channel, text: message.text, blocks: message.blocks }),
    );
    return { channel: message.channel, ts: message.ts };
  }

  async postEphemeral(message: { channel: string; user: string; text: string }): Promise<void> {
    this.fault('postEphemeral');
    this.ephemeral.push({ ...message, channel: this.channelId(message.channel) });
  }

  async openModal(request: { triggerId: string; view: ModalView }): Promise<void> {
    this.fault('openModal');
    if (!this.triggers.delete(request.triggerId))
      throw new ChatError('expired_trigger_id', `trigger ${request.triggerId} is unknown or used`);
    this.modals.push(structuredClone(request));
  }

  /** Messages in posting order. */
  list(): StoredChatMessage[] {
    return [...this.messages.values()];
  }
}
