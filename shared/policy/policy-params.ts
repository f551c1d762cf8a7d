import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { WardenError } from '../model/errors.js';
import { formatSourceError, parseYamlWithLines, zodErrorsWithLines } from './yaml-source.js';

/**
 * policies/params.yaml: the organization's own settings that policies read as `params` in CEL, so a
 * platform team tunes the catalog without editing conditions.
 */
export const PolicyParamsSchema = z
  .object({
    /** Label keys every labelled resource must carry. */
    required_labels: z
      .array(z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/))
      .default(['env', 'team', 'cost-center']),
    /** Whether the organization requires customer-managed encryption keys on data services. */
    cmek_required: z.boolean().default(false),
    /** Longest allowed KMS rotation period and API key / SA key age, in days. */
    max_key_age_days: z.number().int().positive().default(90),
    /** Sources an internet-facing SSH/RDP rule may be narrowed to without being a finding (IAP). */
    trusted_source_ranges: z.array(z.string()).default(['35.235.240.0/20']),
    /**
     * The snapshot schedule (a compute resource policy, full URL or projects/P/regions/R/resourcePolicies/N)
     * a disk without one is attached to, by region. Warden never chooses a backup schedule itself: a region
     * not listed leaves its disks' findings to a human.
     */
    snapshot_schedules: z.record(z.string().regex(/^[a-z]+-[a-z]+\d+$/), z.string().min(1)).default({}),
  })
  .strict();
export type PolicyParams = z.infer<typeof PolicyParamsSchema>;

export const DEFAULT_PARAMS: PolicyParams = PolicyParamsSchema.parse({});

/** CEL sees camelCase names: params.requiredLabels, params.cmekRequired, … */
export function paramsForCel(p: PolicyParams): Record<string, unknown> {
  return {
    requiredLabels: p.required_labels,
    cmekRequired: p.cmek_required,
    maxKeyAgeDays: p.max_key_age_days,
    trustedSourceRanges: p.trusted_source_ranges,
  };
}

export async function loadPolicyParams(file: string): Promise<PolicyParams> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return DEFAULT_PARAMS;
  }
  const parsed = parseYamlWithLines(file, text);
  if (!parsed.ok)
    throw new WardenError(parsed.errors.map(formatSourceError).join('\n'), {
      retryable: false,
      code: 'bad_params',
    });
  const result = PolicyParamsSchema.safeParse(parsed.parsed.value ?? {});
  if (!result.success)
    throw new WardenError(
      zodErrorsWithLines(file, parsed.parsed, result.error).map(formatSourceError).join('\n'),
      {
        retryable: false,
        code: 'bad_params',
      },
    );
  return result.data;
}
