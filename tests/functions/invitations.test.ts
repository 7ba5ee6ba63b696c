// The invitations function end to end against a running stack: create → accept → member, the
// single-use token (only its sha256 stored), and each refusal with its status.
import { createHash } from 'node:crypto';
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { addMember, callFunction, createWorkspace, failedPaths, NOT_A_WORKSPACE, signUp, withDb, type TestUser } from './helpers/users.ts';

async function invite(owner: TestUser, ws: string, email: string, role = 'editor') {
  const res = await owner.call('invitations', { method: 'POST', body: { workspace_id: ws, email, role } });
  assertEquals(res.status, 201, JSON.stringify(res.body));
  const token = new URL(res.body.accept_url).searchParams.get('token') ?? '';
  return { invitation: res.body.invitation, acceptUrl: res.body.accept_url as string, token };
}

const accept = (user: TestUser, token: string) => user.call('invitations/accept', { method: 'POST', body: { token } });

async function statusOf(owner: TestUser, ws: string, id: string): Promise<string> {
  const res = await owner.call(`invitations?workspace_id=${ws}`);
  return res.body.invitations.find((i: { id: string }) => i.id === id)?.status;
}

Deno.test('owner invites bob → bob accepts → bob is a member with the role; the token works once', async () => {
  const alice = await signUp('inv-alice');
  const bob = await signUp('inv-bob');
  const ws = await createWorkspace(alice, 'Studio');

  // The address is matched without regard to case.
  const { invitation, acceptUrl, token } = await invite(alice, ws, bob.email.toUpperCase(), 'editor');
  assertEquals(invitation.email, bob.email);
  assertEquals(invitation.role, 'editor');
  assertEquals(invitation.status, 'pending');
  assertEquals(invitation.workspace_id, ws);
  assertEquals(invitation.invited_by, alice.id);
  assertEquals('token_hash' in invitation, false);
  const link = new URL(acceptUrl);
  assertEquals(link.pathname.endsWith('/accept'), true);
  const webApp = Deno.env.get('WEB_APP_URL');
  if (webApp) assertEquals(acceptUrl.startsWith(`${webApp.replace(/\/+$/, '')}/accept?token=`), true, acceptUrl);
  assertMatch(token, /^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url

  // Only the sha256 of the token is stored.
  const stored = await withDb((sql) => sql`select token_hash from public.invitations where id = ${invitation.id}`);
  assertEquals(stored[0].token_hash, createHash('sha256').update(token, 'utf8').digest('hex'));

  const accepted = await accept(bob, token);
  assertEquals(accepted.status, 200);
  assertEquals(accepted.body, { workspace_id: ws, role: 'editor' });

  const mine = await bob.call(`workspaces/${ws}`);
  assertEquals(mine.status, 200);
  assertEquals(mine.body.workspace.role, 'editor');
  const members = (await alice.call(`members?workspace_id=${ws}`)).body.members;
  assertEquals(members.find((m: { user_id: string }) => m.user_id === bob.id)?.role, 'editor');
  assertEquals(await statusOf(alice, ws, invitation.id), 'accepted');

  const reuse = await accept(bob, token);
  assertEquals(reuse.status, 409);
  assertEquals(reuse.body.error.code, 'invitation_used');
  assertMatch(reuse.body.error.message, /already been used/);

  const listed = await alice.call(`invitations?workspace_id=${ws}`);
  assertEquals(
    listed.body.invitations.some((i: Record<string, unknown>) => 'token_hash' in i),
    false,
  );
});

Deno.test('an invitation for another address is refused (403) and grants nothing', async () => {
  const alice = await signUp('inv-owner');
  const bob = await signUp('inv-invitee');
  const carol = await signUp('inv-other');
  const ws = await createWorkspace(alice);
  const { token, invitation } = await invite(alice, ws, bob.email, 'viewer');
  const res = await accept(carol, token);
  assertEquals(res.status, 403);
  assertEquals(res.body.error.code, 'invitation_email_mismatch');
  assertMatch(res.body.error.message, /another email address/);
  assertEquals((await carol.call(`workspaces/${ws}`)).status, 404);
  assertEquals(await statusOf(alice, ws, invitation.id), 'pending');
  assertEquals((await accept(bob, token)).status, 200);
});

Deno.test('a revoked invitation is 410; revoking is idempotent; an accepted one cannot be revoked (409)', async () => {
  const alice = await signUp('inv-revoker');
  const bob = await signUp('inv-revoked');
  const ws = await createWorkspace(alice);
  const { token, invitation } = await invite(alice, ws, bob.email);

  const revoked = await alice.call(`invitations/${invitation.id}`, { method: 'DELETE' });
  assertEquals(revoked.status, 200);
  assertEquals(revoked.body.invitation.status, 'revoked');
  assertOk(revoked.body.invitation.revoked_at);
  assertEquals((await alice.call(`invitations/${invitation.id}`, { method: 'DELETE' })).body.invitation.status, 'revoked');

  const res = await accept(bob, token);
  assertEquals(res.status, 410);
  assertEquals(res.body.error.code, 'invitation_revoked');
  assertEquals((await bob.call(`workspaces/${ws}`)).status, 404);

  const second = await invite(alice, ws, bob.email);
  assertEquals((await accept(bob, second.token)).status, 200);
  const late = await alice.call(`invitations/${second.invitation.id}`, { method: 'DELETE' });
  assertEquals(late.status, 409);
  assertEquals(late.body.error.code, 'invitation_used');
});

Deno.test('an expired invitation is 410 and listed as expired', async () => {
  const alice = await signUp('inv-expirer');
  const bob = await signUp('inv-late');
  const ws = await createWorkspace(alice);
  const { token, invitation } = await invite(alice, ws, bob.email);
  await withDb(
    (sql) => sql`
    update public.invitations
    set created_at = now() - interval '8 days', expires_at = now() - interval '1 day'
    where id = ${invitation.id}`,
  );
  const res = await accept(bob, token);
  assertEquals(res.status, 410);
  assertEquals(res.body.error.code, 'invitation_expired');
  assertMatch(res.body.error.message, /expired/);
  assertEquals(await statusOf(alice, ws, invitation.id), 'expired');
  assertEquals((await bob.call(`workspaces/${ws}`)).status, 404);
});

Deno.test('an unknown token is 404', async () => {
  const bob = await signUp('inv-guess');
  const res = await accept(bob, 'A'.repeat(43));
  assertEquals(res.status, 404);
  assertEquals(res.body.error.code, 'invitation_not_found');
});

Deno.test('only owners invite, list and revoke (viewers and editors: 403 on what they can see)', async () => {
  const owner = await signUp('inv-roles-owner');
  const editor = await signUp('inv-roles-editor');
  const viewer = await signUp('inv-roles-viewer');
  const ws = await createWorkspace(owner);
  await addMember(owner, ws, editor, 'editor');
  await addMember(owner, ws, viewer, 'viewer');
  const pending = await invite(owner, ws, 'someone-new@example.com', 'viewer');

  for (const user of [viewer, editor]) {
    const created = await user.call('invitations', {
      method: 'POST',
      body: { workspace_id: ws, email: 'friend@example.com', role: 'owner' },
    });
    assertEquals(created.status, 403);
    assertEquals(created.body.error.code, 'forbidden');
    assertEquals((await user.call(`invitations?workspace_id=${ws}`)).status, 403);
    // Invitations are visible to owners only (RLS), so to anyone else the id does not exist.
    assertEquals((await user.call(`invitations/${pending.invitation.id}`, { method: 'DELETE' })).status, 404);
  }
  const listed = await owner.call(`invitations?workspace_id=${ws}`);
  assertEquals(listed.body.invitations.length, 3); // editor's and viewer's (accepted) + the pending one
  assertEquals(await statusOf(owner, ws, pending.invitation.id), 'pending');
});

Deno.test('another workspace’s ids are 404 on every invitations route', async () => {
  const alice = await signUp('inv-victim');
  const mallory = await signUp('inv-intruder');
  const ws = await createWorkspace(alice);
  const { invitation } = await invite(alice, ws, 'guest@example.com');
  for (const id of [ws, NOT_A_WORKSPACE]) {
    const created = await mallory.call('invitations', { method: 'POST', body: { workspace_id: id, email: mallory.email, role: 'owner' } });
    assertEquals(created.status, 404);
    assertEquals(created.body.error.code, 'not_found');
    assertEquals((await mallory.call(`invitations?workspace_id=${id}`)).status, 404);
  }
  assertEquals((await mallory.call(`invitations/${invitation.id}`, { method: 'DELETE' })).status, 404);
  assertEquals(await statusOf(alice, ws, invitation.id), 'pending');
  assertEquals((await alice.call(`invitations?workspace_id=${ws}`)).body.invitations.length, 1);
});

Deno.test('malformed input is 400 naming each field; no token is 401', async () => {
  const alice = await signUp('inv-bad');
  const ws = await createWorkspace(alice);
  const bad = await alice.call('invitations', { method: 'POST', body: { workspace_id: 'x', email: 'not-an-email', role: 'boss' } });
  assertEquals(bad.status, 400);
  assertEquals(failedPaths(bad), ['email', 'role', 'workspace_id']);
  assertEquals(failedPaths(await alice.call('invitations', { method: 'POST', body: {} })), ['email', 'role', 'workspace_id']);
  assertEquals(failedPaths(await alice.call('invitations')), ['workspace_id']);
  assertEquals(failedPaths(await alice.call('invitations/nope', { method: 'DELETE' })), ['id']);
  assertEquals(failedPaths(await alice.call('invitations/accept', { method: 'POST', body: {} })), ['token']);
  assertEquals(failedPaths(await alice.call('invitations/accept', { method: 'POST', body: { token: 7 } })), ['token']);

  const { invitation, token } = await invite(alice, ws, 'later@example.com');
  const routes: [string, string, unknown][] = [
    ['POST', 'invitations', { workspace_id: ws, email: 'x@example.com', role: 'viewer' }],
    ['GET', `invitations?workspace_id=${ws}`, undefined],
    ['DELETE', `invitations/${invitation.id}`, undefined],
    ['POST', 'invitations/accept', { token }],
  ];
  for (const [method, path, body] of routes) {
    assertEquals((await callFunction(null, path, { method, body })).status, 401, `${method} ${path}`);
  }
  assertEquals(await statusOf(alice, ws, invitation.id), 'pending');
});
