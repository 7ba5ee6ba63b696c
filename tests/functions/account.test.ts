// The account function against a running stack: profile round trip, the GDPR export (mine, all
// of it, nobody else's, no credentials; the data of the workspaces I own in bounded parts that
// chain to exactly their rows) and erasure (confirmation, sole-owner rule, sign-in gone).
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
  type TestUser,
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
  assertEquals(
    doc.memberships.every((m: { user_id: string }) => m.user_id === alice.id),
    true,
  );
  const workspaceIds = doc.workspaces.map((w: { id: string }) => w.id).sort();
  assertEquals(workspaceIds, [personal, team, bobs].sort());
  assertEquals(doc.workspaces.find((w: { id: string }) => w.id === bobs).role, 'viewer');
  assertEquals(doc.invitations_sent.length, 1);
  assertEquals(doc.invitations_sent[0].email, bob.email);
  assertEquals(doc.invitations_accepted.length, 1);
  assertEquals(doc.invitations_accepted[0].workspace_id, bobs);
  assertOk(doc.sessions.length >= 1);
  assertOk(typeof doc.other_tables === 'object');
  assertEquals(doc.workspace_data, undefined, 'no workspace data inlined');
  assertEquals(
    doc.workspace_exports
      .map((w: { workspace_id: string; name: string; first_part_path: string }) => [w.workspace_id, w.first_part_path])
      .sort(),
    [personal, team].sort().map((id) => [id, `account/export/workspaces/${id}`]),
    'the workspaces alice owns, each with the path of its first part',
  );

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

interface Part {
  workspace_id: string;
  part: number;
  tables: Record<string, { columns: string[]; rows: unknown[][] }>;
  next_cursor: string | null;
}

