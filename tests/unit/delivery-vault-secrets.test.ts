// The Vault upsert the deploy workflow runs before every migration (tools/deploy/vault-secrets.ts),
// against the stack's database: inside transactions that are rolled back, and once through the
// exact CLI command of the workflow (`supabase db query … -f`) with the values already stored, so
// the stack is left as it was.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import postgres from 'postgres';
import { valuesFromEnv, vaultUpsertSql } from '../../tools/deploy/vault-secrets.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DB_URL = process.env.SUPABASE_DB_URL;
if (!DB_URL) throw new Error('SUPABASE_DB_URL is not set; run this test through the test runner (npm test) or export the stack env');

const sql = postgres(DB_URL, { max: 1, onnotice: () => {} });
after(() => sql.end());

class Rollback extends Error {}
/** Runs body in a transaction that is always rolled back. */
async function rolledBack(body: (tx: postgres.TransactionSql) => Promise<void>) {
  await sql
    .begin(async (tx) => {
      await body(tx);
      throw new Rollback();
    })
    .catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
}

const secrets = (tx: postgres.TransactionSql) =>
  tx<{ name: string; value: string; updated_at: Date }[]>`
    select name, decrypted_secret as value, updated_at from vault.decrypted_secrets
    where name in ('project_url', 'service_role_key', 'alert_webhook_url') order by name`;

const KEY_A = 'key-a-' + 'x'.repeat(30);
const KEY_B = "key-b-with-'quote'-and-\\backslash-and-ünïcödé-" + 'y'.repeat(10);

describe('Vault upsert SQL', () => {
  it('creates missing secrets, leaves equal ones alone, updates changed ones, one row per name', async () => {
    await rolledBack(async (tx) => {
      await tx`delete from vault.secrets where name in ('project_url', 'service_role_key', 'alert_webhook_url')`;

      const first = vaultUpsertSql({
        project_url: 'https://abcdefghijklmnopqrst.supabase.co/',
        service_role_key: KEY_A,
        alert_webhook_url: 'https://hooks.example.com/services/T1/B1/abc',
      });
      assert.deepEqual(first.names, ['project_url', 'service_role_key', 'alert_webhook_url']);
      const [created] = await tx.unsafe(first.sql);
      assert.deepEqual({ ...created }, { updated: '0', created: '3' });
      const afterCreate = await secrets(tx);
      assert.deepEqual(
        afterCreate.map((s) => [s.name, s.value]),
        [
          ['alert_webhook_url', 'https://hooks.example.com/services/T1/B1/abc'],
          ['project_url', 'https://abcdefghijklmnopqrst.supabase.co'],
          ['service_role_key', KEY_A],
        ],
      );

      const [again] = await tx.unsafe(first.sql);
      assert.deepEqual({ ...again }, { updated: '0', created: '0' });

      const changed = vaultUpsertSql({ project_url: 'https://abcdefghijklmnopqrst.supabase.co', service_role_key: KEY_B });
      assert.deepEqual(changed.names, ['project_url', 'service_role_key']);
      const [updated] = await tx.unsafe(changed.sql);
      assert.deepEqual({ ...updated }, { updated: '1', created: '0' });
      const afterUpdate = await secrets(tx);
      assert.deepEqual(
        afterUpdate.map((s) => [s.name, s.value]),
        [
          ['alert_webhook_url', 'https://hooks.example.com/services/T1/B1/abc'],
          ['project_url', 'https://abcdefghijklmnopqrst.supabase.co'],
          ['service_role_key', KEY_B],
        ],
      );
    });
  });

  it('keeps quotes and backslashes literal under either string syntax setting', async () => {
    for (const setting of ['on', 'off']) {
      await rolledBack(async (tx) => {
        await tx.unsafe(`set local standard_conforming_strings = ${setting}`);
        await tx.unsafe(vaultUpsertSql({ project_url: 'https://x.supabase.co', service_role_key: KEY_B }).sql);
        const [row] = await tx`select decrypted_secret from vault.decrypted_secrets where name = 'service_role_key'`;
        assert.equal(row.decrypted_secret, KEY_B, `standard_conforming_strings = ${setting}`);
      });
    }
  });

  it('refuses missing or malformed values, naming the variable and never the value', () => {
    assert.throws(() => vaultUpsertSql(valuesFromEnv({ VAULT_SERVICE_ROLE_KEY: KEY_A })), /VAULT_PROJECT_URL/);
    assert.throws(
      () => vaultUpsertSql(valuesFromEnv({ VAULT_PROJECT_URL: 'https://x.supabase.co', VAULT_SERVICE_ROLE_KEY: '' })),
      /VAULT_SERVICE_ROLE_KEY/,
    );
    assert.throws(
      () =>
        vaultUpsertSql(
          valuesFromEnv({
            VAULT_PROJECT_URL: 'https://x.supabase.co',
            VAULT_SERVICE_ROLE_KEY: KEY_A,
            VAULT_ALERT_WEBHOOK_URL: 'http://hooks.example.com/x',
          }),
        ),
      (err: Error) => /VAULT_ALERT_WEBHOOK_URL must be an https URL/.test(err.message) && !err.message.includes(KEY_A),
    );
    assert.throws(() => vaultUpsertSql({ project_url: 'https://x.supabase.co', service_role_key: KEY_A + '\0' }), /NUL/);
  });

  it('takes the secret key as secret_api_key (the legacy service_role_key then optional), and only a secret key there', async () => {
    const secretKey = `sb_secret_${'s'.repeat(31)}`;
    const { names } = vaultUpsertSql(valuesFromEnv({ VAULT_PROJECT_URL: 'https://x.supabase.co', VAULT_SECRET_API_KEY: secretKey }));
    assert.deepEqual(names, ['project_url', 'secret_api_key']);
    await rolledBack(async (tx) => {
      await tx.unsafe(vaultUpsertSql({ project_url: 'https://x.supabase.co', secret_api_key: secretKey }).sql);
      const [row] = await tx`select decrypted_secret from vault.decrypted_secrets where name = 'secret_api_key'`;
      assert.equal(row.decrypted_secret, secretKey);
    });
    assert.throws(() => vaultUpsertSql(valuesFromEnv({ VAULT_PROJECT_URL: 'https://x.supabase.co' })), /VAULT_SECRET_API_KEY/);
    assert.throws(
      () =>
        vaultUpsertSql(
          valuesFromEnv({ VAULT_PROJECT_URL: 'https://x.supabase.co', VAULT_SECRET_API_KEY: `sb_publishable_${'p'.repeat(31)}` }),
        ),
      (err: Error) => /must be a secret key/.test(err.message) && !err.message.includes('sb_publishable_'),
    );
  });
});

