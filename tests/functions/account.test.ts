// The account function against a running stack: profile round trip, the GDPR export (mine, all
// of it, nobody else's, no credentials) and erasure (confirmation, sole-owner rule, sign-in gone).
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import {
  addMember,
  callFunction,
  createWorkspace,
  failedPaths,
  personalWorkspace,
  signIn,
  signUp,
  withDb,
} from './helpers/users.ts';

Deno.test('GET returns my profile with my email; PATCH round-trips every field', async () => {
  const alice = await signUp('acct-profile');
  const before = await alice.call('account');
  assertEquals(before.status, 200);
  assertEquals(before.body.profile.id, alice.id);
  assertEquals(before.body.profile.email, alice.email);
  assertEquals(before.body.profile.display_name, alice.email.split('@')[0]);
  assertEquals(before.body.profile.timezone, 'UTC');
  assertEquals(before.body.profile.locale, 'en');

  const update = { display_name: 'Alice A.', avatar_url: 'https://cdn.example.com/a.png', locale: 'pt-BR', timezone: 'Europe/Berlin' };
  const patched = await alice.call('account', { method: 'PATCH', body: update });
  assertEquals(patched.status, 200);
  const after = (await alice.call('account')).body.profile;
  for (const [key, value] of Object.entries(update)) assertEquals(after[key], value, key);

  const cleared = await alice.call('account', { method: 'PATCH', body: { avatar_url: null } });
  assertEquals(cleared.body.profile.avatar_url, null);
  assertEquals(cleared.body.profile.timezone, 'Europe/Berlin');
});

Deno.test('PATCH with an unknown time zone or malformed fields is 400 naming each field', async () => {
  const alice = await signUp('acct-bad');
  const tz = await alice.call('account', { method: 'PATCH', body: { timezone: 'Mars/Olympus_Mons' } });
  assertEquals(tz.status, 400);
  assertEquals(tz.body.error.code, 'validation_failed');
  assertEquals(failedPaths(tz), ['timezone']);
  assertMatch(tz.body.error.message, /time zone/);

  const many = await alice.call('account', {
    method: 'PATCH',
    body: { display_name: '', avatar_url: 'http://insecure.example.com/a.png', locale: 'English!', timezone: 5 },
  });
  assertEquals(many.status, 400);
  assertEquals(failedPaths(many), ['avatar_url', 'display_name', 'locale', 'timezone']);

  assertEquals((await alice.call('account', { method: 'PATCH', body: {} })).status, 400);
  const readOnly = await alice.call('account', { method: 'PATCH', body: { id: crypto.randomUUID() } });
  assertEquals(readOnly.status, 400);
  assertMatch(readOnly.body.error.message, /id/);
  assertEquals((await alice.call('account')).body.profile.timezone, 'UTC');
});

Deno.test('export is one attachment with every row of mine, nobody else’s, and no credentials', async () => {
  const alice = await signUp('acct-export');
  const bob = await signUp('acct-coworker');
  const mallory = await signUp('acct-stranger');
  const bobMarker = `bob-marker-${crypto.randomUUID()}`;
  await bob.call('account', { method: 'PATCH', body: { display_name: bobMarker } });
  await alice.call('account', { method: 'PATCH', body: { display_name: 'Alice Export', timezone: 'Asia/Tokyo' } });

  const personal = await personalWorkspace(alice);
  const team = await createWorkspace(alice, 'Alice team');
  await addMember(alice, team, bob, 'editor'); // invitation alice sent
  const bobs = await createWorkspace(bob, 'Bob team');
  await addMember(bob, bobs, alice, 'viewer'); // invitation alice accepted
  const bobPersonal = await personalWorkspace(bob);
  const malloryTeam = await createWorkspace(mallory, 'Elsewhere');

  const res = await alice.call('account/export');
  assertEquals(res.status, 200);
  assertMatch(res.headers.get('content-disposition') ?? '', /^attachment; filename="account-export-\d{4}-\d{2}-\d{2}\.json"$/);
  assertMatch(res.headers.get('content-type') ?? '', /application\/json/);
  const doc = res.body;

  assertEquals(doc.user.id, alice.id);
  assertEquals(doc.user.email, alice.email);
  assertEquals(doc.profile.display_name, 'Alice Export');
  assertEquals(doc.profile.timezone, 'Asia/Tokyo');
  assertEquals(doc.memberships.length, 3);
  assertEquals(doc.memberships.every((m: { user_id: string }) => m.user_id === alice.id), true);
  const workspaceIds = doc.workspaces.map((w: { id: string }) => w.id).sort();
  assertEquals(workspaceIds, [personal, team, bobs].sort());
  assertEquals(doc.workspaces.find((w: { id: string }) => w.id === bobs).role, 'viewer');
  assertEquals(doc.invitations_sent.length, 1);
  assertEquals(doc.invitations_sent[0].email, bob.email);
  assertEquals(doc.invitations_accepted.length, 1);
  assertEquals(doc.invitations_accepted[0].workspace_id, bobs);
  assertOk(doc.sessions.length >= 1);
  assertOk(typeof doc.other_tables === 'object');

  const text = JSON.stringify(doc);
  for (const foreign of [bobMarker, bobPersonal, malloryTeam, mallory.id, mallory.email]) {
    assertEquals(text.includes(foreign), false, `export contains ${foreign}`);
  }
  for (const secret of ['encrypted_password', 'token_hash', 'confirmation_token', 'recovery_token', alice.password, '$2a$', '$2b$']) {
    assertEquals(text.includes(secret), false, `export contains ${secret}`);
  }
});

