import type { Command } from 'commander';
import path from 'node:path';
import { loadPolicies } from '../policy/policy-set.js';
import { runPolicyTables } from '../policy/table-tests.js';
import { formatSourceError } from '../policy/yaml-source.js';
import { projectRoot } from '../util/project-root.js';

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('list and test the policies');
  const defaultDir = path.join(projectRoot(), 'policies');

  policy
    .command('test')
    .description('run the table tests beside every policy')
    .option('--policies <dir>', 'policy folder', defaultDir)
    .action(async (opts: { policies: string }) => {
      const set = await loadPolicies(opts.policies);
      for (const e of set.errors) process.stderr.write(`${formatSourceError(e)}\n`);
      const results = await runPolicyTables(opts.policies, set);
      for (const r of results.filter((x) => !x.ok))
        process.stdout.write(`FAIL ${r.policy} · ${r.name}\n     ${r.detail}\n`);
      const failed = results.filter((r) => !r.ok).length + set.errors.length;
      process.stdout.write(`${results.length - (failed - set.errors.length)} passed, ${failed} failed\n`);
      process.exitCode = failed > 0 ? 1 : 0;
    });

  policy
    .command('list')
    .description('list every policy')
    .option('--policies <dir>', 'policy folder', defaultDir)
    .option('--format <format>', 'table or json', 'table')
    .action(async (opts: { policies: string; format: string }) => {
      const set = await loadPolicies(opts.policies);
      for (const e of set.errors) process.stderr.write(`${formatSourceError(e)}\n`);
      const rows = set.policies.map((p) => ({
        id: p.def.id,
        title: p.def.title,
        layer: p.def.layer,
        category: p.def.category,
        severity: p.def.severity,
        assetTypes: p.def.assetTypes,
        remediation: p.remediation,
        references: p.def.references,
      }));
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else
        for (const r of rows) process.stdout.write(`${r.severity.padEnd(9)} ${r.layer.padEnd(13)} ${r.id}\n`);
      process.exitCode = set.errors.length > 0 ? 2 : 0;
    });
}
