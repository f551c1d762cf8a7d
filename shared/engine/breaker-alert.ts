import { z } from 'zod';
import type { BreakerChange } from './circuit-breaker.js';
import type { Deps } from './deps.js';

/** Published on the outcomes topic when a circuit breaker changes state; report raises it as an alert. */
export const BreakerAlertSchema = z.object({
  kind: z.literal('breaker'),
  actionType: z.string(),
  from: z.enum(['closed', 'open', 'half_open']),
  to: z.enum(['closed', 'open', 'half_open']),
  reason: z.string(),
  at: z.string(),
});
export type BreakerAlert = z.infer<typeof BreakerAlertSchema>;

/** Logs the change (an opened breaker at ERROR, for alerting policies) and hands it to the report path. */
export async function announceBreakerChange(
  deps: Pick<Deps, 'bus' | 'logger'>,
  change: BreakerChange | null | undefined,
): Promise<void> {
  if (!change) return;
  const fields = {
    actionType: change.actionType,
    from: change.from,
    to: change.to,
    reason: change.reason,
    'logging.googleapis.com/labels': {
      alert: 'circuit-breaker',
      action_type: change.actionType,
      state: change.to,
    },
  };
  if (change.to === 'open') deps.logger.error('circuit breaker opened', fields);
  else deps.logger.info(`circuit breaker ${change.to}`, fields);
  const alert: BreakerAlert = { kind: 'breaker', ...change };
  await deps.bus.publish('outcomes', { data: alert, attributes: { kind: 'breaker' } });
}
