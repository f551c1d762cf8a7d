import { z } from 'zod';
import type { Plan } from '../model/action.js';
import type { Asset } from '../model/asset.js';
import { WardenError } from '../model/errors.js';
import { isNotFound, toWardenError } from '../cloud/errors.js';
import { missingLabels } from './compute-labels.js';
import { iamTargetOf, PROJECT_TYPE, RM_API } from './iam-policy-edit.js';
import { pollUntilDone } from './operation-poll.js';
import type { ActionContext, ActionSettings, ApplyOutcome, RemediationAction, UndoOutcome } from './types.js';
import { parseRecordedState } from './recorded-state.js';
import { withLiveDataKeepingIam } from './live-asset.js';
import { rereadBeforeApply, rereadBeforeUndo } from './guarded-write.js';

/**
 * Adds the required labels a project lacks (settings.requiredLabels, with their default values) through
 * Resource Manager v3 projects.patch (`PATCH v3/projects/N?updateMask=labels`, which replaces the whole label
 * map and returns a long-running operation, polled with operations.get until done). Only missing keys are
 * added; no existing label is ever changed.
 *
 * No precondition: Project.etag is output only and UpdateProjectRequest documents none (the v3 reference
 * says the etag "may be sent" but never that a stale one is refused), so this is a guarded write: the
 * project is re-read immediately before the patch and nothing is sent if its labels or etag differ from the
 * captured state; undo likewise writes only while the project is exactly as the fix left it.
 */

const ID = 'resourcemanager.project.add-required-labels';

const StateSchema = z.object({
  /** projects/NUMBER */
  project: z.string(),
  etag: z.string(),
  state: z.string(),
  labels: z.record(z.string(), z.string()),
  /** After-state of an apply that sent nothing (already fixed): undo has nothing to restore. */
  unchanged: z.literal(true).optional(),
});
type LabelState = z.infer<typeof StateSchema>;
type Json = Record<string, unknown>;

function parse(value: unknown, what: string): LabelState {
  return parseRecordedState(StateSchema, value, what);
}

function projectOf(asset: Asset): string {
  return iamTargetOf(asset, [PROJECT_TYPE]).resource;
}

