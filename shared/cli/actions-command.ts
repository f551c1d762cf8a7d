import type { Command } from 'commander';
import path from 'node:path';
import { ACTIONS } from '../actions/registry.js';
import { loadPolicies } from '../policy/policy-set.js';
import { projectRoot } from '../util/project-root.js';

export function registerActionsCommands(program: Command): void {
  const actions = program.command('actions').description('the remediation actions this version ships');
  actions
    .command('list')
    .description('every action with its risk, whether it can be undone, and the policies it fixes')
    .option('--policies <dir>', 'policy folder', path.join(projectRoot(), 'policies'))
    .option('--format <format>', 'table or json', 'table')
    .action(async (opts: { policies: string; format: string }) => {
      const set = await loadPolicies(opts.policies);
      const rows = ACTIONS.map((a) => ({
        id: a.id,
        title: a.title,
        risk: a.risk,
        reversible: a.reversible,
        assetTypes: [...a.assetTypes],
        policies: set.policies
          .filter((p) => p.remediation.kind === 'action' && p.remediation.action === a.id)
          .map((p) => p.def.id),
      }));
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else
        for (const r of rows)
          process.stdout.write(
            `${r.risk.padEnd(7)} ${r.reversible ? 'undo' : 'once'}  ${r.id}  ← ${r.policies.join(', ') || '(no policy)'}\n`,
          );
    });
}
