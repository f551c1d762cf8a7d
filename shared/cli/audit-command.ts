import type { Command } from 'commander';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { openSqliteDocumentStore } from '../adapters/document-store-sqlite.js';
import { Repository } from '../engine/repository.js';
import { systemClock } from '../ports/clock.js';

const PAGE = 1_000;

/** The embedded state's repository, or null (and exit code 2) when there is no state yet. */
function openState(stateDir: string): Repository | null {
  const db = path.join(stateDir, 'warden.db');
  if (!existsSync(db)) {
    process.stderr.write(`no state at ${db}: run \`npm start -- --once\` first\n`);
    process.exitCode = 2;
    return null;
  }
  return new Repository(openSqliteDocumentStore(db), systemClock);
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('verify')
    .description('walk the hash chain and report the first broken link')
    .option('--state-dir <dir>', 'embedded state folder', '.warden')
    .option('--json', 'print the verdict as JSON')
    .action(async (opts: { stateDir: string; json?: boolean }) => {
      const repo = openState(opts.stateDir);
      if (!repo) return;
      try {
        const verdict = await repo.verifyAudit();
        if (opts.json) process.stdout.write(`${JSON.stringify(verdict)}\n`);
        else if (verdict.ok)
          process.stdout.write(
            `audit chain intact: ${verdict.records} records, head ${verdict.head.slice(0, 16)}…\n`,
          );
        else process.stdout.write(`audit chain BROKEN at record ${verdict.brokenAt}: ${verdict.reason}\n`);
        process.exitCode = verdict.ok ? 0 : 1;
      } finally {
        await repo.store.close();
      }
    });

  audit
    .command('export')
    .description('write every audit record, in chain order, as JSON lines')
    .option('--state-dir <dir>', 'embedded state folder', '.warden')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { stateDir: string; out?: string }) => {
      const repo = openState(opts.stateDir);
      if (!repo) return;
      const out = opts.out ? createWriteStream(opts.out) : process.stdout;
      let count = 0;
      try {
        // Page by sequence number: the export never holds the whole chain in memory.
        for (let after = 0; ;) {
          const page = await repo.readAuditPage(after, PAGE);
          for (const r of page) await write(out, `${JSON.stringify(r)}\n`);
          count += page.length;
          if (page.length < PAGE) break;
          after = Number(page.at(-1)!['seq']);
        }
      } finally {
        await repo.store.close();
        if (opts.out) {
          out.end();
          await once(out, 'finish');
        }
      }
      if (opts.out) process.stderr.write(`${count} audit records written to ${opts.out}\n`);
    });
}
