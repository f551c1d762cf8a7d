import { Command } from 'commander';
import { registerActionsCommands } from './actions-command.js';
import { registerApprovalCommands } from './approval-command.js';
import { registerAuditCommands } from './audit-command.js';
import { registerPlanCommand } from './plan-command.js';
import { registerPolicyCommands } from './policy-command.js';
import { registerRollbackCommand } from './rollback-command.js';
import { registerScanCommand } from './scan-command.js';
import { registerStartCommand } from './start-command.js';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';

const program = new Command()
  .name('warden')
  .description('Self-healing automation for Google Cloud landing zones')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

registerStartCommand(program);
registerPolicyCommands(program);
registerAuditCommands(program);
registerActionsCommands(program);
registerPlanCommand(program);
registerScanCommand(program);
registerApprovalCommands(program);
registerRollbackCommand(program);

await program.parseAsync(process.argv);
