import { decodeAuditLogEntry } from '../../shared/contracts/audit-log.js';
import { recordChangeAuthor } from '../../shared/engine/change-authors.js';
import type { Deps, HandlerResult } from '../../shared/engine/deps.js';
import { rejectMessage } from '../../shared/engine/reject.js';
import type { BusMessage } from '../../shared/ports/bus.js';

/**
 * A Cloud Audit Logs entry from the organization's log sink: who changed which resource. Kept so that the
 * person whose change a fix answers is named as its requester and can never approve it.
 */
export async function handleChangeLog(msg: BusMessage, deps: Deps): Promise<HandlerResult> {
  const decoded = decodeAuditLogEntry(msg.data.toString('utf8'));
  if (decoded.kind === 'invalid') return rejectMessage(deps, 'change-log', msg, decoded.reason);
  if (decoded.kind === 'ignored') return { status: 'ignored', reason: decoded.reason };
  const event = { ...decoded.event, at: decoded.event.at ?? deps.clock.now().toISOString() };
  if (decoded.event.at === null)
    deps.logger.warn('audit log entry without a usable time: recorded at its arrival', {
      insertId: event.insertId,
    });
  const recorded = await recordChangeAuthor(deps.repo.store, event);
  if (recorded === 'duplicate')
    return { status: 'ignored', reason: `entry ${event.insertId} already recorded` };
  return {
    status: 'done',
    detail: `${event.principal} ${event.method} on ${event.resourceNames.join(', ')} at ${event.at}`,
  };
}
