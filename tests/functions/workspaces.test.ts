// The workspaces function against a running stack: list/create/read/rename/delete, role rules,
// cross-tenant ids (404), malformed input (400 naming the field) and the gateway's 401.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import {
  addMember,
  callFunction,
  createWorkspace,
  failedPaths,
  NOT_A_WORKSPACE,
  personalWorkspace,
  signUp,
  stack,
} from './helpers/users.ts';

Deno.test('a new user lists exactly their personal workspace, as owner', async () => {
  const alice = await signUp('ws-list');
  const res = await alice.call('workspaces');
  assertEquals(res.status, 200);
  assertEquals(res.body.workspaces.length, 1);
  const [w] = res.body.workspaces;
  assertEquals(w.personal, true);
  assertEquals(w.role, 'owner');
  assertMatch(w.id, /^[0-9a-f-]{36}$/);
  assertMatch(w.created_at, /^\d{4}-\d{2}-\d{2}T/);
  assertEquals(Object.keys(w).sort(), ['created_at', 'id', 'name', 'personal', 'role', 'slug', 'updated_at']);
});

Deno.test('create, read, rename and delete a team workspace as its owner', async () => {
  const alice = await signUp('ws-crud');
  const created = await alice.call('workspaces', { method: 'POST', body: { name: '  Launch team  ' } });
  assertEquals(created.status, 201);
  const ws = created.body.workspace;
  assertEquals(ws.name, 'Launch team');
  assertEquals(ws.personal, false);
  assertEquals(ws.role, 'owner');

  const listed = await alice.call('workspaces');
  assertEquals(listed.body.workspaces.map((w: { id: string }) => w.id).includes(ws.id), true);
  assertEquals(listed.body.workspaces.length, 2);

  const read = await alice.call(`workspaces/${ws.id}`);
  assertEquals(read.status, 200);
  assertEquals(read.body.workspace.id, ws.id);

  const renamed = await alice.call(`workspaces/${ws.id}`, {
    method: 'PATCH',
    body: { name: 'Launch crew', slug: `crew-${ws.id.slice(0, 8)}` },
  });
  assertEquals(renamed.status, 200);
  assertEquals(renamed.body.workspace.name, 'Launch crew');
  assertEquals(renamed.body.workspace.slug, `crew-${ws.id.slice(0, 8)}`);
  assertEquals((await alice.call(`workspaces/${ws.id}`)).body.workspace.name, 'Launch crew');

  const deleted = await alice.call(`workspaces/${ws.id}`, { method: 'DELETE' });
  assertEquals(deleted.status, 200);
  assertEquals(deleted.body, { deleted: true, id: ws.id });
  assertEquals((await alice.call(`workspaces/${ws.id}`)).status, 404);
  assertEquals((await alice.call('workspaces')).body.workspaces.length, 1);
});

Deno.test('a personal workspace cannot be deleted on its own (409 with a reason)', async () => {
  const alice = await signUp('ws-personal');
  const personal = await personalWorkspace(alice);
  const res = await alice.call(`workspaces/${personal}`, { method: 'DELETE' });
  assertEquals(res.status, 409);
  assertEquals(res.body.error.code, 'personal_workspace');
  assertMatch(res.body.error.message, /deleted together with your account/);
  assertEquals((await alice.call(`workspaces/${personal}`)).status, 200);
});

Deno.test('a taken slug is a 409 conflict', async () => {
  const alice = await signUp('ws-slug');
  const slug = `slug-${crypto.randomUUID().slice(0, 8)}`;
  assertEquals((await alice.call('workspaces', { method: 'POST', body: { name: 'One', slug } })).status, 201);
  const again = await alice.call('workspaces', { method: 'POST', body: { name: 'Two', slug } });
  assertEquals(again.status, 409);
  assertEquals(again.body.error.code, 'conflict');
});