Deno.test('DELETE without the exact confirmation is 400 and deletes nothing', async () => {
  const alice = await signUp('acct-confirm');
  for (const body of [undefined, {}, { confirm: 'yes' }, { confirm: 'delete' }, { confirm: true }]) {
    const res = await alice.call('account', { method: 'DELETE', body });
    assertEquals(res.status, 400, JSON.stringify(body));
    assertEquals(failedPaths(res), ['confirm']);
  }
  assertEquals((await signIn(alice.email, alice.password)).status, 200);
});

Deno.test('DELETE refuses while I am the only owner of a workspace others use (409 naming it)', async () => {
  const alice = await signUp('acct-blocked');
  const bob = await signUp('acct-stays');
  const shared = await createWorkspace(alice, 'Shared studio');
  await addMember(alice, shared, bob, 'editor');

  const res = await alice.call('account', { method: 'DELETE', body: { confirm: 'DELETE' } });
  assertEquals(res.status, 409);
  assertEquals(res.body.error.code, 'sole_owner');
  assertMatch(res.body.error.message, /Shared studio/);
  assertMatch(res.body.error.message, /owner/);
  assertEquals(res.body.error.details.workspaces, [{ id: shared, name: 'Shared studio', other_members: 1 }]);
  assertEquals((await signIn(alice.email, alice.password)).status, 200);
  assertEquals((await alice.call(`workspaces/${shared}`)).status, 200);
});

Deno.test('DELETE erases me and the workspaces only I belonged to; shared ones live on; sign-in fails', async () => {
  const alice = await signUp('acct-erase');
  const bob = await signUp('acct-heir');
  const personal = await personalWorkspace(alice);
  const solo = await createWorkspace(alice, 'Only me');
  const shared = await createWorkspace(alice, 'Handed over');
  await addMember(alice, shared, bob, 'owner');
  const bobs = await createWorkspace(bob, 'Bob owns');
  await addMember(bob, bobs, alice, 'editor');

  const res = await alice.call('account', { method: 'DELETE', body: { confirm: 'DELETE' } });
  assertEquals(res.status, 200);
  assertEquals(res.body.deleted, true);
  assertEquals(res.body.workspaces_deleted.map((w: { id: string }) => w.id).sort(), [personal, solo].sort());

  const signInAgain = await signIn(alice.email, alice.password);
  assertEquals(signInAgain.status, 400);

  const left = await withDb((sql) => sql<{ id: string }[]>`
    select id from public.workspaces where id in ${sql([personal, solo, shared, bobs])}`);
  assertEquals(left.map((w) => w.id).sort(), [shared, bobs].sort());
  const traces = await withDb((sql) => sql<{ n: number }[]>`
    select (select count(*) from auth.users where id = ${alice.id})
         + (select count(*) from public.profiles where id = ${alice.id})
         + (select count(*) from public.workspace_members where user_id = ${alice.id}) as n`);
  assertEquals(Number(traces[0].n), 0);

  const members = (await bob.call(`members?workspace_id=${shared}`)).body.members;
  assertEquals(members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]), [[bob.id, 'owner']]);
  // The old access token is still a valid JWT until it expires, but there is nothing left behind it.
  assertEquals((await alice.call('account')).status, 404);
  assertEquals((await alice.call('workspaces')).body.workspaces, []);
});

Deno.test('every account route needs a token (401)', async () => {
  for (const [method, path, body] of [
    ['GET', 'account', undefined],
    ['PATCH', 'account', { display_name: 'x' }],
    ['GET', 'account/export', undefined],
    ['DELETE', 'account', { confirm: 'DELETE' }],
  ] as const) {
    assertEquals((await callFunction(null, path, { method, body })).status, 401, `${method} ${path}`);
  }
});
