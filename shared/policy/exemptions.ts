import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { labelsOf, type Asset } from '../model/asset.js';
import {
  formatSourceError,
  parseYamlWithLines,
  zodErrorsWithLines,
  type SourceError,
} from './yaml-source.js';

export const EXEMPT_LABEL = 'warden-exempt';

/** policies/exceptions.yaml: accountable, time-boxed exceptions. */
export const ExceptionsFileSchema = z
  .object({
    exceptions: z
      .array(
        z
          .object({
            /** A CAI resource name; `*` matches any run of characters. */
            resource: z.string().min(3),
            policies: z.array(z.string()).min(1),
            owner: z.string().min(3),
            reason: z.string().min(10),
            /** The last day (UTC) the exception applies. */
            expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expires must be YYYY-MM-DD'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();
type ExceptionEntry = z.infer<typeof ExceptionsFileSchema>['exceptions'][number];

export interface Exemption {
  source: 'label' | 'exception';
  reason: string;
  owner?: string;
  expires?: string;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

export class Exemptions {
  private readonly entries: Array<ExceptionEntry & { re: RegExp; line: number }>;

  constructor(
    entries: Array<ExceptionEntry & { line: number }> = [],
    readonly file = 'policies/exceptions.yaml',
  ) {
    this.entries = entries.map((e) => ({ ...e, re: globToRegExp(e.resource) }));
  }

  /** Why the asset is exempt from the policy at `now`, or null. Expired exceptions never apply. */
  check(asset: Asset, policyId: string, now: string): Exemption | null {
    const label = labelsOf(asset)[EXEMPT_LABEL];
    // Label values allow only [a-z0-9_-]: several policy ids are joined with "__".
    if (label !== undefined && (label === 'all' || label.split('__').includes(policyId))) {
      return { source: 'label', reason: `label ${EXEMPT_LABEL}=${label}` };
    }
    const today = now.slice(0, 10);
    for (const e of this.entries) {
      if (e.expires < today) continue;
      if (!e.policies.includes('all') && !e.policies.includes(policyId)) continue;
      if (e.re.test(asset.name))
        return { source: 'exception', reason: e.reason, owner: e.owner, expires: e.expires };
    }
    return null;
  }

  /** Exceptions past their expiry, to be reported: they no longer protect anything. */
  expired(
    now: string,
  ): Array<{ resource: string; policies: string[]; owner: string; expires: string; line: number }> {
    const today = now.slice(0, 10);
    return this.entries
      .filter((e) => e.expires < today)
      .map(({ resource, policies, owner, expires, line }) => ({ resource, policies, owner, expires, line }));
  }
}

export async function loadExemptions(
  file: string,
  displayName = file,
): Promise<{ exemptions: Exemptions; errors: SourceError[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { exemptions: new Exemptions([], displayName), errors: [] };
  }
  const parsed = parseYamlWithLines(displayName, text);
  if (!parsed.ok) return { exemptions: new Exemptions([], displayName), errors: parsed.errors };
  const result = ExceptionsFileSchema.safeParse(parsed.parsed.value ?? {});
  if (!result.success)
    return {
      exemptions: new Exemptions([], displayName),
      errors: zodErrorsWithLines(displayName, parsed.parsed, result.error),
    };
  const entries = result.data.exceptions.map((e, i) => ({
    ...e,
    line: parsed.parsed.lineOf(['exceptions', i]),
  }));
  return { exemptions: new Exemptions(entries, displayName), errors: [] };
}

export { formatSourceError };
