import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AssetSchema } from '../model/asset.js';
import type { PolicySet } from './policy-set.js';
import { paramsForCel } from './policy-params.js';
import { PolicyTestFileSchema } from './policy-schema.js';
import { parseYamlWithLines, zodErrorsWithLines, formatSourceError } from './yaml-source.js';

/** The "now" of a table case unless it says otherwise: fixed, so age rules are reproducible. */
export const TABLE_NOW = '2026-01-01T00:00:00Z';

export interface CaseResult {
  file: string;
  policy: string;
  name: string;
  ok: boolean;
  detail: string;
}

async function listTests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTests(full)));
    else if (/\.test\.ya?ml$/.test(e.name)) out.push(full);
  }
  return out.sort();
}

/** Runs every `<id>.test.yaml` table beside the policies: asset in, verdict out. */
export async function runPolicyTables(dir: string, policies: PolicySet): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const tested = new Set<string>();
  for (const file of await listTests(dir)) {
    const rel = path.relative(process.cwd(), file);
    const parsed = parseYamlWithLines(rel, await readFile(file, 'utf8'));
    if (!parsed.ok) {
      results.push(
        ...parsed.errors.map((e) => ({
          file: rel,
          policy: '?',
          name: 'parse',
          ok: false,
          detail: formatSourceError(e),
        })),
      );
      continue;
    }
    const table = PolicyTestFileSchema.safeParse(parsed.parsed.value);
    if (!table.success) {
      results.push(
        ...zodErrorsWithLines(rel, parsed.parsed, table.error).map((e) => ({
          file: rel,
          policy: '?',
          name: 'schema',
          ok: false,
          detail: formatSourceError(e),
        })),
      );
      continue;
    }
    const policy = policies.get(table.data.policy);
    tested.add(table.data.policy);
    for (const [i, c] of table.data.cases.entries()) {
      const line = parsed.parsed.lineOf(['cases', i]);
      const asset = AssetSchema.safeParse({
        name: `//test/${table.data.policy}/${i}`,
        ancestors: [],
        ...c.asset,
      });
      if (!policy) {
        results.push({
          file: rel,
          policy: table.data.policy,
          name: c.name,
          ok: false,
          detail: `${rel}:${line}: policy not loaded`,
        });
        continue;
      }
      if (!asset.success) {
        results.push({
          file: rel,
          policy: policy.def.id,
          name: c.name,
          ok: false,
          detail: `${rel}:${line}: asset: ${asset.error.issues[0]?.message}`,
        });
        continue;
      }
      const ancestry = (c.ancestry ?? []).map((a, j) =>
        AssetSchema.parse({ name: `//test/ancestor/${j}`, ancestors: [], ...a }),
      );
      const verdict = policy.evaluate(asset.data, {
        ancestry,
        perimeters: c.perimeters ?? { known: false, projects: [] },
        params: { ...paramsForCel(policies.params), ...(c.params ?? {}) },
        now: c.now ?? TABLE_NOW,
        relatedKnown: c.relatedKnown ?? policy.def.related,
        related: (c.related ?? []).map((a, j) =>
          AssetSchema.parse({ name: `//test/related/${j}`, ancestors: [], ...a }),
        ),
      });
      const violated = verdict.kind === 'violation';
      const ok = verdict.kind !== 'error' && violated === c.violated;
      results.push({
        file: rel,
        policy: policy.def.id,
        name: c.name,
        ok,
        detail: ok
          ? 'ok'
          : `${rel}:${line}: expected ${c.violated ? 'violation' : 'pass'}, got ${verdict.kind === 'error' ? `error: ${verdict.message}` : verdict.kind}`,
      });
    }
  }
  for (const p of policies.policies) {
    if (!tested.has(p.def.id))
      results.push({
        file: p.file,
        policy: p.def.id,
        name: 'table',
        ok: false,
        detail: `${p.file}: no table tests beside this policy`,
      });
  }
  return results;
}