describe('the workflow command: supabase db query -f <generated file>', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vault-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the generated file and, with the values already stored, changes nothing', async () => {
    const before = await sql<{ name: string; value: string; updated_at: Date }[]>`
      select name, decrypted_secret as value, updated_at from vault.decrypted_secrets where name in ('project_url', 'service_role_key') order by name`;
    assert.equal(before.length, 2, 'the stack sets project_url and service_role_key at start');
    const current = Object.fromEntries(before.map((r) => [r.name, r.value]));

    const file = join(dir, 'vault.sql');
    const write = spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'tools/deploy/vault-secrets.ts'), '--out', file], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        VAULT_PROJECT_URL: current.project_url,
        VAULT_SERVICE_ROLE_KEY: current.service_role_key,
        VAULT_ALERT_WEBHOOK_URL: '',
      },
    });
    assert.equal(write.status, 0, write.stderr);
    assert.match(write.stdout, /upsert of project_url, service_role_key written/);
    assert.ok(!write.stdout.includes(current.service_role_key));
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const query = spawnSync(
      resolve(ROOT, 'node_modules/.bin/supabase'),
      ['db', 'query', '--workdir', ROOT, '--db-url', `${DB_URL}?sslmode=disable`, '-f', file],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, DO_NOT_TRACK: '1', SUPABASE_TELEMETRY_DISABLED: '1' },
        timeout: 60_000,
      },
    );
    assert.equal(query.status, 0, query.stdout + query.stderr);
    assert.match(query.stdout, /updated\s*│\s*created[\s\S]*0\s*│\s*0/);
    assert.ok(!`${query.stdout}${query.stderr}`.includes(current.service_role_key));

    const afterRun = await sql<{ name: string; value: string; updated_at: Date }[]>`
      select name, decrypted_secret as value, updated_at from vault.decrypted_secrets where name in ('project_url', 'service_role_key') order by name`;
    assert.deepEqual(afterRun, before);
  });
});
