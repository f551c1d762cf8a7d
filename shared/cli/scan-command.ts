import { Option, type Command } from 'commander';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { SEVERITIES, severityRank, type Severity } from '../model/policy.js';
import { loadPolicies } from '../policy/policy-set.js';
import { formatSourceError } from '../policy/yaml-source.js';
import { FORMATS, Sink, scanTotals, writerFor, type Format } from '../scan/output/choose-writer.js';
import { scanInventory, type ScanProgress } from '../scan/scan-inventory.js';
import { projectRoot } from '../util/project-root.js';
import { progressLine } from './progress.js';

/** Open findings at or above this fail the scan unless --fail-on says otherwise: the ones to act on now. */
export const DEFAULT_FAIL_ON = 'high';
/** Bad records reported one by one up to this many; a wholly broken file must not flood the terminal. */
const MAX_REPORTED_INPUT_ERRORS = 100;

interface ScanOpts {
  assets: string[];
  policies: string;
  format: Format;
  failOn: Severity | 'none';
  out?: string;
  now?: string;
}

function bar(p: ScanProgress): string {
  if (p.pass === 1) return `pass 1/2: reading context… ${p.records.toLocaleString('en-US')} records`;
  const share = p.total === 0 ? 1 : Math.min(1, p.records / p.total);
  const width = 30;
  const done = Math.round(share * width);
  return `pass 2/2: [${'#'.repeat(done)}${'-'.repeat(width - done)}] ${(share * 100).toFixed(0)}% of ${p.total.toLocaleString('en-US')} records`;
}

export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description(
      'scan CAI exports or asset lists against the policies and report findings ' +
        '(exit 0: nothing open at or above --fail-on; 1: findings at or above it; 2: usage or input errors)',
    )
    .requiredOption(
      '--assets <paths...>',
      'CAI export files or directories (NDJSON or JSON array, .gz allowed)',
    )
    .option('--policies <dir>', 'policy folder', path.join(projectRoot(), 'policies'))
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .addOption(
      new Option(
        '--fail-on <severity>',
        'lowest severity of an open finding that fails the scan; none: never',
      )
        .choices([...SEVERITIES, 'none'])
        .default(DEFAULT_FAIL_ON),
    )
    .option('--out <file>', 'write the report to a file instead of stdout')
    .option('--now <time>', 'RFC 3339 time the scan judges ages and exception expiry by (default: now)')
    .action(async (opts: ScanOpts) => {
      process.exitCode = await runScan(opts);
    });
}

async function runScan(opts: ScanOpts): Promise<number> {
  const now = opts.now ?? new Date().toISOString();
  if (Number.isNaN(Date.parse(now))) {
    process.stderr.write(`--now: not an RFC 3339 time: ${now}\n`);
    return 2;
  }
  let inputErrors = 0;
  const policies = await loadPolicies(opts.policies);
  for (const e of policies.errors) process.stderr.write(`${formatSourceError(e)}\n`);
  inputErrors += policies.errors.length;
  if (policies.policies.length === 0) {
    process.stderr.write(`no policies loaded from ${opts.policies}\n`);
    return 2;
  }
  for (const e of policies.exemptions.expired(now)) {
    process.stderr.write(
      `${policies.exemptions.file}:${e.line}: exception for ${e.resource} (${e.policies.join(', ')}) ` +
        `expired on ${e.expires}; owner ${e.owner}: it no longer applies\n`,
    );
  }

  const sink = opts.out ? new Sink(createWriteStream(opts.out), true) : new Sink(process.stdout, false);
  const writer = writerFor(opts.format, now);
  const progress = process.stderr.isTTY ? progressLine(process.stderr) : undefined;
  let reported = 0;
  writer.begin(sink);
  const stats = await scanInventory(
    { paths: opts.assets, policies, now },
    {
      finding(finding, context) {
        writer.finding(sink, finding, context);
        return sink.pressure();
      },
      inputError(e) {
        if (reported++ < MAX_REPORTED_INPUT_ERRORS)
          process.stderr.write(`${progress ? '\r\x1b[2K' : ''}${e.file}:${e.line}: ${e.reason}\n`);
      },
      ...(progress ? { progress: (p: ScanProgress) => progress(bar(p)) } : {}),
    },
  );
  writer.end(sink, stats);
  await sink.end();
  progress?.done('scan done');

  if (reported > MAX_REPORTED_INPUT_ERRORS)
    process.stderr.write(`… and ${reported - MAX_REPORTED_INPUT_ERRORS} more bad records\n`);
  for (const [id, e] of stats.evalErrors)
    process.stderr.write(
      `policy ${id} could not be evaluated on ${e.count} asset(s), first ${e.resource}: ${e.message}\n`,
    );
  if (opts.format !== 'table' || opts.out) process.stderr.write(`${scanTotals(stats)}\n`);

  inputErrors += stats.inputErrors;
  if (inputErrors > 0) return 2;
  if (opts.failOn === 'none') return 0;
  const threshold = severityRank(opts.failOn);
  return SEVERITIES.some((s) => severityRank(s) >= threshold && stats.open[s] > 0) ? 1 : 0;
}
