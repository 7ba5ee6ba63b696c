// Off-site backup drill: `npm run backup` dumps the test stack's database with a manifest, and
// `npm run restore` restores it into a new database and verifies it (verdict OK, exit 0); a
// manifest that disagrees with the data makes the restore fail (exit 1). New databases are dropped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { ROOT } from '../../local/profile.ts';

const dbUrl = process.env.SUPABASE_DB_URL;
if (!dbUrl) throw new Error('SUPABASE_DB_URL must point at the test stack database');
const outDir = mkdtempSync(join(tmpdir(), 'cce-backup-test-'));
const suffix = `${process.pid}_${Date.now()}`;
const targets = [`restore_ok_${suffix}`, `restore_bad_${suffix}`];

function npm(script: string, args: string[]) {
  const r = spawnSync('npm', ['run', '--silent', script, '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, SUPABASE_DB_URL: dbUrl },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function databaseUrl(name: string): string {
  const u = new URL(dbUrl!);
  u.pathname = `/${name}`;
  return u.toString();
}

after(async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  for (const t of targets) await sql.unsafe(`drop database if exists ${t} with (force)`);
  await sql.end();
  rmSync(outDir, { recursive: true, force: true });
});

let manifestPath = '';

test('npm run backup writes a custom-format dump and a manifest, showing progress', () => {
  const r = npm('backup', ['--out', outDir]);
  assert.equal(r.code, 0, r.stderr);
  manifestPath = r.stdout.trim().split('\n').pop()!;
  assert.match(manifestPath, /\.manifest\.json$/);
  assert.match(r.stderr, /\[\s*\d+\] public\.workspaces/, 'progress names the tables');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const dump = readFileSync(join(outDir, manifest.dump_file));
  assert.equal(dump.subarray(0, 5).toString(), 'PGDMP', 'pg_dump custom format');
  const workspaces = manifest.tables.find((t: { table: string }) => t.table === 'public.workspaces');
  assert.ok(workspaces.rows > 0, 'the manifest counts the workspaces');
  assert.match(workspaces.sha256, /^[0-9a-f]{64}$/);
});

test('npm run restore restores into a new database and verifies it against the manifest', async () => {
  const r = npm('restore', [manifestPath, '--target', targets[0]]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, new RegExp(`VERDICT: OK - database ${targets[0]}: all \\d+ tables match the manifest`));
  assert.match(r.stderr, /ok {3}public\.workspaces/, 'progress while verifying');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const sql = postgres(databaseUrl(targets[0]), { max: 1, onnotice: () => {} });
  try {
    const [{ n }] = await sql<{ n: string }[]>`select count(*) as n from public.workspace_members`;
    assert.equal(Number(n), manifest.tables.find((t: { table: string }) => t.table === 'public.workspace_members').rows);
    const [{ ok }] = await sql<
      { ok: boolean }[]
    >`select has_function_privilege('service_role', 'ops.restore_workspace(bigint, uuid)', 'EXECUTE') as ok`;
    assert.equal(ok, true, 'grants to the platform roles survive the restore');
  } finally {
    await sql.end();
  }
});

test('npm run restore fails when the data does not match the manifest', () => {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const members = manifest.tables.find((t: { table: string }) => t.table === 'public.workspace_members');
  members.sha256 = '0'.repeat(64);
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const r = npm('restore', [manifestPath, '--target', targets[1]]);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /VERDICT: FAILED/);
  assert.match(r.stdout, /public\.workspace_members: sha256 differs from the manifest/);
});
