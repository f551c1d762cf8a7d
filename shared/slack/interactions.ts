import { z } from 'zod';

/**
 * The interaction payloads Warden acts on (https://docs.slack.dev/reference/interaction-payloads), as much
 * of them as it reads; the rest passes through. Identity is always `user.id`, never a name, and the
 * button's value is an opaque request id: everything else is looked up in the store.
 */
const User = z.object({ id: z.string().regex(/^[UW][A-Z0-9]+$/) }).loose();

export const BlockActionsSchema = z
  .object({
    type: z.literal('block_actions'),
    user: User,
    trigger_id: z.string().min(1).optional(),
    channel: z.object({ id: z.string() }).loose().optional(),
    container: z
      .object({ channel_id: z.string().optional(), message_ts: z.string().optional() })
      .loose()
      .optional(),
    actions: z
      .array(
        z
          .object({
            action_id: z.string(),
            value: z.string().max(2000).optional(),
            block_id: z.string().optional(),
          })
          .loose(),
      )
      .min(1),
  })
  .loose();
export type BlockActions = z.infer<typeof BlockActionsSchema>;

export const ViewSubmissionSchema = z
  .object({
    type: z.literal('view_submission'),
    user: User,
    view: z
      .object({
        callback_id: z.string(),
        private_metadata: z.string(),
        state: z
          .object({
            values: z.record(
              z.string(),
              z.record(z.string(), z.object({ value: z.string().nullish() }).loose()),
            ),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();
export type ViewSubmission = z.infer<typeof ViewSubmissionSchema>;

export const InteractionPayloadSchema = z.union([
  BlockActionsSchema,
  ViewSubmissionSchema,
  z.object({ type: z.string() }).loose(),
]);
