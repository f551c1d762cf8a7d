import { z } from 'zod';

/**
 * Internal events between functions. Each is small: the store holds the state, the event names it, so a
 * late or duplicated event is judged against the store, never trusted on its own.
 */
export const FindingEventSchema = z.object({
  kind: z.literal('finding'),
  findingId: z.string(),
  assetVersion: z.string(),
  status: z.enum(['open', 'resolved', 'suppressed']),
});
export type FindingEvent = z.infer<typeof FindingEventSchema>;

export const ActionEventSchema = z.object({
  kind: z.literal('action'),
  actionId: z.string(),
});
export type ActionEvent = z.infer<typeof ActionEventSchema>;

/**
 * An on-demand rollback asked for through the automation API in production: the rollback function, which
 * holds the execute role, restores the before-state; the API's own identity changes no resource.
 */
export const RollbackRequestSchema = z.object({
  kind: z.literal('rollback'),
  actionId: z.string().min(1),
  /** Who asked (identity key), recorded as the actor of the rollback. */
  actor: z.string().min(1),
  reason: z.string().min(1),
});
export type RollbackRequest = z.infer<typeof RollbackRequestSchema>;

export const OutcomeEventSchema = z.object({
  kind: z.literal('outcome'),
  actionId: z.string(),
  state: z.enum(['verified', 'failed', 'rolled_back', 'rejected', 'expired']),
});
export type OutcomeEvent = z.infer<typeof OutcomeEventSchema>;

/** The findings-message attribute naming who asked for the run (SweepEvent.requestedBy). */
export const REQUESTED_BY_ATTRIBUTE = 'requestedBy';

export const SweepEventSchema = z.object({
  kind: z.literal('sweep'),
  /** Absent from Cloud Scheduler's fixed payload: then the Pub/Sub message id names the run (new per publish, same on redelivery). */
  sweepId: z.string().min(1).optional(),
  /** organizations/N, folders/N or projects/X to list assets under. */
  scope: z.string(),
  category: z.enum(['all', 'compliance', 'cost', 'security']).default('all'),
  /** One resource to re-check (the API's remediate): only it is listed, evaluated and closed if gone. */
  resource: z.object({ name: z.string().min(1), assetType: z.string().min(1) }).optional(),
  /** Who asked for the run (identity key); the actions it plans name them as requester. */
  requestedBy: z.string().min(1).optional(),
});
export type SweepEvent = z.infer<typeof SweepEventSchema>;
