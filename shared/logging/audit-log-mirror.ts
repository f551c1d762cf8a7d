import type { AuditRecord } from '../engine/audit-chain.js';
import type { AuditSink } from '../engine/repository.js';
import type { Logger } from '../ports/logger.js';
import { stableId } from '../ports/ids.js';

/**
 * Mirrors each committed audit record as one structured log line. Cloud Logging indexes the labels and
 * de-duplicates on insertId, so a record logged twice (a retried function) appears once. The trace groups
 * every record of one subject (a finding, an action) in Logs Explorer; it needs the project id to be a
 * Cloud Trace name, so without one (local runs) it is left out.
 */
export function auditLogMirror(logger: Logger, projectId?: string): AuditSink {
  return (r: AuditRecord) =>
    logger.info('audit record', {
      audit: {
        seq: r.seq,
        at: r.at,
        actor: r.actor,
        kind: r.kind,
        subject: r.subject,
        reason: r.reason,
        hash: r.hash,
        prevHash: r.prevHash,
      },
      'logging.googleapis.com/labels': { audit_kind: r.kind, actor: r.actor },
      'logging.googleapis.com/insertId': `warden-audit-${r.seq}`,
      ...(projectId
        ? { 'logging.googleapis.com/trace': `projects/${projectId}/traces/${stableId('audit', r.subject)}` }
        : {}),
    });
}
