import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SAMPLES = fileURLToPath(new URL('../../fixtures/samples/', import.meta.url));
export const CAI_FEED = `${SAMPLES}cai-feed/`;
export const SCC = `${SAMPLES}scc-notifications/security-response-automation/`;
export const AUDIT_LOGS = `${SAMPLES}audit-log-entries/real-time-enforcer/`;

export function sample(path: string): string {
  return readFileSync(path, 'utf8');
}

export function sampleFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}
