import * as functions from '@google-cloud/functions-framework';
import type { ApprovalDeps } from '../../shared/approvals/deps.js';
import { cloudEventFunction } from '../../shared/roots/cloud-event-function.js';
import { approvalDepsFromEnvironment } from '../../shared/roots/from-environment.js';
import { handleApprovalMessage } from './handler.js';

/** Registers the function; the composition root is chosen by the environment unless a test passes its own. */
export function register(getDeps: () => Promise<ApprovalDeps> = approvalDepsFromEnvironment): void {
  functions.cloudEvent(
    'request-approval',
    cloudEventFunction(
      'approval-requests',
      async (msg) => handleApprovalMessage(msg, await getDeps()),
      async () => (await getDeps()).core,
    ),
  );
}
