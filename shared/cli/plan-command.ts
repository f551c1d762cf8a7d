import type { Command } from 'commander';
import path from 'node:path';
import { ACTIONS } from '../actions/registry.js';
import type { RemediationAction } from '../actions/types.js';
import { decide, productionMarker } from '../engine/decide.js';
import type { Decision, Plan } from '../model/action.js';
import { labelsOf } from '../model/asset.js';
import { MemoryLogger } from '../ports/logger.js';
import { loadEngineConfig } from '../roots/build-deps.js';
import { scanInventory } from '../scan/scan-inventory.js';
import { formatSourceError } from '../policy/yaml-source.js';
import { projectRoot } from '../util/project-root.js';

interface PlanOpts {
  assets: string[];
  policies: string;
  format: 'table' | 'json';
  now?: string;
}

interface PlannedFix {
  policyId: string;
  resourceName: string;
  severity: string;
  action: string | null;
  decision: Decision | null;
  plan: Plan | null;
  /** Why nothing would be done automatically, when nothing would. */
  note: string | null;
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description(
      'what Warden would do for each finding of an exported inventory: action, risk, decision, the exact API calls; nothing is called',
    )
    .requiredOption('--assets <paths...>', 'CAI export files or directories')
    .option('--policies <dir>', 'policy folder', path.join(projectRoot(), 'policies'))
    .option('--format <format>', 'table or json', 'table')
    .option('--now <time>', 'RFC 3339 time to judge ages and exceptions by (default: now)')
    .action(async (opts: PlanOpts) => {
      process.exitCode = await runPlan(opts);
    });
}

async function runPlan(opts: PlanOpts): Promise<number> {
  const now = opts.now ?? new Date().toISOString();
  const logger = new MemoryLogger();
  const config = await loadEngineConfig(logger, { policiesDir: opts.policies });
  for (const e of config.policies.errors) process.stderr.write(`${formatSourceError(e)}\n`);
  const actions = new Map<string, RemediationAction>(ACTIONS.map((a) => [a.id, a as RemediationAction]));
  const json = opts.format === 'json';
  let count = 0;
  let inputErrors = 0;
  if (json) process.stdout.write('[');
  await scanInventory(
    { paths: opts.assets, policies: config.policies, now },
    {
      finding(f, ctx) {
        if (f.status !== 'open') return;
        const policy = config.policies.get(f.policyId)!;
        const fix: PlannedFix = {
          policyId: f.policyId,
          resourceName: f.resourceName,
          severity: f.severity,
          action: null,
          decision: null,
          plan: null,
          note: null,
        };
        const rem = policy.remediation;
        const action = rem.kind === 'action' ? actions.get(rem.action) : undefined;
        if (rem.kind === 'recommendation') fix.note = `recommend only: ${rem.text}`;
        else if (!action) fix.note = `recommend only: action ${rem.action} is not available in this version`;
        else {
          // The same risk assessment the engine makes, from what the export shows of the hierarchy.
          const production = productionMarker(
            [
              { where: ctx.asset.name, labels: labelsOf(ctx.asset) },
              ...ctx.ancestry
                .filter((a) => a.assetType.endsWith('/Project'))
                .map((a) => ({ where: a.name, labels: labelsOf(a) })),
            ],
            ctx.ancestry
              .filter((a) => a.assetType.endsWith('/Folder'))
              .map((a) => ({ where: a.name, displayName: String(a.resource?.data['displayName'] ?? '') })),
            config.automation.production_labels,
          );
          fix.action = action.id;
          fix.decision = decide({
            finding: { category: policy.def.category },
            policy: policy.def,
            action,
            automation: config.automation,
            production,
          });
          fix.plan = action.plan(ctx.asset, config.actionSettings);
        }
        count += 1;
        if (json) process.stdout.write(`${count > 1 ? ',' : ''}\n${JSON.stringify(fix)}`);
        else process.stdout.write(formatFix(fix));
      },
      inputError(e) {
        inputErrors += 1;
        process.stderr.write(`${e.file}:${e.line}: ${e.reason}\n`);
      },
    },
  );
  if (json) process.stdout.write('\n]\n');
  else process.stdout.write(`\n${count} open finding(s) planned; nothing was called.\n`);
  return inputErrors > 0 || config.policies.errors.length > 0 ? 2 : 0;
}

function formatFix(f: PlannedFix): string {
  const head = `\n${f.severity.toUpperCase()} ${f.policyId}\n  ${f.resourceName}\n`;
  if (!f.decision || !f.plan) return `${head}  ${f.note}\n`;
  const why = f.decision.factors.map((x) => `${x.factor}: ${x.effect}`).join('; ');
  const calls = f.plan.requests
    .map((r) => `    ${r.method} ${r.url}${r.body === undefined ? '' : ` ${JSON.stringify(r.body)}`}`)
    .join('\n');
  return `${head}  ${f.action} → ${f.decision.kind} at ${f.decision.risk} risk (${why})\n  ${f.plan.description}\n${calls}\n`;
}
