// The account function against a running stack: profile round trip, the GDPR export (mine, all
// of it with the data of the workspaces I own, streamed, nobody else's, no credentials) and erasure (confirmation, sole-owner rule, sign-in gone).
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import {
  addMember,
  callFunction,
  createWorkspace,
  failedPaths,
  personalWorkspace,
  signIn,
  signUp,
  stack,
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

/** A channel with `videos` videos of `days` daily metrics each in the workspace (test set-up). */
async function channelWithMetrics(workspaceId: string, videos: number, days: number): Promise<void> {
  const tag = crypto.randomUUID().replaceAll('-', '').slice(0, 12);
  await withDb(async (sql) => {
    const [channel] = await sql<{ id: string }[]>`
      insert into public.channels (workspace_id, youtube_channel_id, title) values (${workspaceId}, ${'UCexp' + tag}, 'Export channel')
      returning id`;
    await sql`
      insert into public.videos (workspace_id, channel_id, youtube_video_id, title)
      select ${workspaceId}, ${channel.id}, ${'ex' + tag} || n, 'Export video ' || n from generate_series(1, ${videos}) n`;
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, likes)
      select v.workspace_id, v.id, current_date - d, d * 7, d
      from public.videos v, generate_series(1, ${days}) d where v.channel_id = ${channel.id}`;
  });
}

Deno.test('export streams the data of the workspaces I own, over many chunks, as one document', async () => {
  const alice = await signUp('acct-export-data');
  const bob = await signUp('acct-export-team');
  const personal = await personalWorkspace(alice);
  const bobs = await createWorkspace(bob, 'Bob data');
  await addMember(bob, bobs, alice, 'editor');
  // 250 videos x 120 days: 30,000 metric rows, about 2 MB, so several chunks of the stream.
  await channelWithMetrics(personal, 250, 120);
  await channelWithMetrics(bobs, 2, 3);

  const res = await alice.call('account/export');
  assertEquals(res.status, 200);
  assertMatch(res.headers.get('content-disposition') ?? '', /^attachment; filename="account-export-\d{4}-\d{2}-\d{2}\.json"$/);
  const data = res.body.workspace_data;
  assertEquals(Object.keys(data), [personal], 'only the workspace alice owns');
  const metrics = data[personal].video_metrics;
  assertEquals(metrics.rows.length, 30_000);
  assertEquals(metrics.columns.includes('workspace_id'), false);
  const views = metrics.columns.indexOf('views');
  assertEquals(metrics.rows.reduce((sum: number, r: number[]) => sum + Number(r[views]), 0), 250 * 7 * (120 * 121) / 2);
  assertEquals(data[personal].videos.rows.length, 250);
  assertEquals(data[personal].channels.rows.length, 1);
  assertEquals(JSON.stringify(data).includes(bobs), false, 'nothing of the workspace alice only belongs to');
  assertEquals(res.body.workspaces.some((w: { id: string }) => w.id === bobs), true, 'the membership is still listed');
});

Deno.test('a download abandoned half-way ends its transaction; the next one is whole', async () => {
  const alice = await signUp('acct-export-abort');
  // 400 videos x 365 days, about 8 MB: more than the sockets between here and the function hold.
  await channelWithMetrics(await personalWorkspace(alice), 400, 365);
  const res = await fetch(`${stack.url}/functions/v1/account/export`, {
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${alice.token}` },
  });
  assertEquals(res.status, 200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assertOk(first.value && first.value.length > 0);
  await reader.cancel();

  const deadline = Date.now() + 10_000;
  let open = -1;
  while (Date.now() < deadline) {
    open = await withDb(async (sql) => (await sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where state like 'idle in transaction%' and query like '%fetch_export_chunk%'`)[0].n);
    if (open === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assertEquals(open, 0, 'no connection is left in the export transaction');
  const again = await alice.call('account/export');
  assertEquals(again.status, 200);
  assertEquals(Object.values(again.body.workspace_data as Record<string, { video_metrics: { rows: unknown[] } }>)[0].video_metrics.rows.length, 146_000);
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
