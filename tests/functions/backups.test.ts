// The backups function: an owner restores their workspace to a snapshot (data back, other
// workspaces untouched), a viewer gets 403, a stranger 404, admins take snapshots on demand and
// may restore any workspace; a restore needs confirm: "RESTORE". A restore is a job: POST answers
// 202 with its id, the steps run chained through pg_net, GET /restores/:id shows progress. A
// snapshot taken before a column change is refused with 409; snapshots are taken only in
// repeatable read transactions (pg_cron's command and the function), never read committed.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { addMember, createWorkspace, failedPaths, signUp, withDb, type Answer, type TestUser } from './helpers/users.ts';
import { createAdmin } from './helpers/ops.ts';

/** Starts a restore (202) and follows it until it is no longer running; returns its last state. */
async function restoreAndWait(caller: TestUser, body: Record<string, unknown>): Promise<Answer> {
  const started = await caller.call('backups/restore', { method: 'POST', body });
  assertEquals(started.status, 202, JSON.stringify(started.body));
  return await waitForRestore(caller, started.body.restore_id);
}

async function waitForRestore(caller: TestUser, id: number): Promise<Answer> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await caller.call(`backups/restores/${id}`);
    assertEquals(got.status, 200, JSON.stringify(got.body));
    if (got.body.restore.status !== 'running' || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function workspaceName(id: string): Promise<string | undefined> {
  return await withDb(async (sql) => (await sql<{ name: string }[]>`select name from public.workspaces where id = ${id}`)[0]?.name);
}

async function memberCount(id: string): Promise<number> {
  return await withDb(async (sql) =>
    Number((await sql<{ n: string }[]>`select count(*) as n from public.workspace_members where workspace_id = ${id}`)[0].n),
  );
}

Deno.test('an owner restores a workspace through the function; viewers 403, strangers 404', async () => {
  const owner = await signUp('bk-owner');
  const viewer = await signUp('bk-viewer');
  const stranger = await signUp('bk-stranger');
  const admin = await createAdmin('bk-admin');
  const team = await createWorkspace(owner, 'Backup team');
  const other = await createWorkspace(stranger, 'Untouched team');
  await addMember(owner, team, viewer, 'viewer');

  assertEquals((await owner.call('backups/snapshots', { method: 'POST', body: {} })).status, 403, 'only admins snapshot on demand');
  const taken = await admin.call('backups/snapshots', { method: 'POST', body: {} });
  assertEquals(taken.status, 201, JSON.stringify(taken.body));
  const snapshotId: number = taken.body.snapshot_id;

  const listed = await owner.call(`backups/snapshots?workspace_id=${team}`);
  assertEquals(listed.status, 200);
  const mine = listed.body.snapshots.find((s: { snapshot_id: number }) => s.snapshot_id === snapshotId);
  assertOk(mine, 'the new snapshot covers the workspace');
  assertEquals(mine.row_count >= 3, true, 'workspace, two memberships and the invitation at least');
  assertEquals((await viewer.call(`backups/snapshots?workspace_id=${team}`)).status, 403);
  assertEquals((await stranger.call(`backups/snapshots?workspace_id=${team}`)).status, 404);

  // the disaster: the workspace is renamed and loses its viewer; the other team changes too
  await withDb(async (sql) => {
    await sql`update public.workspaces set name = 'wrecked' where id = ${team}`;
    await sql`delete from public.workspace_members where workspace_id = ${team} and role = 'viewer'`;
    await sql`update public.workspaces set name = 'Changed after the snapshot' where id = ${other}`;
  });

  const restore = { workspace_id: team, snapshot_id: snapshotId, confirm: 'RESTORE' };
  const unconfirmed = await owner.call('backups/restore', { method: 'POST', body: { ...restore, confirm: 'yes' } });
  assertEquals(unconfirmed.status, 400);
  assertEquals(failedPaths(unconfirmed), ['confirm']);
  assertEquals((await stranger.call('backups/restore', { method: 'POST', body: restore })).status, 404);
  assertEquals(
    (await stranger.call('backups/restore', { method: 'POST', body: { ...restore, workspace_id: other, snapshot_id: 0 } })).status,
    400,
  );
  assertEquals(await workspaceName(team), 'wrecked', 'refused restores changed nothing');

  const started = await owner.call('backups/restore', { method: 'POST', body: restore });
  assertEquals(started.status, 202, JSON.stringify(started.body));
  assertEquals((await stranger.call(`backups/restores/${started.body.restore_id}`)).status, 404, 'strangers do not see the restore');
  assertEquals((await stranger.call('backups/restores/abc')).status, 400);
  assertEquals((await owner.call('backups/restores/999999999')).status, 404);
  const restored = await waitForRestore(owner, started.body.restore_id);
  assertEquals(restored.body.restore.status, 'succeeded', JSON.stringify(restored.body));
  assertEquals(restored.body.restore.restored.tables['public.workspace_members'], 2);
  const progress = restored.body.restore.progress;
  assertEquals(progress.rows_done, progress.rows_total, 'progress ends with every row restored');
  assertEquals(progress.tables_done, progress.tables_total);
  assertEquals(await workspaceName(team), 'Backup team');
  assertEquals(await memberCount(team), 2, 'the viewer is a member again');
  assertEquals(await workspaceName(other), 'Changed after the snapshot', 'another workspace is untouched');

  // the viewer is back, still a viewer: 403 on restore
  const asViewer = await viewer.call('backups/restore', { method: 'POST', body: restore });
  assertEquals(asViewer.status, 403);
  assertEquals((await viewer.call(`backups/restores/${started.body.restore_id}`)).status, 403, 'members who are not owners: 403');

  // an admin may restore any workspace; a snapshot id that does not exist is 404
  assertEquals((await restoreAndWait(admin, restore)).body.restore.status, 'succeeded');
  assertEquals((await admin.call('backups/restore', { method: 'POST', body: { ...restore, snapshot_id: 999999999 } })).status, 404);
});

Deno.test('a snapshot taken before a column change is refused with 409 snapshot_incompatible and changes nothing', async () => {
  const owner = await signUp('bk-schema-owner');
  const admin = await createAdmin('bk-schema-admin');
  const team = await createWorkspace(owner, 'Schema team');
  // A tenant table of this test only, so that altering it touches no table other suites use; it
  // is a content table like any other once classified (ops.backup_tables finds it by its
  // workspace_id; backups refuse while a table has no class).
  const probe = `public.bk_schema_probe_${crypto.randomUUID().slice(0, 8)}`;
  await withDb(async (sql) => {
    await sql.begin(async (tx) => {
      await tx.unsafe(
        `create table ${probe} (id int primary key, workspace_id uuid not null references public.workspaces (id) on delete cascade)`,
      );
      await tx`insert into ops.backup_table_classes (table_name, class, why) values (${probe}, 'content', 'a test probe')`;
    });
    await sql.unsafe(`insert into ${probe} values (1, '${team}')`);
  });
  try {
    const taken = await admin.call('backups/snapshots', { method: 'POST', body: {} });
    assertEquals(taken.status, 201, JSON.stringify(taken.body));
    // a later migration adds a column; then the workspace changes
    await withDb(async (sql) => {
      await sql.unsafe(`alter table ${probe} add column note text`);
      await sql`update public.workspaces set name = 'after the migration' where id = ${team}`;
    });

    const refused = await owner.call('backups/restore', {
      method: 'POST',
      body: { workspace_id: team, snapshot_id: taken.body.snapshot_id, confirm: 'RESTORE' },
    });
    assertEquals(refused.status, 409, JSON.stringify(refused.body));
    assertEquals(refused.body.error.code, 'snapshot_incompatible');
    assertMatch(refused.body.error.message, new RegExp(`columns of ${probe} changed`));
    assertEquals(await workspaceName(team), 'after the migration', 'a refused restore changed nothing');
  } finally {
    await withDb((sql) =>
      sql.begin(async (tx) => {
        await tx.unsafe(`drop table if exists ${probe}`);
        await tx`delete from ops.backup_table_classes where table_name = ${probe}`;
      }),
    );
  }
});

Deno.test('the daily-backup command snapshots in repeatable read as pg_cron runs it; read committed is refused', async () => {
  await withDb(async (sql) => {
    const [job] = await sql<{ command: string }[]>`select command from cron.job where jobname = 'daily-backup'`;
    const [before] = await sql<{ id: string }[]>`select coalesce(max(id), 0) as id from ops.backups`;
    // as pg_cron runs a job: the whole command as one simple-protocol query, one transaction
    await sql.unsafe(job.command).simple();
    const runs = await sql<{ status: string }[]>`
      select status from ops.backups where id > ${before.id} and details ->> 'triggered_by' = 'cron'`;
    assertEquals(
      runs.map((r) => r.status),
      ['succeeded'],
    );

    let refusal: unknown;
    await sql`select ops.take_snapshot('test')`.catch((err) => (refusal = err));
    assertEquals((refusal as { code?: string })?.code, '25000', String(refusal));
    assertMatch(String((refusal as Error).message), /repeatable read/);
  });
});

// A restore brings back content, never what already happened outside the database: a user's
// monthly render count and the workspace's YouTube quota ledger stayed spent at YouTube and RevID
// (a restore once reset them, 3 → 1 renders and 9,617 → 11 units, and later uploads failed with
// quotaExceeded).
Deno.test('a restore through the function leaves usage, quota, tokens and OAuth states as they are', async () => {
  const owner = await signUp('bk-ledger');
  const admin = await createAdmin('bk-ledger-admin');
  const team = await createWorkspace(owner, 'Ledger team');
  const month = new Date().toISOString().slice(0, 8) + '01';
  const stateHash = crypto.randomUUID().replaceAll('-', '').padEnd(64, '0');
  await withDb(async (sql) => {
    await sql`insert into public.generation_usage (workspace_id, user_id, month, generations, renders) values (${team}, ${owner.id}, ${month}, 1, 1)`;
    await sql`insert into public.youtube_quota_usage (workspace_id, day, endpoint, units, calls) values (${team}, current_date, 'videos.insert', 11, 1)`;
    await sql`insert into private.youtube_oauth_states (state_hash, workspace_id, user_id, code_verifier_enc, redirect_uri, expires_at)
      values (${stateHash}, ${team}, ${owner.id}, '\\x00'::bytea, 'https://x.test/cb', now() + interval '10 minutes')`;
  });
  const taken = await admin.call('backups/snapshots', { method: 'POST', body: {} });
  assertEquals(taken.status, 201, JSON.stringify(taken.body));

  await withDb(async (sql) => {
    await sql`update public.generation_usage set renders = 3, generations = 7 where workspace_id = ${team}`;
    await sql`update public.youtube_quota_usage set units = 9617 where workspace_id = ${team}`;
    await sql`update private.youtube_oauth_states set used_at = now() where state_hash = ${stateHash}`;
    await sql`update public.workspaces set name = 'wrecked' where id = ${team}`;
  });
  const restored = await restoreAndWait(owner, { workspace_id: team, snapshot_id: taken.body.snapshot_id, confirm: 'RESTORE' });
  assertEquals(restored.body.restore.status, 'succeeded', JSON.stringify(restored.body));
  assertEquals(await workspaceName(team), 'Ledger team', 'content comes back');
  assertEquals(
    Object.keys(restored.body.restore.restored.tables).includes('public.generation_usage'),
    false,
    'usage is not a restored table',
  );

  const [after] = await withDb(
    (sql) => sql<{ renders: number; generations: number; units: number; used: boolean }[]>`
    select u.renders, u.generations,
      (select sum(q.units)::int from public.youtube_quota_usage q where q.workspace_id = ${team}) as units,
      (select s.used_at is not null from private.youtube_oauth_states s where s.state_hash = ${stateHash}) as used
    from public.generation_usage u where u.workspace_id = ${team}`,
  );
  assertEquals(after, { renders: 3, generations: 7, units: 9617, used: true });
});

// A restore runs in steps; while one holds the workspace, a second restore and writes to the
// workspace are refused with 409 restore_in_progress. A step killed mid-way (its database session
// ended while it waited, so the function answers 5xx and the chain breaks) is called again by the
// every-minute recovery, and the restore ends verified with every row once.
Deno.test('a restore killed mid-step resumes and ends verified; a second restore and writes meanwhile are 409', async () => {
  const owner = await signUp('bk-fault');
  const admin = await createAdmin('bk-fault-admin');
  const team = await createWorkspace(owner, 'Fault team');
  const taken = await admin.call('backups/snapshots', { method: 'POST', body: {} });
  assertEquals(taken.status, 201, JSON.stringify(taken.body));
  await withDb((sql) => sql`update public.workspaces set name = 'wrecked' where id = ${team}`);
  const body = { workspace_id: team, snapshot_id: taken.body.snapshot_id, confirm: 'RESTORE' };

  await withDb(async (sql) => {
    await sql.begin(async (tx) => {
      // holds the step at its first delete, long enough to see the job running and to kill it
      await tx`lock table public.workspaces in share mode`;
      const started = await owner.call('backups/restore', { method: 'POST', body });
      assertEquals(started.status, 202, JSON.stringify(started.body));
      const again = await owner.call('backups/restore', { method: 'POST', body });
      assertEquals(again.status, 409, JSON.stringify(again.body));
      assertEquals(again.body.error.code, 'restore_in_progress');

      let killed = 0;
      for (let i = 0; i < 200 && killed === 0; i++) {
        // through tx: the test's client has one connection, and this transaction holds it
        const rows = await tx<{ pid: number }[]>`
          select pid from pg_stat_activity where query like '%ops.restore_step%' and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
        for (const r of rows) killed += (await tx`select pg_terminate_backend(${r.pid})`).length;
        if (killed === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals(killed >= 1, true, 'the step was caught waiting and killed');
      (globalThis as { restoreId?: number }).restoreId = started.body.restore_id;
    });
  });
  const id = (globalThis as { restoreId?: number }).restoreId!;
  const [killedJob] = await withDb(
    (sql) => sql<{ status: string; rows_done: string }[]>`
    select status, rows_done from private.restore_jobs where id = ${id}`,
  );
  assertEquals(killedJob, { status: 'running', rows_done: '0' }, 'the killed step changed nothing');
  const during = await owner.call(`workspaces/${team}`, { method: 'PATCH', body: { name: 'during the restore' } });
  assertEquals(during.status, 409, JSON.stringify(during.body));
  assertEquals(during.body.error.code, 'restore_in_progress');

  // the chain is broken until the every-minute job notices; call it now instead of waiting
  for (let i = 0; i < 100; i++) {
    const [{ calls }] = await withDb((sql) => sql<{ calls: number }[]>`select ops.recover_restores() as calls`);
    if (calls > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const done = await waitForRestore(owner, id);
  assertEquals(done.body.restore.status, 'succeeded', JSON.stringify(done.body));
  assertEquals(done.body.restore.progress.rows_done, done.body.restore.progress.rows_total, 'every row inserted once');
  assertEquals(await workspaceName(team), 'Fault team');
  const rename = await owner.call(`workspaces/${team}`, { method: 'PATCH', body: { name: 'after the restore' } });
  assertEquals(rename.status, 200, JSON.stringify(rename.body));
});
