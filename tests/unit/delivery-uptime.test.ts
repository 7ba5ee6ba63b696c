// The external uptime monitor (tools/uptime.ts, tools/uptime/state.ts): its state machine alone,
// then the CLI run after run against the running stack behind a proxy that can take it down,
// with a webhook receiver on 127.0.0.1: one alert after --threshold failed runs (sent again when
// the webhook refused it), none while the outage lasts, one recovery notice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brokenProxy, type Upstream } from './helpers/stack-proxy.ts';
import { afterRun, HISTORY_LENGTH, initialState, loadState, notified, type RunRecord } from '../../tools/uptime/state.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const run = (ok: boolean, at = new Date().toISOString()): RunRecord => ({ at, ok, ms: 10, failed: ok ? [] : ['health is 200: 503'] });

describe('uptime state', () => {
  it('alerts once at the threshold, stays quiet during the outage, recovers once', () => {
    let s = initialState('production');
    const notes: string[] = [];
    for (const ok of [false, false, false, false, true, true]) {
      const r = afterRun(s, run(ok), 3);
      s = r.notify ? notified(r.state, r.notify) : r.state;
      if (r.notify) notes.push(r.notify.kind);
    }
    assert.deepEqual(notes, ['alert', 'recovery']);
    assert.equal(s.alerting, false);
    assert.equal(s.consecutive_failures, 0);
    assert.equal(s.down_since, null);
  });

  it('a notice the webhook did not take is sent again by the next run', () => {
    let s = initialState('staging');
    s = afterRun(s, run(false), 1).state; // alert not delivered
    const again = afterRun(s, run(false), 1);
    assert.equal(again.notify?.kind, 'alert');
    s = notified(again.state, again.notify!);
    const up = afterRun(s, run(true), 1); // recovery not delivered
    assert.equal(up.notify?.kind, 'recovery');
    assert.equal(afterRun(up.state, run(true), 1).notify?.kind, 'recovery');
  });

  it('says how long the target was down', () => {
    let s = initialState('production');
    const t0 = Date.parse('2026-12-06T10:00:00Z');
    for (let i = 0; i < 3; i++) {
      const r = afterRun(s, run(false, new Date(t0 + i * 300_000).toISOString()), 2);
      s = r.notify ? notified(r.state, r.notify) : r.state;
    }
    const r = afterRun(s, run(true, new Date(t0 + 15 * 60_000).toISOString()), 2);
    assert.match(r.notify!.text, /production is up again after 15 min/);
  });

  it('keeps a day of runs, and starts afresh for another target or a damaged file', () => {
    let s = initialState('production');
    for (let i = 0; i < HISTORY_LENGTH + 5; i++) s = afterRun(s, run(true), 2).state;
    assert.equal(s.history.length, HISTORY_LENGTH);
    assert.equal(loadState(JSON.stringify(s), 'staging').history.length, 0);
    assert.equal(loadState(JSON.stringify({ target: 'production', history: 'x' }), 'production').history.length, 0);
  });
});

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run this test through the test runner (npm test) or export the stack's env`);
  return value;
}

describe('npm run uptime against the running stack', () => {
  const gateway = requiredEnv('SUPABASE_URL');
  const anonKey = process.env.SUPABASE_PUBLISHABLE_KEY || requiredEnv('SUPABASE_ANON_KEY');
  const dir = mkdtempSync(join(tmpdir(), 'uptime-'));
  const stateFile = join(dir, 'state.json');
  let down = false;
  let refuseNextPost = false;
  const posts: { status: number; text: string }[] = [];
  let proxyUrl = '';
  let webhookUrl = '';

  // In front of the stack: passes everything through, or answers 503 as a failed deploy would.
  const outage = (): Upstream => ({
    status: 503,
    headers: new Headers({ 'content-type': 'text/plain' }),
    body: Buffer.from('down for the test'),
  });
  let proxy: Awaited<ReturnType<typeof brokenProxy>>;
  const webhook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = refuseNextPost ? 500 : 200;
      refuseNextPost = false;
      posts.push({ status, text: JSON.parse(body).text });
      res.writeHead(status).end();
    });
  });

  before(async () => {
    proxy = await brokenProxy(gateway, (_path, res) => (down ? outage() : res));
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    proxyUrl = proxy.url;
    webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    await proxy.close();
    webhook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Asynchronous: the proxy and the webhook answer from this process meanwhile.
  function uptime(): Promise<{ code: number | null; out: string }> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'tools/uptime.ts',
        '--url',
        proxyUrl,
        '--anon-key',
        anonKey,
        '--state',
        stateFile,
        '--name',
        'local',
        '--threshold',
        '3',
        '--webhook',
        webhookUrl,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, SUPABASE_URL: '', SMOKE_WEB_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill(), 60_000);
    return new Promise((done) =>
      child.on('exit', (code) => {
        clearTimeout(timer);
        done({ code, out });
      }),
    );
  }

  it('is quiet while the target is up', async () => {
    const r = await uptime();
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /local up/);
    assert.equal(posts.length, 0);
  });

  it('alerts after three failed runs, again when the webhook refused it, then no more', async () => {
    down = true;
    for (let i = 1; i <= 2; i++) assert.equal((await uptime()).code, 1);
    assert.equal(posts.length, 0, 'no alert before the threshold');
    refuseNextPost = true;
    const refused = await uptime();
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, /could not be delivered/);
    const sent = await uptime();
    assert.equal(sent.code, 1, sent.out);
    assert.equal((await uptime()).code, 1);
    assert.deepEqual(
      posts.map((p) => p.status),
      [500, 200],
    );
    assert.match(posts[1].text, /local is down \(4 failed checks in a row\): health is 200/);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    assert.equal(state.alerting, true);
    assert.equal(state.consecutive_failures, 5);
  });

  it('sends one recovery notice when the target answers again', async () => {
    down = false;
    assert.equal((await uptime()).code, 0);
    assert.equal((await uptime()).code, 0);
    assert.equal(posts.length, 3);
    assert.match(posts[2].text, /local is up again/);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    assert.deepEqual([state.alerting, state.consecutive_failures, state.history.length], [false, 0, 8]);
    assert.doesNotMatch(readFileSync(stateFile, 'utf8'), new RegExp(anonKey.slice(-16)), 'no key in the state file');
  });
});
