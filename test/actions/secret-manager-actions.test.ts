import { describe, expect, it } from '@jest/globals';
import { secretRemovePublicMembers } from '../../shared/actions/secretmanager-secret-remove-public-members.js';
import type { RemediationAction } from '../../shared/actions/types.js';
import type { Asset } from '../../shared/model/asset.js';
import { publicPolicy, SECRET, secretAsset } from '../twin/identity-fixtures.js';
import { describeActionContract, iamEtagConflict, request } from './action-contract.js';
import { expectRegistered } from './policies.js';

const SM = 'https://secretmanager.googleapis.com';
const READ = { method: 'GET', path: `/v1/${SECRET}:getIamPolicy` };
const WRITE = { method: 'POST', path: `/v1/${SECRET}:setIamPolicy` };
const action = secretRemovePublicMembers;
type Before = Parameters<typeof action.apply>[1];

const publicGrants = (a: Asset | undefined): string[] =>
  (a?.iamPolicy?.bindings ?? []).flatMap((b) =>
    b.members.filter((m) => m === 'allUsers' || m === 'allAuthenticatedUsers').map((m) => `${b.role} ${m}`),
  );

describe('secretmanager.secret.remove-public-members registration', () => {
  it('is registered, low risk and reversible, as policy secret-public names it', () => {
    const named = expectRegistered('secretmanager.secret.remove-public-members', {
      risk: 'low',
      reversible: true,
    });
    expect(named.map((p) => p.def.id)).toEqual(['secret-public']);
  });
});

describeActionContract([
  {
    title: 'a secret readable by allUsers and allAuthenticatedUsers',
    action: action as RemediationAction,
    asset: () =>
      secretAsset(publicPolicy('roles/secretmanager.secretAccessor', 'roles/secretmanager.viewer')),
    api: 'secretmanager.googleapis.com',
    // And apply sends exactly that.
    plan: async ({ h, ctx, asset }, plan) => {
      expect(plan.description).toContain('allUsers from roles/secretmanager.secretAccessor');
      expect(plan.description).toContain(
        'allAuthenticatedUsers from roles/secretmanager.viewer (condition "until-2030")',
      );
      expect(plan.requests).toEqual([
        { method: 'GET', url: `${SM}${READ.path}?options.requestedPolicyVersion=3` },
        {
          method: 'POST',
          url: `${SM}${WRITE.path}`,
          body: {
            policy: {
              version: 3,
              etag: 'BwYPGokQxSI=',
              bindings: [
                {
                  role: 'roles/secretmanager.secretAccessor',
                  members: ['serviceAccount:service-774902316004@gcp-sa-cloud-sql.iam.gserviceaccount.com'],
                },
                {
                  role: 'roles/secretmanager.viewer',
                  members: ['group:gcp-security@example.com'],
                  condition: {
                    title: 'until-2030',
                    expression: 'request.time < timestamp("2030-01-01T00:00:00Z")',
                  },
                },
              ],
            },
            updateMask: 'bindings,etag',
          },
        },
      ]);
      const before = await action.captureBefore(asset, ctx);
      expect((await action.apply(asset, before!, ctx)).status).toBe('applied');
      expect(h.twin.requests.find((r) => r.path === READ.path)).toMatchObject({
        method: 'GET',
        query: { 'options.requestedPolicyVersion': '3' },
      });
      expect(h.twin.requests.find((r) => r.path === WRITE.path)?.body).toEqual(plan.requests[1]?.body);
    },
    policyIds: ['secret-public'],
    field: publicGrants,
    fixed: [],
    isWrite: request(WRITE.method, WRITE.path),
    untouched: (now, asset) => expect(now?.iamPolicy).toEqual(asset.iamPolicy),
    fix: {
      captured: (before) =>
        expect((before as Before).removed?.map((g) => g.member)).toEqual([
          'allUsers',
          'allAuthenticatedUsers',
          'allAuthenticatedUsers',
        ]),
      live: (live, { asset }) => expect(live.resource).toEqual(asset.resource),
      feed: 1,
      restored: ({ h, asset }) =>
        expect(h.twin.getAsset(asset.name)?.iamPolicy?.bindings).toEqual(asset.iamPolicy?.bindings),
    },
    conflict: iamEtagConflict({ method: 'POST', pathPattern: WRITE.path }),
    undoAfterChange: { change: { at: { method: 'GET', pathPattern: READ.path } } },
    retryable: {
      unavailable: { at: { method: 'POST', pathPattern: WRITE.path } },
      throttled: { at: { method: 'GET', pathPattern: READ.path }, via: 'readLive' },
    },
    more: ({ start }) => {
      it('does nothing to a secret whose policy has no public member', async () => {
        const { h, ctx, asset } = await start(
          {},
          secretAsset({
            version: 1,
            etag: 'BwYPGokQxSI=',
            bindings: [{ role: 'roles/secretmanager.secretAccessor', members: ['domain:example.com'] }],
          }),
        );
        const before = await action.captureBefore(asset, ctx);
        const outcome = await action.apply(asset, before!, ctx);
        expect(outcome.status).toBe('already_applied');
        expect(
          await action.undo(asset, before!, outcome.status === 'already_applied' ? outcome.after : null, ctx),
        ).toEqual({
          status: 'restored',
        });
        expect(h.twin.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
      });
    },
  },
]);
