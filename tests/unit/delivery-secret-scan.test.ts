// The secret scan the deploy workflow gates on (tools/secret-scan.ts: secretlint, recommended
// preset, .secretlintrc.yaml): the repository is clean, and the same scanner with the same config
// does find real-looking secrets, including connection strings the allow-list must not cover.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { repositoryFiles, scanFiles } from '../../tools/secret-scan.ts';

const ROOT = resolve(import.meta.dirname, '../..');

// Built at run time, so this file itself holds nothing a scanner would flag.
const upperAlnum = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');
const alnum = (n: number) => Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 62]).join('');
const password = () => `Zq${alnum(14)}9!`;

describe('secret scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secret-scan-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function scanOne(name: string, content: string) {
    writeFileSync(join(dir, name), content);
    return scanFiles(dir, [name]);
  }

  it('finds nothing in the repository', () => {
    const files = repositoryFiles(ROOT);
    assert.ok(files.length > 100, `only ${files.length} files listed`);
    assert.ok(files.includes('.env.example') && files.includes('supabase/config.toml'));
    const result = scanFiles(ROOT, files);
    assert.equal(result.code, 0, result.output);
  });

  const planted: [string, () => string, RegExp][] = [
    ['an AWS access key', () => `aws_access_key_id = ${'AK' + 'IA'}${upperAlnum(16)}\naws_secret_access_key = ${alnum(40)}\n`, /AWS/i],
    ['a GitHub token', () => `token: ${'gh' + 'p_'}${alnum(36)}\n`, /GitHub/i],
    ['a Slack webhook', () => `SLACK=${'https://hooks.' + 'slack.com/services/'}T${upperAlnum(10)}/B${upperAlnum(10)}/${alnum(24)}\n`, /Slack/i],
    ['a private key', () => generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey, /private ?key/i],
    ['a production database URL', () => `DB=postgresql://postgres.abcdefghijklmnopqrst:${password()}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres\n`, /PostgreSQL/i],
    ['the local user name with a real password on a real host', () => `postgres://postgres:${password()}@db.example.com:5432/postgres\n`, /PostgreSQL/i],
  ];
  for (const [what, content, rule] of planted) {
    it(`finds ${what}`, () => {
      const result = scanOne(`planted-${what.replace(/\W+/g, '-')}.txt`, content());
      assert.equal(result.code, 1, `not found:\n${result.output}`);
      assert.match(result.output, rule);
    });
  }

  it('lets through only the documented local superuser and placeholders', () => {
    const result = scanOne('allowed.env', [
      'SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres',
      'SUPABASE_DB_URL=postgresql://postgres.your-project-ref:your-db-password@aws-0-eu-central-1.pooler.supabase.com:6543/postgres',
    ].join('\n'));
    assert.equal(result.code, 0, result.output);
  });
});
