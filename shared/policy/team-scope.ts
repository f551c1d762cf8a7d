import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseYamlWithLines, zodErrorsWithLines, type SourceError } from './yaml-source.js';

/** policies/teams/<team>/team.yaml: where a team's own rules apply. */
export const TeamFileSchema = z
  .object({
    team: z.string().min(1),
    /** folders/N or projects/NUMBER; a rule applies to assets with any of these among their ancestors. */
    scope: z.array(z.string().regex(/^(folders|projects|organizations)\/[a-z0-9-]+$/)).min(1),
    owners: z.array(z.string()).default([]),
  })
  .strict();

export async function loadTeamScope(
  file: string,
  displayName = file,
): Promise<{ scope: string[] | null; errors: SourceError[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {
      scope: null,
      errors: [
        { file: displayName, line: 1, message: 'team folder has no team.yaml: its rules are not loaded' },
      ],
    };
  }
  const parsed = parseYamlWithLines(displayName, text);
  if (!parsed.ok) return { scope: null, errors: parsed.errors };
  const result = TeamFileSchema.safeParse(parsed.parsed.value);
  if (!result.success)
    return { scope: null, errors: zodErrorsWithLines(displayName, parsed.parsed, result.error) };
  return { scope: result.data.scope, errors: [] };
}

export function inScope(
  ancestors: readonly string[],
  name: string,
  scope: readonly string[] | undefined,
): boolean {
  if (!scope) return true;
  return scope.some((s) => ancestors.includes(s) || name.endsWith(`/${s}`));
}
