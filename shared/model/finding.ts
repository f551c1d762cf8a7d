import { z } from 'zod';
import { CategorySchema, LayerSchema, RiskSchema, SeveritySchema } from './policy.js';

export const FindingStatusSchema = z.enum(['open', 'resolved', 'suppressed']);
export type FindingStatus = z.infer<typeof FindingStatusSchema>;

export const RemediationRefSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('action'), action: z.string(), risk: RiskSchema }),
  z.object({ kind: z.literal('recommendation'), text: z.string() }),
]);
export type RemediationRef = z.infer<typeof RemediationRefSchema>;

/** A policy violated by one resource. id = hash(policyId, resourceName): one finding per pair, ever. */
export const FindingSchema = z.object({
  id: z.string(),
  policyId: z.string(),
  title: z.string(),
  resourceName: z.string(),
  assetType: z.string(),
  project: z.string().nullable(),
  ancestors: z.array(z.string()),
  severity: SeveritySchema,
  layer: LayerSchema,
  category: CategorySchema,
  status: FindingStatusSchema,
  remediation: RemediationRefSchema.nullable(),
  /** Fields of the asset that made the verdict. */
  evidence: z.record(z.string(), z.unknown()),
  /** The change time of the asset state this verdict was made on: later verdicts only replace it. */
  assetVersion: z.string(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  resolvedAt: z.string().nullable(),
  suppressedReason: z.string().nullable().default(null),
  source: z.enum(['feed', 'sweep', 'scc', 'verify']),
});
export type Finding = z.infer<typeof FindingSchema>;
