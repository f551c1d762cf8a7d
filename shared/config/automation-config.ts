import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseYamlWithLines, zodErrorsWithLines, formatSourceError } from '../policy/yaml-source.js';
import { WardenError } from '../model/errors.js';

const validTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
const TimeZoneSchema = z.string().refine(validTimeZone, 'not an IANA time zone (e.g. Europe/Paris, UTC)');

/** With an offset (Z, +01:00): an instant. Without: a wall-clock time in the window's time_zone. */
const DateTimeSchema = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/,
    'a date (2026-12-20) or date-time (2026-12-20T18:00, 2026-12-20T18:00:00Z)',
  );
const ClockTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a time of day HH:MM');
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const hasOffset = (t: string): boolean => /(Z|[+-]\d{2}:\d{2})$/.test(t);
/** A wall-clock date-time as YYYY-MM-DDTHH:MM:SS, so that two of them compare as strings. */
export function wallClock(t: string): string {
  const [date, time = '00:00:00'] = t.split('T');
  return `${date}T${`${time.split('.')[0]}:00:00`.slice(0, 8)}`;
}

const DateRangeFreezeSchema = z
  .object({
    start: DateTimeSchema,
    end: DateTimeSchema,
    /** Used when start/end carry no offset; default UTC. */
    time_zone: TimeZoneSchema.default('UTC'),
    reason: z.string().min(3),
  })
  .strict()
  .refine((w) => hasOffset(w.start) === hasOffset(w.end), {
    message: 'start and end must both carry an offset, or neither (then they are read in time_zone)',
  })
  .refine(
    (w) =>
      hasOffset(w.start) !== hasOffset(w.end) ||
      (hasOffset(w.start) ? Date.parse(w.start) < Date.parse(w.end) : wallClock(w.start) < wallClock(w.end)),
    { message: 'end must be after start' },
  );
const WeeklyFreezeSchema = z
  .object({
    /** From `from` on each listed day until `to` (the next day when `to` is not after `from`). */
    weekly: z
      .object({ days: z.array(z.enum(WEEKDAYS)).min(1), from: ClockTimeSchema, to: ClockTimeSchema })
      .strict(),
    time_zone: TimeZoneSchema.default('UTC'),
    reason: z.string().min(3),
  })
  .strict();
export const FreezeWindowSchema = z.union([DateRangeFreezeSchema, WeeklyFreezeSchema]);
export type FreezeWindow = z.infer<typeof FreezeWindowSchema>;

const RateLimitSchema = z
  .object({ max: z.number().int().nonnegative(), window_minutes: z.number().positive() })
  .strict();
export type RateLimit = z.infer<typeof RateLimitSchema>;

export const CircuitBreakerSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The window: the last `window_outcomes` outcomes of the action type, none older than `window_minutes`. */
    window_outcomes: z.number().int().positive().default(20),
    window_minutes: z.number().positive().default(60),
    /** Fewer outcomes than this in the window never open the breaker. */
    min_outcomes: z.number().int().positive().default(5),
    /** Share (0..1] of failed or rolled-back outcomes in the window that opens the breaker. */
    failure_rate: z.number().gt(0).max(1).default(0.5),
    /** After this long open, one action is let through as a probe; its success closes the breaker. */
    cooldown_minutes: z.number().positive().default(30),
  })
  .strict();
export type CircuitBreakerConfig = z.infer<typeof CircuitBreakerSchema>;

export const GuardrailsSchema = z
  .object({
    rate_limits: z
      .object({
        per_project: RateLimitSchema.optional(),
        per_action_type: RateLimitSchema.optional(),
        /** Overrides of per_action_type for named action types. */
        by_action_type: z.record(z.string(), RateLimitSchema).default({}),
      })
      .strict()
      .default({ by_action_type: {} }),
    circuit_breaker: CircuitBreakerSchema.default(CircuitBreakerSchema.parse({})),
    freeze: z.array(FreezeWindowSchema).default([]),
    /** One policy may fix at most this many resources, or this share of the resources it flagged, per sweep. */
    per_run_cap: z
      .object({
        max_resources: z.number().int().nonnegative().optional(),
        max_percent: z.number().min(0).max(100).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type GuardrailsConfig = z.infer<typeof GuardrailsSchema>;

/** policies/automation.yaml (design §3): the risk-to-mode switches, risk factors and guardrails. */
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
    /** Instances a firewall rule or service account reaches, or IAM bindings a change removes or alters. */
    blast_radius: z
      .object({
        /** Above this many, the risk is raised one level. */
        raise_above: z.number().int().nonnegative().default(10),
        /** Above this many, the change is never made without a human. */
        approve_above: z.number().int().nonnegative().default(50),
      })
      .strict()
      .default({ raise_above: 10, approve_above: 50 }),
    guardrails: GuardrailsSchema.default(GuardrailsSchema.parse({})),
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
