import * as functions from '@google-cloud/functions-framework';
import type { ApiDeps } from '../../shared/api/router.js';
import { apiDepsFromEnvironment, slackDepsFromEnvironment } from '../../shared/roots/from-environment.js';
import { handleApiHttp } from './handler.js';
import { handleSlackHttp, type SlackFunctionDeps } from './slack-handler.js';

/**
 * Two HTTP functions from this folder: the automation API (behind IAM and Google ID tokens) and the Slack
 * interactivity endpoint (public, every request signature-verified). Tests pass their own dependencies.
 */
export function register(
  getApi: () => Promise<ApiDeps> = apiDepsFromEnvironment,
  getSlack: () => Promise<SlackFunctionDeps> = slackDepsFromEnvironment,
): void {
  functions.http('api', async (req, res) => handleApiHttp(req, res, await getApi()));
  functions.http('slack', async (req, res) => handleSlackHttp(req, res, await getSlack()));
}
