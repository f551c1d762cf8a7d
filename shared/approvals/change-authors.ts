import { authorLookupNames, changeAuthorsSince } from '../engine/change-authors.js';
import type { Action } from '../model/action.js';
import type { Finding } from '../model/finding.js';
import type { ApprovalDeps } from './deps.js';
import { identityKey } from './identity.js';

/**
 * The people (identity keys) whose recorded changes to the action's resource fall from the lookback before
 * its finding opened until now: the change the fix answers is theirs. Asked when a request is made (to name
 * them) and again at every vote (an audit log entry may arrive after the request).
 */
export async function changeAuthorsOf(
  deps: ApprovalDeps,
  action: Action,
  finding: Finding | null,
): Promise<string[]> {
  const opened = Math.min(Date.parse(action.createdAt), Date.parse(finding?.firstSeen ?? action.createdAt));
  const since = new Date(opened - deps.rules.authorLookbackMs).toISOString();
  const names = authorLookupNames(action.resourceName, await projectIdOf(deps, action.project));
  const principals = await changeAuthorsSince(deps.core.repo.store, names, since);
  return principals.map((email) => identityKey({ kind: 'google', email }));
}

/** Audit logs often name a project by id where CAI names it by number. */
async function projectIdOf(deps: ApprovalDeps, project: string | null): Promise<string | null> {
  if (!project) return null;
  const stored = await deps.core.repo.getAsset(`//cloudresourcemanager.googleapis.com/${project}`);
  const id = stored?.asset.resource?.data['projectId'];
  return typeof id === 'string' ? id : null;
}
