/** Topic names without the configurable prefix (design §1). */
export const TOPICS = [
  'asset-changes',
  /** Cloud Audit Logs entries from the organization's log sink: who changed what. */
  'change-log',
  'scc-findings',
  'sweeps',
  'findings',
  'approval-requests',
  'actions',
  'rollbacks',
  'outcomes',
] as const;
export type Topic = (typeof TOPICS)[number];

export function topicName(prefix: string, topic: Topic): string {
  return `${prefix}${topic}`;
}
