// The post-deploy smoke test (`npm run smoke`, tools/smoke.ts) against the running stack: every
// check passes there (one subtest per check), the CLI prints a line per check and exits 0, and each
// check fails when what it guards is broken (a proxy in front of the stack breaks one thing).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runSmoke, type CheckResult, type SmokeTarget } from '../../tools/smoke/checks.ts';
import { brokenProxy, type Upstream } from './helpers/stack-proxy.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run this test through the test runner (npm test) or export the stack's env`);
  return value;
}

const SUPABASE_URL = requiredEnv('SUPABASE_URL');
// The project's public key: the publishable key when the stack has the new keys, else the anon key.
const SUPABASE_ANON_KEY = process.env.SUPABASE_PUBLISHABLE_KEY || requiredEnv('SUPABASE_ANON_KEY');
const WEB_URL = process.env.WEB_URL;
const target: SmokeTarget = {
  url: SUPABASE_URL,
  anonKey: SUPABASE_ANON_KEY,
  email: 'demo@example.com',
  password: 'demo-password',
  webUrl: WEB_URL,
};

const byName = (results: CheckResult[], prefix: string) => {
  const r = results.find((x) => x.name.startsWith(prefix));
  assert.ok(r, `no check named ${prefix}…: ${results.map((x) => x.name).join(', ')}`);
  return r;
};

describe('smoke test against the running stack', async () => {
  const results = await runSmoke(target);

  it('runs every check', () => {
    const expected = ['health is 200', 'sign-in', 'authenticated function', 'security headers', 'anonymous call', 'sign-out'];
    if (WEB_URL) expected.push('web app');
    for (const name of expected) byName(results, name);
  });

  for (const r of results) {
    it(r.name, () => assert.ok(r.ok, r.detail));
  }

  it('never prints a token or key', () => {
    const text = results.map((r) => r.detail).join('\n');
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}/);
    assert.ok(!text.includes(SUPABASE_ANON_KEY));
  });
});

describe('npm run smoke (CLI)', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'tools/smoke.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SMOKE_EMAIL: '', SMOKE_PASSWORD: '', SMOKE_WEB_URL: '' },
      timeout: 60_000,
    });

  it('prints one line per check and exits 0 when all pass', () => {
    const r = cli(['--url', SUPABASE_URL, '--anon-key', SUPABASE_ANON_KEY]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout.split('\n').filter((l) => /^[✔✖] /.test(l));
    assert.equal(lines.length, 6, r.stdout);
    assert.ok(
      lines.every((l) => l.startsWith('✔ ')),
      r.stdout,
    );
    assert.match(r.stdout, /smoke: 6 passed, 0 failed/);
  });

  it('exits 1 and names the failed checks when sign-in fails', () => {
    const r = cli(['--url', SUPABASE_URL, '--anon-key', SUPABASE_ANON_KEY, '--password', 'not-the-password']);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✖ sign-in with the smoke user — token endpoint answered 400 invalid_credentials/);
    assert.match(r.stdout, /✖ authenticated function answers \(GET workspaces\) — needs the sign-in check to pass/);
    assert.doesNotMatch(r.stdout, /not-the-password/);
  });

  it('exits 2 on bad arguments', () => {
    const r = cli(['--url', 'not a url', '--anon-key', SUPABASE_ANON_KEY]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--url/);
  });
});

describe('each check fails when what it guards is broken', () => {
  const proxies: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const p of proxies) await p.close();
  });
  async function smokeThrough(mutate: (path: string, res: Upstream) => Upstream) {
    const proxy = await brokenProxy(SUPABASE_URL, mutate);
    proxies.push(proxy);
    return runSmoke({ ...target, url: proxy.url, webUrl: undefined });
  }

  before(() => {
    assert.ok(
      SUPABASE_URL.startsWith('http://127.0.0.1') || SUPABASE_URL.startsWith('http://localhost'),
      'the proxy checks run against a local stack only',
    );
  });

  it('health: a 503 fails it', async () => {
    const results = await smokeThrough((path, res) => (path.endsWith('/health') ? { ...res, status: 503 } : res));
    const health = byName(results, 'health');
    assert.equal(health.ok, false);
    assert.match(health.detail, /503/);
  });

  it('health: 200 degraded passes and names the service that is down', async () => {
    const results = await smokeThrough((path, res) => {
      if (!path.endsWith('/health')) return res;
      const body = JSON.parse(res.body.toString()) as {
        status: string;
        services: { database: { status: string }; external_apis: Record<string, { status: string }> };
      };
      body.status = 'degraded';
      body.services.database.status = 'healthy';
      for (const name of Object.keys(body.services.external_apis))
        body.services.external_apis[name].status = name === 'gemini' ? 'unhealthy' : 'healthy';
      return { ...res, body: Buffer.from(JSON.stringify(body)) };
    });
    const health = byName(results, 'health');
    assert.equal(health.ok, true, health.detail);
    assert.match(health.detail, /^200 degraded, version .* \(gemini unhealthy\)$/);
  });

  it('security headers: a proxy that strips X-Frame-Options fails it', async () => {
    const results = await smokeThrough((path, res) => {
      const headers = new Headers(res.headers);
      headers.delete('x-frame-options');
      return path.startsWith('/functions/') ? { ...res, headers } : res;
    });
    const check = byName(results, 'security headers');
    assert.equal(check.ok, false);
    assert.match(check.detail, /X-Frame-Options/);
    assert.ok(byName(results, 'authenticated function').ok);
  });

  it('security headers: an X-Request-Id that does not echo the caller’s fails it', async () => {
    const results = await smokeThrough((_path, res) => {
      const headers = new Headers(res.headers);
      if (headers.has('x-request-id')) headers.set('x-request-id', '00000000-0000-4000-8000-000000000000');
      return { ...res, headers };
    });
    assert.match(byName(results, 'security headers').detail, /does not echo/);
  });

  it('anonymous call: a protected function that answers 200 without a user fails it', async () => {
    const results = await smokeThrough((path, res) =>
      path === '/functions/v1/workspaces' && res.status === 401 ? { ...res, status: 200, body: Buffer.from('{"workspaces":[]}') } : res,
    );
    const check = byName(results, 'anonymous call');
    assert.equal(check.ok, false);
    assert.match(check.detail, /want 401/);
  });

  it('authenticated function: an answer without the personal workspace fails it', async () => {
    const results = await smokeThrough((path, res) =>
      path === '/functions/v1/workspaces' && res.status === 200 ? { ...res, body: Buffer.from('{"workspaces":[]}') } : res,
    );
    const check = byName(results, 'authenticated function');
    assert.equal(check.ok, false);
    assert.match(check.detail, /no personal workspace/);
  });
});

describe('web app check', () => {
  it('fails when config.json points at another project', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/config.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ supabaseUrl: 'https://other-project.supabase.co', supabaseAnonKey: SUPABASE_ANON_KEY }));
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><html><body></body></html>');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const results = await runSmoke({ ...target, webUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const check = byName(results, 'web app');
      assert.equal(check.ok, false);
      assert.match(check.detail, /points at https:\/\/other-project\.supabase\.co/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
