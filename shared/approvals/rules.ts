import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { WardenError } from '../model/errors.js';
import { RISKS, RiskSchema, type Risk } from '../model/policy.js';
import {
  formatSourceError,
  parseYamlWithLines,
  zodErrorsWithLines,
  type SourceError,
} from '../policy/yaml-source.js';
import { identityKey, parseIdentityKey, type Identity } from './identity.js';

const ScopeSchema = z.string().regex(/^(organizations|folders|projects)\/[a-z0-9-]+$/, {
  message: 'expected organizations/N, folders/N or projects/N',
});
const DurationSchema = z
  .string()
  .regex(/^\d+(m|h|d)$/, { message: 'expected a duration such as 90m, 24h or 3d' })
  .transform((s) => Number.parseInt(s, 10) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[s.slice(-1) as 'm']);
const ChannelSchema = z.string().regex(/^(#[a-z0-9._-]+|[CG][A-Z0-9]+)$/, {
  message: 'expected a channel id (C…) or #name',
});
const ALL_TEAMS = '*';
const Quorum = z.number().int().min(1).max(10);

const PersonSchema = z
  .object({
    slack: z
      .string()
      .regex(/^[UW][A-Z0-9]+$/, { message: 'expected a Slack user id (U…)' })
      .optional(),
    google: z.email().optional(),
  })
  .strict();

const GroupSchema = z
  .object({
    members: z.array(z.string()).min(1),
    /** Team names, or "*" for every resource. */
    teams: z.array(z.string()).min(1),
    /** The risk levels this group may approve. */
    risks: z.array(RiskSchema).min(1),
  })
  .strict();

const TeamSchema = z
  .object({
    /** Projects (by number), folders or the organization the team owns. */
    scope: z.array(ScopeSchema).min(1),
    channel: ChannelSchema.optional(),
  })
  .strict();

export const ApprovalsFileSchema = z
  .object({
    people: z.record(z.string().regex(/^[a-z][a-z0-9._-]*$/), PersonSchema).prefault({}),
    groups: z.record(z.string(), GroupSchema).prefault({}),
    teams: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), TeamSchema).prefault({}),
    /** Distinct approvers needed, snapshotted on each request when it is made. */
    quorum: z
      .object({ low: Quorum.prefault(1), medium: Quorum.prefault(1), high: Quorum.prefault(2) })
      .strict()
      .prefault({}),
    /** How long a request waits before it expires and fails closed. */
    expiry: z
      .object({
        low: DurationSchema.prefault('24h'),
        medium: DurationSchema.prefault('24h'),
        high: DurationSchema.prefault('72h'),
      })
      .strict()
      .prefault({}),
    /**
     * Who changed the resource (Cloud Audit Logs) from this long before its finding opened counts as the
     * change's author: named as requester, never an approver of the fix.
     */
    author_lookback: DurationSchema.prefault('24h'),
    channels: z
      .object({
        default: ChannelSchema,
        /** Overrides by project or folder; the nearest ancestor of the resource wins, then the team's. */
        scopes: z.record(ScopeSchema, ChannelSchema).prefault({}),
      })
      .strict(),
    notifications: z
      .object({
        channel: ChannelSchema.optional(),
        /** Actions taken automatically are reported at most once per window, in one message. */
        batch_minutes: z.number().int().min(1).max(1440).default(15),
        daily_digest: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** The person the embedded mode's status page, CLI and API token act as. */
    local_approver: z.string().optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const people = new Set(Object.keys(f.people));
    for (const [g, group] of Object.entries(f.groups)) {
      group.members.forEach((m, i) => {
        if (!people.has(m))
          ctx.addIssue({ code: 'custom', path: ['groups', g, 'members', i], message: `unknown person ${m}` });
      });
      group.teams.forEach((t, i) => {
        if (t !== ALL_TEAMS && !(t in f.teams))
          ctx.addIssue({ code: 'custom', path: ['groups', g, 'teams', i], message: `unknown team ${t}` });
      });
    }
    for (const field of ['slack', 'google'] as const) {
      const seen = new Map<string, string>();
      for (const [name, p] of Object.entries(f.people)) {
        const v = p[field]?.toLowerCase();
        if (!v) continue;
        if (seen.has(v))
          ctx.addIssue({
            code: 'custom',
            path: ['people', name, field],
            message: `${field} identity ${p[field]} is also ${seen.get(v)}'s`,
          });
        seen.set(v, name);
      }
    }
    if (f.local_approver !== undefined && !people.has(f.local_approver))
      ctx.addIssue({
        code: 'custom',
        path: ['local_approver'],
        message: `unknown person ${f.local_approver}`,
      });
  });
export type ApprovalsFile = z.output<typeof ApprovalsFileSchema>;

/** policies/approvals.yaml, validated, with the questions the approval logic asks of it. */
export class ApprovalRules {
  private readonly bySlack = new Map<string, string>();
  private readonly byGoogle = new Map<string, string>();

  constructor(
    readonly file: ApprovalsFile,
    readonly source: string,
  ) {
    for (const [name, p] of Object.entries(file.people)) {
      if (p.slack) this.bySlack.set(p.slack, name);
      if (p.google) this.byGoogle.set(p.google.toLowerCase(), name);
    }
  }

