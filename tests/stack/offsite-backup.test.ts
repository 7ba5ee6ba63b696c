// Off-site backup drill against a local S3-compatible server (s3rver, from npm, on 127.0.0.1 at a
// random port, stopped afterwards): `npm run backup:offsite` dumps the test stack's database,
// encrypts dump and manifest to an age public key and uploads them; the objects are age files with
// nothing of the dump readable; `npm run restore:offsite` with the matching secret key restores the
// latest backup into a new database and says VERDICT: OK. A wrong key and an altered object fail
// clearly before any database is created. New databases are dropped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { ROOT } from '../../local/profile.ts';
import { keygen } from '../../tools/backup/offsite-keygen.ts';
import { s3Client } from '../../tools/backup/offsite-storage.ts';

interface S3rver {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
// s3rver ships no types; this is the part of its API the test uses.
const S3rverClass = createRequire(import.meta.url)('s3rver') as new (opts: object) => S3rver;

const dbUrl = process.env.SUPABASE_DB_URL;
if (!dbUrl) throw new Error('SUPABASE_DB_URL must point at the test stack database');
const BUCKET = 'cce-offsite-test';
const PREFIX = 'nightly/';
const work = mkdtempSync(join(tmpdir(), 'cce-offsite-test-'));
const suffix = `${process.pid}_${Date.now()}`;
const targets = [`offsite_ok_${suffix}`, `offsite_wrongkey_${suffix}`, `offsite_altered_${suffix}`];
let server: S3rver;
let s3: S3Client;
let env: NodeJS.ProcessEnv;
let recipient = '';

before(async () => {
  server = new S3rverClass({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: join(work, 's3'),
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  env = {
    ...process.env,
    SUPABASE_DB_URL: dbUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_FORCE_PATH_STYLE: 'true',
  };
  s3 = s3Client(env);
  recipient = await keygen(join(work, 'backup.key'));
  await keygen(join(work, 'other.key'));
});

after(async () => {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  for (const t of targets) await sql.unsafe(`drop database if exists ${t} with (force)`);
  await sql.end();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

// Asynchronous: the S3 server runs in this process and must keep answering while the command runs.
function npm(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function objectBytes(key: string): Promise<Buffer> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await Body!.transformToByteArray());
}

async function databaseExists(name: string): Promise<boolean> {
  const sql = postgres(dbUrl!, { max: 1, onnotice: () => {} });
  try {
    return (await sql`select 1 from pg_database where datname = ${name}`).length > 0;
  } finally {
    await sql.end();
  }
}

let manifestKey = '';

test('backup:offsite uploads the dump and manifest encrypted with age under a dated key', async () => {
  const r = await npm('backup:offsite', ['--bucket', BUCKET, '--prefix', PREFIX, '--recipient', recipient]);
  assert.equal(r.code, 0, r.stderr);
  manifestKey = r.stdout.trim().split('\n').pop()!;
  assert.match(manifestKey, /^nightly\/\d{4}\/\d{2}\/\d{2}\/\d{8}_\d{6}\.manifest\.json\.age$/);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PREFIX }));
  const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
  const dumpKey = manifestKey.replace('.manifest.json.age', '.dump.age');
  assert.deepEqual(keys, [dumpKey, manifestKey]);

  const dump = await objectBytes(dumpKey);
  const manifest = await objectBytes(manifestKey);
  for (const [name, bytes] of [
    ['dump', dump],
    ['manifest', manifest],
  ] as const) {
    assert.equal(bytes.subarray(0, 22).toString(), 'age-encryption.org/v1\n', `${name} is an age file`);
    assert.ok(bytes.toString('latin1').includes('X25519'), `${name} is encrypted to an X25519 recipient`);
    for (const plain of ['PGDMP', 'workspace_members', 'public.workspaces', 'cce-backup/1', 'sha256']) {
      assert.ok(!bytes.includes(plain), `${name} object shows "${plain}" in the clear`);
    }
  }
  assert.ok(dump.length > 10_000, `the dump object is ${dump.length} bytes`);
});

test('restore:offsite with the wrong secret key fails clearly and creates no database', async () => {
  const r = await npm('restore:offsite', [
    '--bucket',
    BUCKET,
    '--prefix',
    PREFIX,
    '--identity-file',
    join(work, 'other.key'),
    '--target',
    targets[1],
  ]);
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /restore:offsite failed: cannot decrypt s3:\/\/cce-offsite-test\/nightly\/.*\.manifest\.json\.age: .*identity/);
  assert.doesNotMatch(r.stdout, /VERDICT/);
  assert.equal(await databaseExists(targets[1]), false);
});

