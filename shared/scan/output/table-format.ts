import { LAYERS, SEVERITIES } from '../../model/policy.js';
import type { ScanStats } from '../scan-inventory.js';
import type { FindingWriter } from './writer.js';

const COLUMNS = { severity: 9, status: 11, policy: 44 };

function row(severity: string, status: string, policy: string, resource: string): string {
  return `${severity.padEnd(COLUMNS.severity)} ${status.padEnd(COLUMNS.status)} ${policy.padEnd(COLUMNS.policy)} ${resource}\n`;
}

function percent(passed: number, checks: number): string {
  return checks === 0 ? '-' : `${((100 * passed) / checks).toFixed(1)}%`;
}

/** Compliance by layer: suppressed findings count as not passed (an exemption accepts a risk, it fixes nothing). */
export function complianceSummary(stats: ScanStats): string {
  const head = `${'layer'.padEnd(14)}${'checks'.padStart(10)}${'passed'.padStart(10)}${'failed'.padStart(10)}${'suppressed'.padStart(12)}${'errors'.padStart(8)}${'passed %'.padStart(10)}\n`;
  let out = `\nCompliance by layer\n${head}`;
  const total = { checks: 0, passed: 0, failed: 0, suppressed: 0, errors: 0 };
  const known = new Set<string>(LAYERS);
  const layers = [...LAYERS, ...[...stats.byLayer.keys()].filter((l) => !known.has(l))];
  for (const layer of layers) {
    const t = stats.byLayer.get(layer) ?? { checks: 0, passed: 0, failed: 0, suppressed: 0, errors: 0 };
    for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += t[k];
    out += `${layer.padEnd(14)}${String(t.checks).padStart(10)}${String(t.passed).padStart(10)}${String(t.failed).padStart(10)}${String(t.suppressed).padStart(12)}${String(t.errors).padStart(8)}${percent(t.passed, t.checks).padStart(10)}\n`;
  }
  out += `${'total'.padEnd(14)}${String(total.checks).padStart(10)}${String(total.passed).padStart(10)}${String(total.failed).padStart(10)}${String(total.suppressed).padStart(12)}${String(total.errors).padStart(8)}${percent(total.passed, total.checks).padStart(10)}\n`;
  return out;
}

/** One line: what was read and what was found. */
export function scanTotals(stats: ScanStats): string {
  const open = SEVERITIES.slice()
    .reverse()
    .map((s) => `${s} ${stats.open[s]}`)
    .join(', ');
  return (
    `${stats.assets} assets (${stats.records} records), ${stats.evaluations} policy checks; ` +
    `open findings: ${open}; suppressed ${stats.suppressed}; input errors ${stats.inputErrors}; ` +
    `VPC-SC perimeters ${stats.perimetersKnown ? 'known' : 'unknown'}`
  );
}

/** Findings as they arrive, then the compliance summary by layer. */
export function tableWriter(): FindingWriter {
  let findings = 0;
  return {
    begin: (sink) => sink.write(row('SEVERITY', 'STATUS', 'POLICY', 'RESOURCE')),
    finding(sink, f) {
      findings++;
      sink.write(row(f.severity, f.status, f.policyId, f.resourceName));
    },
    end(sink, stats) {
      if (findings === 0) sink.write('(no findings)\n');
      sink.write(complianceSummary(stats));
      sink.write(`\n${scanTotals(stats)}\n`);
    },
  };
}
