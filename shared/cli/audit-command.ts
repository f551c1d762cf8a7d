import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openSqliteDocumentStore } from '../adapters/document-store-sqlite.js';
import { Repository } from '../engine/repository.js';
import { systemClock } from '../ports/clock.js';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('verify')
    .description('walk the hash chain and report the first broken link')
    .option('--state-dir <dir>', 'embedded state folder', '.warden')
    .option('--json', 'print the verdict as JSON')
    .action(async (opts: { stateDir: string; json?: boolean }) => {
      const db = path.join(opts.stateDir, 'warden.db');
      if (!existsSync(db)) {
        process.stderr.write(`no state at ${db}: run \`npm start -- --once\` first\n`);
        process.exitCode = 2;
        return;
      }
      const store = openSqliteDocumentStore(db);
      try {
        const verdict = await new Repository(store, systemClock).verifyAudit();
        if (opts.json) process.stdout.write(`${JSON.stringify(verdict)}\n`);
        else if (verdict.ok)
          process.stdout.write(
            `audit chain intact: ${verdict.records} records, head ${verdict.head.slice(0, 16)}…\n`,
          );
        else process.stdout.write(`audit chain BROKEN at record ${verdict.brokenAt}: ${verdict.reason}\n`);
        process.exitCode = verdict.ok ? 0 : 1;
      } finally {
        await store.close();
      }
    });
}