  /** The person an identity (or its key, or person:NAME) belongs to; null for strangers. */
  personOf(who: Identity | string): string | null {
    if (typeof who === 'string') {
      if (who.startsWith('person:')) return who.slice(7) in this.file.people ? who.slice(7) : null;
      const parsed = parseIdentityKey(who);
      return parsed ? this.personOf(parsed) : null;
    }
    switch (who.kind) {
      case 'slack':
        return this.bySlack.get(who.userId) ?? null;
      case 'google':
        return this.byGoogle.get(who.email.toLowerCase()) ?? null;
      case 'local':
        return this.file.local_approver ?? null;
    }
  }

  /** Every identity key a person is known by (for self-approval checks against raw requesters). */
  keysOf(person: string): string[] {
    const p = this.file.people[person];
    if (!p) return [];
    const keys = [`person:${person}`];
    if (p.slack) keys.push(identityKey({ kind: 'slack', userId: p.slack }));
    if (p.google) keys.push(identityKey({ kind: 'google', email: p.google }));
    if (this.file.local_approver === person) keys.push('local');
    return keys;
  }

  slackIdOf(person: string): string | null {
    return this.file.people[person]?.slack ?? null;
  }

  /** The teams owning a resource, given its project and ancestors. */
  teamsFor(scope: readonly string[]): string[] {
    return Object.entries(this.file.teams)
      .filter(([, t]) => t.scope.some((s) => scope.includes(s)))
      .map(([name]) => name);
  }

  /** May this person approve a request of these teams at this risk? */
  canApprove(person: string, teams: readonly string[], risk: Risk): boolean {
    return Object.values(this.file.groups).some(
      (g) =>
        g.members.includes(person) &&
        g.risks.includes(risk) &&
        (g.teams.includes(ALL_TEAMS) || g.teams.some((t) => teams.includes(t))),
    );
  }

  /** The scopes a person may see and act on through the API: '*' for all, else their teams' scopes. */
  visibleScopes(person: string | null): '*' | string[] {
    if (!person) return [];
    const groups = Object.values(this.file.groups).filter((g) => g.members.includes(person));
    if (groups.some((g) => g.teams.includes(ALL_TEAMS))) return '*';
    const scopes = new Set<string>();
    for (const g of groups)
      for (const t of g.teams) for (const s of this.file.teams[t]?.scope ?? []) scopes.add(s);
    return [...scopes];
  }

  /** Where a request about this resource is posted: nearest scope override, then team, then default. */
  channelFor(scope: readonly string[], teams: readonly string[]): string {
    for (const s of scope) {
      const c = this.file.channels.scopes[s];
      if (c) return c;
    }
    for (const t of teams) {
      const c = this.file.teams[t]?.channel;
      if (c) return c;
    }
    return this.file.channels.default;
  }

  notificationsChannel(): string {
    return this.file.notifications.channel ?? this.file.channels.default;
  }

  quorum(risk: Risk): number {
    return this.file.quorum[risk];
  }

  expiryMs(risk: Risk): number {
    return this.file.expiry[risk];
  }

  get authorLookbackMs(): number {
    return this.file.author_lookback;
  }

  /** People able to approve (teams, risk): a quorum larger than this can never be met. */
  eligible(teams: readonly string[], risk: Risk): string[] {
    return Object.keys(this.file.people).filter((p) => this.canApprove(p, teams, risk));
  }
}

export type RulesLoad =
  { ok: true; rules: ApprovalRules; warnings: string[] } | { ok: false; errors: SourceError[] };

export function parseApprovalRules(file: string, text: string): RulesLoad {
  const parsed = parseYamlWithLines(file, text);
  if (!parsed.ok) return parsed;
  const result = ApprovalsFileSchema.safeParse(parsed.parsed.value);
  if (!result.success) return { ok: false, errors: zodErrorsWithLines(file, parsed.parsed, result.error) };
  const rules = new ApprovalRules(result.data, file);
  const warnings: string[] = [];
  for (const team of Object.keys(result.data.teams)) {
    for (const risk of RISKS) {
      const eligible = rules.eligible([team], risk).length;
      if (eligible > 0 && eligible < rules.quorum(risk))
        warnings.push(
          `${file}: team ${team} has ${eligible} approver(s) for ${risk} risk but the quorum is ${rules.quorum(risk)}: such requests can only expire`,
        );
    }
  }
  return { ok: true, rules, warnings };
}

/** Loads the rules; a bad file stops the start (approvals must never run on rules half understood). */
export async function loadApprovalRules(file: string): Promise<{ rules: ApprovalRules; warnings: string[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new WardenError(`cannot read ${file}: ${(err as Error).message}`, {
      retryable: false,
      code: 'bad_config',
      cause: err,
    });
  }
  const loaded = parseApprovalRules(file, text);
  if (!loaded.ok)
    throw new WardenError(loaded.errors.map(formatSourceError).join('\n'), {
      retryable: false,
      code: 'bad_config',
    });
  return { rules: loaded.rules, warnings: loaded.warnings };
}

/** No file: nobody may approve anything, so every request fails closed by expiry. */
export function noApprovers(): ApprovalRules {
  return new ApprovalRules(
    ApprovalsFileSchema.parse({ channels: { default: '#warden-approvals' } }),
    '(none)',
  );
}
