// The members function against a running stack: the directory (with co-members' emails), role
// changes, removal and leaving, the role rules and the last-owner rule as HTTP statuses.
import { assertEquals, assertMatch } from './assert.ts';
import {
  addMember,
  callFunction,
  createWorkspace,
  failedPaths,
  NOT_A_WORKSPACE,
  personalWorkspace,
  signUp,
  type TestUser,
} from './helpers/users.ts';

async function team() {
  const owner = await signUp('mem-owner');
  const editor = await signUp('mem-editor');
  const viewer = await signUp('mem-viewer');
  const ws = await createWorkspace(owner, 'Members');
  await addMember(owner, ws, editor, 'editor');
  await addMember(owner, ws, viewer, 'viewer');
  return { owner, editor, viewer, ws };
}

async function roleOf(asker: TestUser, ws: string, user: TestUser): Promise<string | undefined> {
  const res = await asker.call(`members?workspace_id=${ws}`);
  return res.body.members?.find((m: { user_id: string }) => m.user_id === user.id)?.role;
}

Deno.test('every member lists the members with emails, names, roles and join times', async () => {
  const { owner, editor, viewer, ws } = await team();
  await viewer.call('account', { method: 'PATCH', body: { display_name: 'Vera Viewer' } });
  for (const asker of [owner, editor, viewer]) {
    const res = await asker.call(`members?workspace_id=${ws}`);
    assertEquals(res.status, 200);
    const byId = new Map(res.body.members.map((m: { user_id: string }) => [m.user_id, m]));
    assertEquals(byId.size, 3);
    assertEquals((byId.get(owner.id) as { role: string }).role, 'owner');
    assertEquals((byId.get(editor.id) as { email: string }).email, editor.email);
    const v = byId.get(viewer.id) as { role: string; display_name: string; joined_at: string };
    assertEquals(v.role, 'viewer');
    assertEquals(v.display_name, 'Vera Viewer');
    assertMatch(v.joined_at, /^\d{4}-\d{2}-\d{2}T/);
  }
});

Deno.test('an owner changes roles; the change shows in the list and in the member’s workspace list', async () => {
  const { owner, editor, viewer, ws } = await team();
  const promoted = await owner.call(`members/${ws}/${viewer.id}`, { method: 'PATCH', body: { role: 'editor' } });
  assertEquals(promoted.status, 200);
  assertEquals(promoted.body.member.role, 'editor');
  assertEquals(promoted.body.member.user_id, viewer.id);
  assertEquals(await roleOf(editor, ws, viewer), 'editor');
  const mine = await viewer.call(`workspaces/${ws}`);
  assertEquals(mine.body.workspace.role, 'editor');
});

Deno.test('viewers and editors cannot change roles or remove others (403); nobody raises their own role', async () => {
  const { owner, editor, viewer, ws } = await team();
  for (const actor of [viewer, editor]) {
    for (const target of [owner, editor, viewer]) {
      const res = await actor.call(`members/${ws}/${target.id}`, { method: 'PATCH', body: { role: 'owner' } });
      assertEquals(res.status, 403, `${actor.email} → ${target.email}`);
      assertEquals(res.body.error.code, 'forbidden');
    }
    for (const target of [owner, actor === editor ? viewer : editor]) {
      const res = await actor.call(`members/${ws}/${target.id}`, { method: 'DELETE' });
      assertEquals(res.status, 403);
    }
  }
  assertEquals(await roleOf(owner, ws, editor), 'editor');
  assertEquals(await roleOf(owner, ws, viewer), 'viewer');
  assertEquals(await roleOf(owner, ws, owner), 'owner');
});

Deno.test('the last owner can neither leave, be removed nor be demoted (409); with two owners one may step down', async () => {
  const { owner, editor, ws } = await team();
  const leave = await owner.call(`members/${ws}/leave`, { method: 'POST' });
  assertEquals(leave.status, 409);
  assertEquals(leave.body.error.code, 'last_owner');
  assertMatch(leave.body.error.message, /last owner/);
  assertEquals((await owner.call(`members/${ws}/${owner.id}`, { method: 'DELETE' })).status, 409);
  const demote = await owner.call(`members/${ws}/${owner.id}`, { method: 'PATCH', body: { role: 'editor' } });
  assertEquals(demote.status, 409);
  assertEquals(demote.body.error.code, 'last_owner');

  assertEquals((await owner.call(`members/${ws}/${editor.id}`, { method: 'PATCH', body: { role: 'owner' } })).status, 200);
  const stepDown = await owner.call(`members/${ws}/${owner.id}`, { method: 'PATCH', body: { role: 'viewer' } });
  assertEquals(stepDown.status, 200);
  assertEquals(stepDown.body.member.role, 'viewer');
  // The new sole owner is now the last one.
  assertEquals((await editor.call(`members/${ws}/leave`, { method: 'POST' })).status, 409);
});