test('restore:offsite refuses an altered object before creating a database', async () => {
  const stamp = /(\d{8}_\d{6})\.manifest/.exec(manifestKey)![1];
  const altered = '20000101_000000';
  const dump = await objectBytes(manifestKey.replace('.manifest.json.age', '.dump.age'));
  dump[dump.length - 100] ^= 0x01;
  const prefix = `${PREFIX}2000/01/01/`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${altered}.dump.age`, Body: dump }));
  await s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${altered}.manifest.json.age`, Body: await objectBytes(manifestKey) }),
  );
  const r = await npm('restore:offsite', [
    '--bucket',
    BUCKET,
    '--prefix',
    PREFIX,
    '--key',
    altered,
    '--identity-file',
    join(work, 'backup.key'),
    '--target',
    targets[2],
  ]);
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`cannot decrypt s3://${BUCKET}/${prefix}${altered}\\.dump\\.age`));
  assert.equal(await databaseExists(targets[2]), false);
  assert.notEqual(stamp, altered, 'latest still picks the real backup (checked by the next test)');
});

test('restore:offsite restores the latest backup into a new database: VERDICT: OK', async () => {
  const r = await npm('restore:offsite', [
    '--bucket',
    BUCKET,
    '--prefix',
    PREFIX,
    '--identity-file',
    join(work, 'backup.key'),
    '--target',
    targets[0],
  ]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, new RegExp(`VERDICT: OK - database ${targets[0]}: all \\d+ tables match the manifest \\(\\d+\\.\\d s\\)`));
  assert.match(r.stderr, new RegExp(manifestKey.replace(/\./g, '\\.')), 'the latest backup, not the older altered one');
  const sql = postgres(dbUrl!.replace(/\/[^/?]*(\?|$)/, `/${targets[0]}$1`), { max: 1, onnotice: () => {} });
  try {
    const [{ n }] = await sql<{ n: string }[]>`select count(*) as n from public.workspaces`;
    assert.ok(Number(n) > 0, 'the restored database holds the workspaces');
  } finally {
    await sql.end();
  }
});

test('backup:offsite refuses a recipient that is not an age public key, before dumping anything', async () => {
  const r = await npm('backup:offsite', ['--bucket', BUCKET, '--prefix', 'refused/', '--recipient', 'ssh-ed25519 AAAA']);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /backup:offsite failed: bad options: recipients\.0: an age public key/);
  assert.doesNotMatch(r.stderr, /pg_dump/);
});

// s3rver answers NotImplemented to lifecycle configuration: what is tested here is that the run
// stops before the dump and says why; the rule itself is applied only against real providers.
test('backup:offsite --apply-lifecycle-days stops before the dump when the bucket refuses the rule', async () => {
  const r = await npm('backup:offsite', [
    '--bucket',
    BUCKET,
    '--prefix',
    'lifecycle/',
    '--recipient',
    recipient,
    '--apply-lifecycle-days',
    '30',
  ]);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /could not set the lifecycle rule on bucket cce-offsite-test \(NotImplemented: /);
  assert.doesNotMatch(r.stderr, /pg_dump/);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'lifecycle/' }));
  assert.equal(listed.KeyCount ?? 0, 0);
});