Deno.test('editors and viewers see the workspace but cannot rename or delete it (403)', async () => {
  const owner = await signUp('ws-owner');
  const editor = await signUp('ws-editor');
  const viewer = await signUp('ws-viewer');
  const ws = await createWorkspace(owner, 'Roles');
  await addMember(owner, ws, editor, 'editor');
  await addMember(owner, ws, viewer, 'viewer');

  for (const [user, role] of [
    [editor, 'editor'],
    [viewer, 'viewer'],
  ] as const) {
    const read = await user.call(`workspaces/${ws}`);
    assertEquals(read.status, 200);
    assertEquals(read.body.workspace.role, role);
    const rename = await user.call(`workspaces/${ws}`, { method: 'PATCH', body: { name: 'Mine now' } });
    assertEquals(rename.status, 403, `${role} rename`);
    assertEquals(rename.body.error.code, 'forbidden');
    const del = await user.call(`workspaces/${ws}`, { method: 'DELETE' });
    assertEquals(del.status, 403, `${role} delete`);
  }
  assertEquals((await owner.call(`workspaces/${ws}`)).body.workspace.name, 'Roles');
});

Deno.test("another user's workspace id is 404 on every route, exactly like an unknown id", async () => {
  const alice = await signUp('ws-victim');
  const mallory = await signUp('ws-intruder');
  const ws = await createWorkspace(alice, 'Private');
  for (const id of [ws, NOT_A_WORKSPACE]) {
    const read = await mallory.call(`workspaces/${id}`);
    assertEquals(read.status, 404);
    assertEquals(read.body.error.code, 'not_found');
    assertEquals((await mallory.call(`workspaces/${id}`, { method: 'PATCH', body: { name: 'pwned' } })).status, 404);
    assertEquals((await mallory.call(`workspaces/${id}`, { method: 'DELETE' })).status, 404);
  }
  const listed = await mallory.call('workspaces');
  assertEquals(
    listed.body.workspaces.some((w: { id: string }) => w.id === ws),
    false,
  );
  assertEquals((await alice.call(`workspaces/${ws}`)).body.workspace.name, 'Private');
});

Deno.test('malformed bodies and ids are 400 naming the field', async () => {
  const alice = await signUp('ws-bad');
  const ws = await createWorkspace(alice);

  const noName = await alice.call('workspaces', { method: 'POST', body: {} });
  assertEquals(noName.status, 400);
  assertEquals(noName.body.error.code, 'validation_failed');
  assertEquals(failedPaths(noName), ['name']);

  const badTypes = await alice.call('workspaces', { method: 'POST', body: { name: 42, slug: 'Not A Slug' } });
  assertEquals(failedPaths(badTypes), ['name', 'slug']);

  const tooLong = await alice.call(`workspaces/${ws}`, { method: 'PATCH', body: { name: 'x'.repeat(101) } });
  assertEquals(tooLong.status, 400);
  assertEquals(failedPaths(tooLong), ['name']);

  const empty = await alice.call(`workspaces/${ws}`, { method: 'PATCH', body: {} });
  assertEquals(empty.status, 400);

  const unknownField = await alice.call(`workspaces/${ws}`, { method: 'PATCH', body: { name: 'ok', personal: false } });
  assertEquals(unknownField.status, 400);
  assertMatch(unknownField.body.error.message, /personal/);

  const badJson = await alice.call('workspaces', { method: 'POST', rawBody: '{"name":' });
  assertEquals(badJson.status, 400);
  assertEquals(badJson.body.error.code, 'invalid_json');

  const badId = await alice.call('workspaces/not-a-uuid');
  assertEquals(badId.status, 400);
  assertEquals(failedPaths(badId), ['id']);
});

Deno.test('no token is refused by the gateway (401); the anon key is refused by the function (401)', async () => {
  const alice = await signUp('ws-401');
  const ws = await createWorkspace(alice);
  const routes: [string, string][] = [
    ['GET', ''],
    ['POST', ''],
    ['GET', `/${ws}`],
    ['PATCH', `/${ws}`],
    ['DELETE', `/${ws}`],
  ];
  for (const [method, path] of routes) {
    const body = method === 'GET' ? undefined : { name: 'x' };
    const none = await callFunction(null, `workspaces${path}`, { method, body });
    assertEquals(none.status, 401, `${method} ${path} without token`);
    const anon = await callFunction(stack.anonKey, `workspaces${path}`, { method, body });
    assertEquals(anon.status, 401, `${method} ${path} with the anon key`);
    assertEquals(anon.body.error.code, 'unauthorized');
  }
  assertOk((await alice.call(`workspaces/${ws}`)).status === 200);
});
