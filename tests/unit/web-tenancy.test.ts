import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionsInvoker } from '../../web/src/lib/api.ts';
import { ApiError } from '../../web/src/lib/api-error.ts';
import {
  acceptInvitation,
  changeMemberRole,
  createInvitation,
  createWorkspace,
  deleteAccount,
  getProfile,
  listMembers,
  listWorkspaces,
  removeMember,
  revokeInvitation,
} from '../../web/src/lib/tenancy.ts';

type Call = { name: string; method?: string; body?: unknown };

function client(data: unknown): { c: FunctionsInvoker; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    c: {
      functions: {
        invoke: async (name, options) => {
          calls.push({ name, method: options.method, body: options.body });
          return { data, error: null };
        },
      },
    },
  };
}

const ws = { id: 'w1', name: 'Team', personal: false, role: 'owner', created_at: '2026-11-01T00:00:00Z' };

test('workspaces: list, create (bare or wrapped answer)', async () => {
  const list = client({ workspaces: [ws] });
  assert.deepEqual(await listWorkspaces(list.c), [ws]);
  assert.deepEqual(list.calls[0], { name: 'workspaces', method: 'GET', body: undefined });

  const wrapped = client({ workspace: ws });
  assert.deepEqual(await createWorkspace(wrapped.c, 'Team'), ws);
  assert.deepEqual(wrapped.calls[0], { name: 'workspaces', method: 'POST', body: { name: 'Team' } });
  assert.deepEqual(await createWorkspace(client(ws).c, 'Team'), ws);
});

test('an unknown role in an answer is refused at the boundary', async () => {
  await assert.rejects(
    listWorkspaces(client({ workspaces: [{ ...ws, role: 'admin' }] }).c),
    (e: unknown) => e instanceof ApiError && e.code === 'unexpected_response',
  );
});

test('members: list with the workspace id in the query; ids in paths are encoded', async () => {
  const m = { user_id: 'u1', email: 'a@x.co', display_name: null, role: 'viewer', joined_at: '2026-11-01T00:00:00Z' };
  const list = client({ members: [m] });
  assert.deepEqual(await listMembers(list.c, 'w 1'), [m]);
  assert.equal(list.calls[0]!.name, 'members?workspace_id=w+1');

  const patch = client({});
  await changeMemberRole(patch.c, 'w1', 'u/2', 'editor');
  assert.deepEqual(patch.calls[0], { name: 'members/w1/u%2F2', method: 'PATCH', body: { role: 'editor' } });
  const del = client(null);
  await removeMember(del.c, 'w1', 'u1');
  assert.deepEqual(del.calls[0], { name: 'members/w1/u1', method: 'DELETE', body: undefined });
});

test('invitations: create returns the accept link; revoke; accept names the workspace joined', async () => {
  const inv = { id: 'i1', email: 'b@x.co', role: 'editor', expires_at: '2026-12-01T00:00:00Z' };
  const created = client({ invitation: inv, accept_url: 'http://app/accept?token=t' });
  const answer = await createInvitation(created.c, { workspace_id: 'w1', email: 'b@x.co', role: 'editor' });
  assert.equal(answer.accept_url, 'http://app/accept?token=t');
  assert.deepEqual(created.calls[0]!.body, { workspace_id: 'w1', email: 'b@x.co', role: 'editor' });

  const revoke = client(null);
  await revokeInvitation(revoke.c, 'i1');
  assert.deepEqual(revoke.calls[0], { name: 'invitations/i1', method: 'DELETE', body: undefined });

  const accepted = client({ workspace_id: 'w9' });
  assert.equal(await acceptInvitation(accepted.c, 'tok'), 'w9');
  assert.deepEqual(accepted.calls[0], { name: 'invitations/accept', method: 'POST', body: { token: 'tok' } });
  assert.equal(await acceptInvitation(client({ membership: { workspace_id: 'w8', role: 'viewer' } }).c, 'tok'), 'w8');
  assert.equal(await acceptInvitation(client({ workspace: { id: 'w7', name: 'X' } }).c, 'tok'), 'w7');
  assert.equal(await acceptInvitation(client({ ok: true }).c, 'tok'), null);
});

test('account: profile bare or wrapped; delete sends the confirmation', async () => {
  const p = { display_name: 'Ada', avatar_url: null, locale: 'en', timezone: 'UTC' };
  assert.deepEqual(await getProfile(client(p).c), p);
  assert.deepEqual(await getProfile(client({ profile: p }).c), p);
  const del = client(null);
  await deleteAccount(del.c);
  assert.deepEqual(del.calls[0], { name: 'account', method: 'DELETE', body: { confirm: 'DELETE' } });
});