function rec(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function timestamp(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const t = rec(v);
  if (!t) return undefined;
  const ms = Number(t['seconds'] ?? 0) * 1000 + Math.floor(Number(t['nanos'] ?? 0) / 1e6);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** A v3 Project as gax decoded it, in its REST JSON shape (what CAI holds for a v3 project). */
export function projectJson(p: unknown): Json {
  const d = rec(p) ?? {};
  const out: Json = {};
  for (const k of ['name', 'parent', 'projectId', 'state', 'displayName', 'etag']) {
    const v = d[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  for (const k of ['createTime', 'updateTime', 'deleteTime']) {
    const v = timestamp(d[k]);
    if (v) out[k] = v;
  }
  const labels = rec(d['labels']);
  if (labels && Object.keys(labels).length > 0) {
    out['labels'] = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
  }
  return out;
}

function labelsOf(data: Json): Record<string, string> {
  const l = rec(data['labels']) ?? {};
  return Object.fromEntries(Object.entries(l).map(([k, v]) => [k, String(v ?? '')]));
}

function stateOf(project: string, data: Json): LabelState {
  return {
    project,
    etag: String(data['etag'] ?? ''),
    state: String(data['state'] ?? data['lifecycleState'] ?? 'ACTIVE'),
    labels: labelsOf(data),
  };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

/** The project as v3 projects.get returns it; null when it is gone or pending deletion (nothing to label). */
async function read(ctx: ActionContext, project: string): Promise<Json | null> {
  const projects = await ctx.cloud.resourceManager('ProjectsClient');
  try {
    const [p] = await projects.getProject({ name: project });
    const data = projectJson(p);
    return data['state'] === undefined || data['state'] === 'ACTIVE' ? data : null;
  } catch (err) {
    // Resource Manager answers 403 "(or it may not exist)" for a purged project: that stays an error, as a
    // missing permission must not pass for a deleted project.
    if (isNotFound(err)) return null;
    throw toWardenError(err, `reading project ${project}`);
  }
}

async function readState(ctx: ActionContext, project: string): Promise<LabelState | null> {
  const data = await read(ctx, project);
  return data ? stateOf(project, data) : null;
}

/** projects.patch with updateMask=labels, then operations.get until the operation is done. */
async function writeLabels(
  ctx: ActionContext,
  project: string,
  labels: Record<string, string>,
): Promise<void> {
  const projects = await ctx.cloud.resourceManager('ProjectsClient');
  let name = '';
  try {
    const [started] = await projects.updateProject({
      project: { name: project, labels },
      updateMask: { paths: ['labels'] },
    });
    name = started.name ?? '';
    const op = await pollUntilDone(
      started,
      (o) => o.done === true,
      async () => projects.checkUpdateProjectProgress(name),
      `operation ${name} (labels of ${project})`,
    );
    if (op.error) {
      const e = op.error as { code?: number; message?: string };
      throw new WardenError(
        `operation ${name} setting the labels of ${project} failed: ${String(e.code ?? '')} ${e.message ?? ''}`.trim(),
        { retryable: false, code: 'operation_failed' },
      );
    }
  } catch (err) {
    throw toWardenError(err, name ? `waiting for operation ${name}` : `setting the labels of ${project}`);
  }
}

export const projectAddRequiredLabels: RemediationAction<LabelState> = {
  id: ID,
  title: 'Add the required labels a project lacks',
  risk: 'low',
  reversible: true,
  assetTypes: [PROJECT_TYPE],

  plan(asset: Asset, settings: ActionSettings): Plan {
    const project = projectOf(asset);
    const labels = labelsOf(asset.resource?.data ?? {});
    const added = missingLabels(labels, settings);
    const url = `${RM_API}/${project}`;
    return {
      description:
        `Add the missing required labels ${JSON.stringify(added)} to project ${project}, keeping every existing ` +
        'label unchanged. projects.patch has no precondition (Project.etag is output only), so the project is ' +
        're-read right before the write and nothing is sent if its labels or etag changed since they were ' +
        'captured; then the long-running operation is polled until done. Reversible: undo puts the previous ' +
        'labels back while the project is still as the fix left it.',
      requests: [
        { method: 'GET', url },
        { method: 'PATCH', url: `${url}?updateMask=labels`, body: { labels: { ...labels, ...added } } },
        { method: 'GET', url: `${RM_API}/operations/{operation}` },
      ],
    };
  },

  async captureBefore(asset, ctx) {
    return readState(ctx, projectOf(asset));
  },

  async apply(_asset, rawBefore, ctx): Promise<ApplyOutcome> {
    const before = parse(rawBefore, 'before-state');
    const guarded = await rereadBeforeApply(() => readState(ctx, before.project), {
      alreadyApplied: (live) =>
        Object.keys(missingLabels(live.labels, ctx.settings)).length === 0
          ? { ...live, unchanged: true }
          : undefined,
      asCaptured: (live) => live.etag === before.etag && sameLabels(live.labels, before.labels),
      changedReason: (live) =>
        `project ${before.project} changed since its labels were captured (etag ${before.etag} → ${live.etag})`,
    });
    if ('outcome' in guarded) return guarded.outcome;
    const { live } = guarded;
    const added = missingLabels(live.labels, ctx.settings);
    await writeLabels(ctx, before.project, { ...live.labels, ...added });
    const after = await read(ctx, before.project);
    if (!after) return { status: 'gone' };
    ctx.logger.info('required labels added', { action: ID, project: before.project, added });
    return { status: 'applied', after: stateOf(before.project, after) };
  },

  async readLive(asset, ctx) {
    const data = await read(ctx, projectOf(asset));
    return data ? withLiveDataKeepingIam(asset, data) : null;
  },

  async undo(_asset, rawBefore, rawAfter, ctx): Promise<UndoOutcome> {
    const before = parse(rawBefore, 'before-state');
    const after = parse(rawAfter, 'after-state');
    if (after.unchanged) return { status: 'restored' };
    const guarded = await rereadBeforeUndo(() => readState(ctx, before.project), {
      asFixLeftIt: (live) => live.etag === after.etag && sameLabels(live.labels, after.labels),
      changedReason: (live) =>
        `project ${before.project} changed after the fix (etag ${after.etag} → ${live.etag}); restoring its labels would overwrite that change`,
      restored: (live) => sameLabels(live.labels, before.labels),
    });
    if ('outcome' in guarded) return guarded.outcome;
    await writeLabels(ctx, before.project, before.labels);
    ctx.logger.info('labels restored', { action: ID, project: before.project });
    return { status: 'restored' };
  },
};
