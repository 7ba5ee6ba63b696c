// The secret scan the deploy workflow gates on (tools/secret-scan.ts: secretlint, recommended
// preset, .secretlintrc.yaml): the repository is clean, and the same scanner with the same config
// does find real-looking secrets, including connection strings the allow-list must not cover.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { repositoryFiles, scanFiles, scanHistory } from '../../tools/secret-scan.ts';

const ROOT = resolve(import.meta.dirname, '../..');

// Built at run time, so this file itself holds nothing a scanner would flag.
const upperAlnum = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');
const alnum = (n: number) =>
  Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 62]).join('');
const password = () => `Zq${alnum(14)}9!`;
const urlSafe = (n: number) =>
  Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'[b % 64]).join('');
const googleApiKey = () => `${'AI' + 'za'}${urlSafe(35)}`;

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
    [
      'a Slack webhook',
      () => `SLACK=${'https://hooks.' + 'slack.com/services/'}T${upperAlnum(10)}/B${upperAlnum(10)}/${alnum(24)}\n`,
      /Slack/i,
    ],
    [
      'a private key',
      () =>
        generateKeyPairSync('rsa', {
          modulusLength: 1024,
          privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        }).privateKey,
      /private ?key/i,
    ],
    [
      'a production database URL',
      () => `DB=postgresql://postgres.abcdefghijklmnopqrst:${password()}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres\n`,
      /PostgreSQL/i,
    ],
    [
      'the local user name with a real password on a real host',
      () => `postgres://postgres:${password()}@db.example.com:5432/postgres\n`,
      /PostgreSQL/i,
    ],
    // Our own kinds (the rules after the preset in .secretlintrc.yaml).
    ['a Google API key', () => `GEMINI_API_KEY=${googleApiKey()}\n`, /\[PATTERN\]/],
    [
      'a Google API key in code',
      () => `const url = 'https://generativelanguage.googleapis.com/v1beta/models?key=${googleApiKey()}';\n`,
      /\[PATTERN\]/,
    ],
    ['a Google OAuth client secret', () => `GOOGLE_OAUTH_CLIENT_SECRET=${'GOC' + 'SPX-'}${urlSafe(28)}\n`, /\[PATTERN\]/],
    // '-' is in the key alphabet but is not a word character: a pattern ending in \b missed these.
    ['a Google API key ending in -', () => `GEMINI_API_KEY=${googleApiKey().slice(0, -1)}-\n`, /\[PATTERN\]/],
    ['a Google OAuth client secret ending in -', () => `SECRET=${'GOC' + 'SPX-'}${urlSafe(27)}-\n`, /\[PATTERN\]/],
    ['a Supabase secret key', () => `SUPABASE_SECRET_KEY=${'sb_sec' + 'ret_'}${urlSafe(32)}\n`, /\[PATTERN\]/],
    ['a RevID key in env', () => `REVID_API_KEY=${randomUUID()}\n`, /\[PATTERN\]/],
    ['a RevID key in a request', () => `await fetch(url, { headers: { 'key': '${randomUUID()}' } });\n`, /\[PATTERN\]/],
  ];
  for (const [what, content, rule] of planted) {
    it(`finds ${what}`, () => {
      const result = scanOne(`planted-${what.replace(/\W+/g, '-')}.txt`, content());
      assert.equal(result.code, 1, `not found:\n${result.output}`);
      assert.match(result.output, rule);
    });
  }

  it('finds a secret that was committed and deleted later, in the history only', () => {
    const repo = join(dir, 'history-repo');
    const run = (...args: string[]) => {
      const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    spawnSync('mkdir', ['-p', repo]);
    run('init', '-q');
    writeFileSync(join(repo, 'config.env'), `GEMINI_API_KEY=${googleApiKey()}\n`);
    run('add', '.');
    run('commit', '-qm', 'oops');
    writeFileSync(join(repo, 'config.env'), 'GEMINI_API_KEY=your-gemini-api-key\n');
    run('commit', '-qam', 'remove the key');
    assert.equal(scanFiles(repo, repositoryFiles(repo)).code, 0, 'the work tree is clean');
    const history = scanHistory(repo);
    assert.equal(history.files, 2, 'both versions of config.env');
    assert.equal(history.code, 1, history.output);
    assert.match(history.output, /\[PATTERN\]/);
  });

  // Every version of every file since the first commit: minutes on a shared laptop, so in CI.
  it('finds nothing in the git history', { skip: process.env.CI ? false : 'CI only (set CI=true to run it)' }, () => {
    const result = scanHistory(ROOT);
    assert.ok(result.files > 100, `only ${result.files} versions listed`);
    assert.equal(result.code, 0, result.output);
  });

  it('lets through only the documented local superuser and placeholders', () => {
    const result = scanOne(
      'allowed.env',
      [
        'SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres',
        'SUPABASE_DB_URL=postgresql://postgres.your-project-ref:your-db-password@aws-0-eu-central-1.pooler.supabase.com:6543/postgres',
      ].join('\n'),
    );
    assert.equal(result.code, 0, result.output);
  });
});
