import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseYamlWithLines, zodErrorsWithLines, formatSourceError } from '../policy/yaml-source.js';
import { WardenError } from '../model/errors.js';

/** policies/automation.yaml (design §3): the risk-to-mode switches, and the guardrails known so far. */
export const AutomationConfigSchema = z
  .object({
    automation: z
      .object({
        compliance: z
          .object({
            enabled: z.boolean(),
            auto_remediate_low_risk: z.boolean(),
            auto_remediate_medium_risk_with_approval: z.boolean(),
            auto_remediate_high_risk: z.boolean(),
          })
          .strict(),
        cost_optimization: z
          .object({
            enabled: z.boolean(),
            auto_apply_threshold_dollars: z.number().nonnegative(),
            auto_apply_low_risk_only: z.boolean(),
          })
          .strict(),
        security: z
          .object({
            enabled: z.boolean(),
            auto_patch_critical: z.boolean(),
            auto_fix_public_resources: z.boolean(),
          })
          .strict(),
      })
      .strict(),
    dry_run: z.boolean().default(false),
    production_labels: z.record(z.string(), z.array(z.string())).default({ env: ['prod', 'production'] }),
  })
  .strict();
export type AutomationConfig = z.infer<typeof AutomationConfigSchema>;

export async function loadAutomationConfig(file: string): Promise<AutomationConfig> {
  const parsed = parseYamlWithLines(file, await readFile(file, 'utf8'));
  if (!parsed.ok)
    throw new WardenError(parsed.errors.map(formatSourceError).join('\n'), {
      retryable: false,
      code: 'bad_config',
    });
  const result = AutomationConfigSchema.safeParse(parsed.parsed.value);
  if (!result.success) {
    const errors = zodErrorsWithLines(file, parsed.parsed, result.error);
    throw new WardenError(errors.map(formatSourceError).join('\n'), { retryable: false, code: 'bad_config' });
  }
  return result.data;
}
