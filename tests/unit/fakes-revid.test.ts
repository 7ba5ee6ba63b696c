// The fake RevID: render → pid, status progressing with time, webhooks in every delivery mode,
// failures on demand, and rendered files streamed with Range support.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakesServer, type FakesServer } from '../../local/fakes/server.ts';

// Responses are read loosely; the assertions are what check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let fakes: FakesServer;
let base: string;
const API = '/revid/api/public/v2';

before(async () => {
  fakes = await createFakesServer({ port: 0 });
  base = fakes.url;
});
after(async () => {
  await fakes.close();
});
beforeEach(async () => {
  assert.equal((await fetch(`${base}/_control/reset`, { method: 'POST' })).status, 200);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function control(path: string, body?: unknown): Promise<Json> {
  const r = await fetch(
    `${base}/_control${path}`,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const json = (await r.json()) as Json;
  assert.ok(r.ok, `${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

const SCRIPT = 'Most people get sourdough wrong. Here is the one step that fixes it: feed the starter twice a day for a week.';

function renderBody(extra: Json = {}) {
  return {
    creationParams: {
      inputText: SCRIPT,
      flowType: 'text-to-video',
      mediaType: 'stockVideo',
      ratio: '9 / 16',
      captionPresetName: 'Wrap 1',
      selectedVoice: 'cgSgspJ2msm6clMCkdW9',
      hasToGenerateVoice: true,
      hasToSearchMedia: true,
    },
    resolution: '1080p',
    frameRate: 30,
    ...extra,
  };
}

async function render(body: unknown, key: string | null = 'test-key') {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.key = key;
  const r = await fetch(`${base}${API}/render`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Json };
}

async function status(pid: string) {
  const r = await fetch(`${base}${API}/status?pid=${pid}`, { headers: { key: 'test-key' } });
  return { status: r.status, body: (await r.json()) as Json };
}

async function waitForFinal(pid: string, timeoutMs = 5_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await status(pid)).body;
    if (!['queued', 'rendering'].includes(s.status)) return s;
    assert.ok(Date.now() < deadline, `job ${pid} still ${s.status}`);
    await sleep(20);
  }
}

async function until(what: string, probe: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A webhook receiver on 127.0.0.1, recording what arrives. */
async function receiver(): Promise<{ url: string; received: Json[]; close(): Promise<void> }> {
  const received: Json[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/functions/v1/revid-webhook`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('render and status', () => {
  it('needs the key header and creationParams.inputText', async () => {
    const missing = await render(renderBody(), null);
    assert.equal(missing.status, 401);
    assert.equal(typeof missing.body.error, 'string');
    const noText = await render({ creationParams: { flowType: 'text-to-video' } });
    assert.equal(noText.status, 400);
    assert.match(noText.body.error, /inputText/);
    assert.equal((await render({ creationParams: { inputText: '   ' } })).status, 400);
    await control('/revid/settings', { apiKeys: ['the-key'] });
    assert.equal((await render(renderBody(), 'another-key')).status, 401);
    const ok = await render(renderBody(), 'the-key');
    assert.equal(ok.status, 200);
    assert.match(ok.body.pid, /^[0-9a-f]{20}$/);
  });

  it('moves from queued through rendering to ready with a video URL', async () => {
    await control('/revid/settings', { renderMs: 2_000 });
    const { body } = await render(renderBody());
    const first = (await status(body.pid)).body;
    assert.equal(first.status, 'queued');
    assert.equal(first.progress, 0);
    await sleep(1_000);
    const middle = (await status(body.pid)).body;
    assert.equal(middle.status, 'rendering');
    assert.ok(middle.progress > 0 && middle.progress < 100, String(middle.progress));
    const done = await waitForFinal(body.pid);
    assert.equal(done.status, 'ready');
    assert.equal(done.progress, 100);
    assert.equal(done.videoUrl, `${base}/revid/media/${body.pid}.mp4`);
    assert.ok(done.duration > 0);
  });

  it('answers 400 without pid and 404 for an unknown one', async () => {
    assert.equal((await fetch(`${base}${API}/status`, { headers: { key: 'k' } })).status, 400);
    assert.equal((await status('0123456789abcdef0123')).status, 404);
  });

  it('fails renders on demand with status "error" or "FAILED" and a message', async () => {
    await control('/revid/settings', { renderMs: 0, failNext: 1 });
    const failed = await waitForFinal((await render(renderBody())).body.pid);
    assert.equal(failed.status, 'error');
    assert.match(failed.error, /failed/i);
    assert.equal(failed.videoUrl, undefined);
    await control('/revid/settings', { failNext: 1, failStatus: 'FAILED', failMessage: 'Out of credits' });
    const failedAgain = await waitForFinal((await render(renderBody())).body.pid);
    assert.deepEqual([failedAgain.status, failedAgain.message], ['FAILED', 'Out of credits']);
    const fine = await waitForFinal((await render(renderBody())).body.pid);
    assert.equal(fine.status, 'ready');
  });

  it('estimates credits', async () => {
    const r = await fetch(`${base}${API}/calculate-credits`, { method: 'POST', headers: { key: 'k' }, body: JSON.stringify(renderBody()) });
    const body = (await r.json()) as Json;
    assert.equal(r.status, 200);
    assert.ok(Number.isInteger(body.credits) && body.credits >= 1);
  });
});

describe('webhooks', () => {
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeEach(async () => {
    hook = await receiver();
    await control('/revid/settings', { renderMs: 50 });
  });
  afterEach(async () => {
    await hook.close();
  });

  async function renderWithWebhook() {
    const secret = 'per-job-secret-123';
    const { body } = await render(renderBody({ webhook: `${hook.url}?job=42&secret=${secret}` }));
    return { pid: body.pid as string, secret };
  }

  it('normal: one POST with the final state when the render is done', async () => {
    const { pid, secret } = await renderWithWebhook();
    await waitForFinal(pid);
    await until('the webhook', () => hook.received.length >= 1);
    await sleep(100);
    assert.equal(hook.received.length, 1);
    const delivery = hook.received[0]!;
    assert.equal(delivery.path, `/functions/v1/revid-webhook?job=42&secret=${secret}`);
    assert.match(delivery.headers['content-type'], /application\/json/);
    assert.equal(delivery.body.pid, pid);
    assert.equal(delivery.body.status, 'ready');
    assert.equal(delivery.body.videoUrl, `${base}/revid/media/${pid}.mp4`);
    const log = await control(`/revid/webhooks?pid=${pid}`);
    assert.equal(log.deliveries.length, 1);
    assert.equal(log.deliveries[0].status, 200);
    assert.doesNotMatch(JSON.stringify(log), new RegExp(secret));
  });

  it('drop: never calls', async () => {
    await control('/revid/settings', { webhookMode: 'drop' });
    const { pid } = await renderWithWebhook();
    assert.equal((await waitForFinal(pid)).status, 'ready');
    await sleep(200);
    assert.equal(hook.received.length, 0);
  });

  it('duplicate: the same final payload twice', async () => {
    await control('/revid/settings', { webhookMode: 'duplicate' });
    const { pid } = await renderWithWebhook();
    await waitForFinal(pid);
    await until('two webhooks', () => hook.received.length >= 2);
    await sleep(100);
    assert.equal(hook.received.length, 2);
    assert.deepEqual(hook.received[0]!.body, hook.received[1]!.body);
    assert.equal(hook.received[0]!.body.status, 'ready');
  });

  it('out_of_order: a late "rendering" after "ready"', async () => {
    await control('/revid/settings', { webhookMode: 'out_of_order' });
    const { pid } = await renderWithWebhook();
    await waitForFinal(pid);
    await until('two webhooks', () => hook.received.length >= 2);
    await sleep(100);
    assert.deepEqual(
      hook.received.map((d) => d.body.status),
      ['ready', 'rendering'],
    );
    assert.ok(hook.received.every((d) => d.body.pid === pid));
    // Status polling still says ready: the late webhook is the only thing out of order.
    assert.equal((await status(pid)).body.status, 'ready');
  });

  it('reports failures by webhook too', async () => {
    await control('/revid/settings', { failNext: 1 });
    const { pid } = await renderWithWebhook();
    await waitForFinal(pid);
    await until('the webhook', () => hook.received.length >= 1);
    await sleep(100);
    assert.equal(hook.received.length, 1);
    assert.equal(hook.received[0]!.body.status, 'error');
    assert.equal(typeof hook.received[0]!.body.error, 'string');
  });
});

describe('media', () => {
  async function readyJob(videoBytes?: number): Promise<{ pid: string; url: string; size: number }> {
    const job = await control('/revid/jobs', videoBytes === undefined ? {} : { videoBytes });
    return { pid: job.pid, url: job.videoUrl, size: job.videoBytes };
  }

  it('serves 2 MB by default, whose sha256 the control API knows, with an MP4 header', async () => {
    const { pid, url, size } = await readyJob();
    assert.equal(size, 2 * 1024 * 1024);
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'video/mp4');
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
    assert.equal(r.headers.get('content-length'), String(size));
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.equal(bytes.length, size);
    assert.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
    const { sha256 } = await control(`/revid/media/${pid}/sha256`);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), sha256);
    // The same pid always gives the same bytes; another pid other bytes.
    assert.ok(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(bytes));
    const other = await readyJob();
    assert.notEqual((await control(`/revid/media/${other.pid}/sha256`)).sha256, sha256);
  });

  it('answers Range requests with 206 and the right bytes, 416 past the end, and HEAD', async () => {
    const { url, size } = await readyJob(1_000_003);
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=5-20', 5, 20],
      ['bytes=999990-', 999_990, size - 1],
      ['bytes=-100', size - 100, size - 1],
      ['bytes=262141-524300', 262_141, 524_300],
      ['bytes=1000000-9999999', 1_000_000, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const r = await fetch(url, { headers: { range } });
      assert.equal(r.status, 206, range);
      assert.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${size}`, range);
      const part = Buffer.from(await r.arrayBuffer());
      assert.ok(part.equals(whole.subarray(start, end + 1)), range);
    }
    const past = await fetch(url, { headers: { range: `bytes=${size}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${size}`);
    await past.arrayBuffer();
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(size));
  });

  it('has no file before the render is ready', async () => {
    await control('/revid/settings', { renderMs: 10_000 });
    const { body } = await render(renderBody());
    assert.equal((await fetch(`${base}/revid/media/${body.pid}.mp4`)).status, 404);
    await control(`/revid/jobs/${body.pid}/finish`, {});
    assert.equal((await fetch(`${base}/revid/media/${body.pid}.mp4`, { method: 'HEAD' })).status, 200);
  });

  it('streams hundreds of MB without holding them', async () => {
    const size = 300 * 1024 * 1024;
    const { pid, url } = await readyJob(size);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const r = await fetch(url);
    const hash = createHash('sha256');
    let received = 0;
    for await (const chunk of r.body!) {
      hash.update(chunk);
      received += chunk.length;
      if (received % (32 * 1024 * 1024) < chunk.length) peak = Math.max(peak, process.memoryUsage().rss);
    }
    assert.equal(received, size);
    assert.equal(hash.digest('hex'), (await control(`/revid/media/${pid}/sha256`)).sha256);
    // Server and client share this process: holding the file anywhere would add 300 MB.
    assert.ok(peak - rssBefore < 150 * 1024 * 1024, `rss grew by ${Math.round((peak - rssBefore) / 1e6)} MB`);
  });

  it('breaks the body half-way under a mid-body fault', async () => {
    const { url } = await readyJob();
    await control('/faults', { match: { pathPrefix: '/revid/media' }, drop: 'mid-body', times: 1 });
    await assert.rejects(async () => {
      const r = await fetch(url);
      await r.arrayBuffer();
    });
  });
});