Deno.test('a personal workspace cannot be left by its only owner', async () => {
  const alice = await signUp('mem-personal');
  const personal = await personalWorkspace(alice);
  assertEquals((await alice.call(`members/${personal}/leave`, { method: 'POST' })).status, 409);
});

Deno.test('a member leaves (POST leave or DELETE of themself); an owner removes a member', async () => {
  const { owner, editor, viewer, ws } = await team();
  const left = await viewer.call(`members/${ws}/leave`, { method: 'POST' });
  assertEquals(left.status, 200);
  assertEquals(left.body, { removed: true, workspace_id: ws, user_id: viewer.id });
  assertEquals((await viewer.call(`members?workspace_id=${ws}`)).status, 404);
  assertEquals((await viewer.call(`workspaces/${ws}`)).status, 404);

  const selfRemoved = await editor.call(`members/${ws}/${editor.id}`, { method: 'DELETE' });
  assertEquals(selfRemoved.status, 200);
  assertEquals((await editor.call(`workspaces/${ws}`)).status, 404);

  const third = await signUp('mem-third');
  await addMember(owner, ws, third, 'editor');
  const removed = await owner.call(`members/${ws}/${third.id}`, { method: 'DELETE' });
  assertEquals(removed.status, 200);
  assertEquals(removed.body, { removed: true, workspace_id: ws, user_id: third.id });
  assertEquals((await third.call(`workspaces/${ws}`)).status, 404);

  const members = (await owner.call(`members?workspace_id=${ws}`)).body.members;
  assertEquals(
    members.map((m: { user_id: string }) => m.user_id),
    [owner.id],
  );

  const again = await owner.call(`members/${ws}/${third.id}`, { method: 'DELETE' });
  assertEquals(again.status, 404);
});

Deno.test('another workspace’s id is 404 on every members route', async () => {
  const { owner, editor, ws } = await team();
  const mallory = await signUp('mem-intruder');
  for (const id of [ws, NOT_A_WORKSPACE]) {
    assertEquals((await mallory.call(`members?workspace_id=${id}`)).status, 404);
    assertEquals((await mallory.call(`members/${id}/${editor.id}`, { method: 'PATCH', body: { role: 'viewer' } })).status, 404);
    assertEquals((await mallory.call(`members/${id}/${mallory.id}`, { method: 'PATCH', body: { role: 'owner' } })).status, 404);
    assertEquals((await mallory.call(`members/${id}/${editor.id}`, { method: 'DELETE' })).status, 404);
    assertEquals((await mallory.call(`members/${id}/${owner.id}`, { method: 'DELETE' })).status, 404);
    assertEquals((await mallory.call(`members/${id}/leave`, { method: 'POST' })).status, 404);
  }
  assertEquals(await roleOf(owner, ws, editor), 'editor');
  assertEquals((await owner.call(`members?workspace_id=${ws}`)).body.members.length, 3);
});

Deno.test('malformed input is 400 naming the field; no token is 401', async () => {
  const { owner, editor, ws } = await team();
  const noQuery = await owner.call('members');
  assertEquals(noQuery.status, 400);
  assertEquals(failedPaths(noQuery), ['workspace_id']);
  assertEquals(failedPaths(await owner.call('members?workspace_id=nope')), ['workspace_id']);

  const badRole = await owner.call(`members/${ws}/${editor.id}`, { method: 'PATCH', body: { role: 'admin' } });
  assertEquals(badRole.status, 400);
  assertEquals(failedPaths(badRole), ['role']);
  assertEquals(failedPaths(await owner.call(`members/${ws}/${editor.id}`, { method: 'PATCH' })), ['role']);
  assertEquals(failedPaths(await owner.call(`members/${ws}/not-a-user`, { method: 'DELETE' })), ['user_id']);
  assertEquals(failedPaths(await owner.call(`members/x/leave`, { method: 'POST' })), ['workspace_id']);

  for (const [method, path] of [
    ['GET', `members?workspace_id=${ws}`],
    ['PATCH', `members/${ws}/${editor.id}`],
    ['DELETE', `members/${ws}/${editor.id}`],
    ['POST', `members/${ws}/leave`],
  ]) {
    const res = await callFunction(null, path, { method, body: method === 'PATCH' ? { role: 'owner' } : undefined });
    assertEquals(res.status, 401, `${method} ${path}`);
  }
  assertEquals(await roleOf(owner, ws, editor), 'editor');
});