/** Every part of a workspace's data at a byte budget, following next_cursor from the first. */
async function allParts(user: TestUser, workspaceId: string, maxBytes?: number): Promise<Part[]> {
  const parts: Part[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams();
    if (cursor) query.set('cursor', cursor);
    if (maxBytes) query.set('max_bytes', String(maxBytes));
    const res = await user.call(`account/export/workspaces/${workspaceId}?${query}`);
    assertEquals(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    assertMatch(
      res.headers.get('content-disposition') ?? '',
      /^attachment; filename="workspace-export-[0-9a-f-]{36}-part-\d+-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    parts.push(res.body as Part);
    cursor = (res.body as Part).next_cursor;
  } while (cursor && parts.length < 10_000);
  return parts;
}

/** One table's rows over all parts, in order. */
function rowsOf(parts: Part[], table: string): unknown[][] {
  return parts.flatMap((p) => p.tables[table]?.rows ?? []);
}

function base64Url(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

Deno.test('workspace data comes in bounded parts that chain to exactly its rows', async () => {
  const alice = await signUp('acct-export-data');
  const bob = await signUp('acct-export-team');
  const personal = await personalWorkspace(alice);
  const bobs = await createWorkspace(bob, 'Bob data');
  await addMember(bob, bobs, alice, 'editor');
  // 250 videos x 120 days: 30,000 metric rows, about 2 MB: one part at the default budget, dozens at 64 KB.
  await channelWithMetrics(personal, 250, 120);
  await channelWithMetrics(bobs, 2, 3);

  const [whole] = await allParts(alice, personal);
  assertEquals(whole.workspace_id, personal);
  assertEquals(whole.part, 1);
  assertEquals(whole.next_cursor, null, 'a small workspace is one part');
  const parts = await allParts(alice, personal, 64 * 1024);
  assertOk(parts.length >= 20, `${parts.length} parts`);
  assertEquals(
    parts.map((p) => p.part),
    parts.map((_, i) => i + 1),
  );
  assertEquals(
    parts.every((p) => p.workspace_id === personal),
    true,
  );
  for (const p of parts) assertOk(JSON.stringify(p).length < 64 * 1024 + 600 * 1024, `part ${p.part} stays near its budget`);

  for (const table of Object.keys(whole.tables)) {
    assertEquals(rowsOf(parts, table), whole.tables[table].rows, `${table}: the parts concatenate to the one part`);
  }
  const metrics = whole.tables.video_metrics;
  assertEquals(metrics.columns.includes('workspace_id'), false);
  const rows = rowsOf(parts, 'video_metrics');
  assertEquals(rows.length, 30_000);
  const [video, day, views] = ['video_id', 'day', 'views'].map((c) => metrics.columns.indexOf(c));
  assertEquals(new Set(rows.map((r) => `${r[video]} ${r[day]}`)).size, 30_000, 'no row twice');
  assertEquals(
    rows.reduce((sum, r) => sum + Number(r[views]), 0),
    (250 * 7 * (120 * 121)) / 2,
  );
  assertEquals(rowsOf(parts, 'videos').length, 250);
  assertEquals(rowsOf(parts, 'channels').length, 1);
  assertEquals(JSON.stringify(parts).includes(bobs), false, 'nothing of the workspace alice only belongs to');
});

Deno.test('a workspace part is 404 for a workspace I do not own, 400 for a forged cursor', async () => {
  const alice = await signUp('acct-part-owner');
  const mallory = await signUp('acct-part-stranger');
  const personal = await personalWorkspace(alice);
  const malloryWs = await personalWorkspace(mallory);
  await channelWithMetrics(malloryWs, 3, 2);
  const malloryVideo = await withDb(
    async (sql) => (await sql<{ id: string }[]>`select id from public.videos where workspace_id = ${malloryWs} limit 1`)[0].id,
  );

  for (const path of [`account/export/workspaces/${malloryWs}`, `account/export/workspaces/${crypto.randomUUID()}`]) {
    const res = await alice.call(path);
    assertEquals(res.status, 404, path);
    assertEquals(res.body.error.code, 'not_found');
  }
  const bob = await signUp('acct-part-viewer');
  await addMember(alice, personal, bob, 'editor');
  assertEquals((await bob.call(`account/export/workspaces/${personal}`)).status, 404, 'a member who is not an owner');

  for (const cursor of [
    'not a cursor!',
    'bm90IGpzb24',
    base64Url({ p: 2, t: 'videos', k: null, extra: 1 }),
    base64Url({ p: 2, t: 'profiles', k: null }),
    base64Url({ p: 2, t: 'videos', k: ['not-a-uuid'] }),
    base64Url({ p: 2, t: 'video_metrics', k: [crypto.randomUUID()] }),
  ]) {
    const res = await alice.call(`account/export/workspaces/${personal}?cursor=${encodeURIComponent(cursor)}`);
    assertEquals(res.status, 400, cursor);
    assertEquals(res.body.error.code, 'validation_failed');
  }
  assertEquals((await alice.call(`account/export/workspaces/${personal}?max_bytes=${2 ** 30}`)).status, 400);
  assertEquals((await alice.call('account/export/workspaces/not-a-uuid')).status, 400);

  // A key taken from another tenant's rows only moves within alice's own data.
  const moved = await alice.call(`account/export/workspaces/${personal}?cursor=${base64Url({ p: 2, t: 'videos', k: [malloryVideo] })}`);
  assertEquals(moved.status, 200);
  assertEquals(JSON.stringify(moved.body).includes(malloryWs), false);
  assertEquals(JSON.stringify(moved.body).includes(malloryVideo), false);
});

Deno.test('a download abandoned half-way ends its transaction; the next one is whole', async () => {
  const alice = await signUp('acct-export-abort');
  const personal = await personalWorkspace(alice);
  // 400 videos x 365 days, about 8 MB: more than the sockets between here and the function hold.
  await channelWithMetrics(personal, 400, 365);
  const res = await fetch(`${stack.url}/functions/v1/account/export/workspaces/${personal}`, {
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
    open = await withDb(
      async (sql) =>
        (
          await sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where state like 'idle in transaction%' and query like '%fetch_export_chunk%'`
        )[0].n,
    );
    if (open === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assertEquals(open, 0, 'no connection is left in the export transaction');
  assertEquals(rowsOf(await allParts(alice, personal), 'video_metrics').length, 146_000);
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

  const left = await withDb(
    (sql) => sql<{ id: string }[]>`
    select id from public.workspaces where id in ${sql([personal, solo, shared, bobs])}`,
  );
  assertEquals(left.map((w) => w.id).sort(), [shared, bobs].sort());
  const traces = await withDb(
    (sql) => sql<{ n: number }[]>`
    select (select count(*) from auth.users where id = ${alice.id})
         + (select count(*) from public.profiles where id = ${alice.id})
         + (select count(*) from public.workspace_members where user_id = ${alice.id}) as n`,
  );
  assertEquals(Number(traces[0].n), 0);

  const members = (await bob.call(`members?workspace_id=${shared}`)).body.members;
  assertEquals(
    members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]),
    [[bob.id, 'owner']],
  );
  // The old access token is still a valid JWT until it expires, but there is nothing left behind it.
  assertEquals((await alice.call('account')).status, 404);
  assertEquals((await alice.call('workspaces')).body.workspaces, []);
});

Deno.test('every account route needs a token (401)', async () => {
  for (const [method, path, body] of [
    ['GET', 'account', undefined],
    ['PATCH', 'account', { display_name: 'x' }],
    ['GET', 'account/export', undefined],
    ['GET', `account/export/workspaces/${crypto.randomUUID()}`, undefined],
    ['DELETE', 'account', { confirm: 'DELETE' }],
  ] as const) {
    assertEquals((await callFunction(null, path, { method, body })).status, 401, `${method} ${path}`);
  }
});
