// The fakes server's framework: fault injection, the request log, the echo sink, reset.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFakesServer, type FakesServer } from '../../local/fakes/server.ts';

// Responses are read loosely; the assertions are what check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let fakes: FakesServer;
let base: string;

before(async () => {
  fakes = await createFakesServer({ port: 0 });
  base = fakes.url;
});
after(async () => {
  await fakes.close();
});
beforeEach(async () => {
  const r = await fetch(`${base}/_control/reset`, { method: 'POST' });
  assert.equal(r.status, 200);
});

async function addFault(rule: unknown): Promise<string> {
  const r = await fetch(`${base}/_control/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rule),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return (body as { id: string }).id;
}

async function listFaults() {
  const r = await fetch(`${base}/_control/faults`);
  return ((await r.json()) as { faults: Array<{ id: string; hits: number; matched: number; active: boolean }> }).faults;
}

describe('control API', () => {
  it('answers health', async () => {
    const r = await fetch(`${base}/_control/health`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { ok: boolean }).ok, true);
  });

  it('rejects invalid fault rules with 400', async () => {
    for (const bad of [
      { match: {}, failRate: 0.5 }, // no effect
      { match: { pathPrefix: '/echo', pathRegex: '^/echo' }, status: 500 },
      { match: { pathRegex: '(' }, status: 500 },
      { match: {}, status: 500, failRate: 2 },
      { match: {}, status: 500, drop: 'sometimes' },
      { match: {}, status: 500, unknownField: true },
      { match: { query: { page: false } }, status: 500 },
    ]) {
      const r = await fetch(`${base}/_control/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(bad),
      });
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.ok(Array.isArray(((await r.json()) as { issues: unknown[] }).issues));
    }
    assert.equal((await listFaults()).length, 0);
  });
});

describe('faults', () => {
  it('status fault answers with the service error shape (Google on /youtube)', async () => {
    await addFault({ match: { pathPrefix: '/youtube' }, status: 503 });
    const r = await fetch(`${base}/youtube/youtube/v3/channels?part=id&mine=true`);
    assert.equal(r.status, 503);
    const body = (await r.json()) as {
      error: { code: number; status: string; message: string; errors: Array<{ reason: string; domain: string }> };
    };
    assert.equal(body.error.code, 503);
    assert.equal(body.error.status, 'UNAVAILABLE');
    assert.equal(body.error.errors[0]!.reason, 'backendError');
    assert.equal(body.error.errors[0]!.domain, 'global');
  });

  it('status fault uses RevID shape on /revid and the given body when one is set', async () => {
    await addFault({ match: { pathPrefix: '/revid' }, status: 500 });
    const revid = await fetch(`${base}/revid/api/public/v2/status?pid=1`);
    assert.equal(revid.status, 500);
    assert.deepEqual(await revid.json(), { error: 'Internal Server Error' });

    await addFault({ match: { pathPrefix: '/echo/custom' }, status: 418, body: { teapot: true }, headers: { 'x-fault': 'yes' } });
    const custom = await fetch(`${base}/echo/custom`);
    assert.equal(custom.status, 418);
    assert.equal(custom.headers.get('x-fault'), 'yes');
    assert.deepEqual(await custom.json(), { teapot: true });
  });

  it('matches on method and path regex', async () => {
    await addFault({ match: { method: 'post', pathRegex: '^/echo/a+$' }, status: 500 });
    assert.equal((await fetch(`${base}/echo/aaa`)).status, 200); // GET does not match
    assert.equal((await fetch(`${base}/echo/aaa`, { method: 'POST' })).status, 500);
    assert.equal((await fetch(`${base}/echo/aab`, { method: 'POST' })).status, 200);
  });

  it('matches on query parameters: a given value, or any value with true', async () => {
    await addFault({ match: { pathPrefix: '/echo', query: { list: 'L1', page: true } }, status: 500 });
    const status = async (q: string) => (await fetch(`${base}/echo/items${q}`)).status;
    assert.equal(await status('?list=L1'), 200); // no page parameter
    assert.equal(await status('?list=L2&page=p2'), 200); // another list
    assert.equal(await status('?list=L1&page=p2'), 500);
    assert.equal(await status('?page=&list=L1'), 500); // present, even empty
    assert.equal((await listFaults())[0]!.matched, 2);
  });

  it('failRate fails a deterministic, exact share of requests', async () => {
    async function failingIndexes(): Promise<number[]> {
      await fetch(`${base}/_control/reset`, { method: 'POST' });
      await addFault({ match: { pathPrefix: '/echo' }, status: 500, failRate: 0.3 });
      const failed: number[] = [];
      for (let i = 1; i <= 100; i++) {
        const r = await fetch(`${base}/echo/n`);
        await r.arrayBuffer();
        if (r.status === 500) failed.push(i);
        else assert.equal(r.status, 200);
      }
      return failed;
    }
    const first = await failingIndexes();
    assert.equal(first.length, 30);
    assert.deepEqual(first.slice(0, 3), [4, 7, 10]); // spread evenly, not front-loaded
    assert.deepEqual(await failingIndexes(), first);
    const [fault] = await listFaults();
    assert.equal(fault!.matched, 100);
    assert.equal(fault!.hits, 30);
  });

  it('failRate 0.29 over 100 requests fails exactly 29 (no float drift)', async () => {
    await addFault({ match: { pathPrefix: '/echo' }, status: 500, failRate: 0.29 });
    let failed = 0;
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${base}/echo/x`);
      await r.arrayBuffer();
      if (r.status === 500) failed++;
    }
    assert.equal(failed, 29);
  });

  it('latency delays the real response', async () => {
    const t0 = performance.now();
    await (await fetch(`${base}/echo/fast`)).arrayBuffer();
    const fast = performance.now() - t0;

    await addFault({ match: { pathPrefix: '/echo/slow' }, latencyMs: 300 });
    const t1 = performance.now();
    const r = await fetch(`${base}/echo/slow`);
    const body = (await r.json()) as { path: string };
    const slow = performance.now() - t1;
    assert.equal(r.status, 200);
    assert.equal(body.path, '/echo/slow');
    assert.ok(slow >= 290, `took ${slow} ms`);
    assert.ok(fast < 200, `unfaulted request took ${fast} ms`);
  });

  it('retryAfterSeconds answers 429 with Retry-After', async () => {
    await addFault({ match: { pathPrefix: '/gemini' }, retryAfterSeconds: 7 });
    const r = await fetch(`${base}/gemini/v1beta/models/gemini-2.0-flash:generateContent`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    const body = (await r.json()) as { error: { code: number; status: string } };
    assert.equal(body.error.code, 429);
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
  });

  it('drop before-response makes the client fail without a response', async () => {
    await addFault({ match: { pathPrefix: '/echo/drop' }, drop: 'before-response' });
    await assert.rejects(fetch(`${base}/echo/drop`), TypeError);
    // The server keeps serving other requests.
    assert.equal((await fetch(`${base}/echo/ok`)).status, 200);
  });

  it('drop mid-body delivers the status and headers, then breaks the body', async () => {
    await addFault({ match: { pathPrefix: '/echo/cut' }, drop: 'mid-body' });
    const r = await fetch(`${base}/echo/cut`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(10_000) }),
    });
    assert.equal(r.status, 200);
    await assert.rejects(r.text());
  });

  it('drop mid-body on an error status breaks the error body too', async () => {
    await addFault({ match: { pathPrefix: '/youtube' }, status: 500, drop: 'mid-body' });
    const r = await fetch(`${base}/youtube/youtube/v3/videos?id=x&part=id`);
    assert.equal(r.status, 500);
    await assert.rejects(r.text());
  });

  it('times limits how often a rule applies', async () => {
    const id = await addFault({ match: { pathPrefix: '/echo' }, status: 502, times: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${base}/echo/t`);
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [502, 502, 200, 200]);
    const fault = (await listFaults()).find((f) => f.id === id)!;
    assert.equal(fault.hits, 2);
    assert.equal(fault.active, false);
  });

  it('rules apply in order and a later rule only sees what earlier ones let through', async () => {
    await addFault({ match: { pathPrefix: '/echo' }, status: 500, times: 1 });
    await addFault({ match: { pathPrefix: '/echo' }, status: 503, times: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${base}/echo/o`);
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [500, 503, 200]);
  });

  it('deleting one rule and clearing all stop the faults', async () => {
    const a = await addFault({ match: { pathPrefix: '/echo/a' }, status: 500 });
    await addFault({ match: { pathPrefix: '/echo/b' }, status: 500 });
    assert.equal((await fetch(`${base}/_control/faults/${a}`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${base}/_control/faults/${a}`, { method: 'DELETE' })).status, 404);
    assert.equal((await fetch(`${base}/echo/a`)).status, 200);
    assert.equal((await fetch(`${base}/echo/b`)).status, 500);
    assert.equal((await fetch(`${base}/_control/faults`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${base}/echo/b`)).status, 200);
    assert.equal((await listFaults()).length, 0);
  });

  it('never faults the control API', async () => {
    await addFault({ match: {}, status: 500 });
    assert.equal((await fetch(`${base}/_control/health`)).status, 200);
    assert.equal((await fetch(`${base}/echo/x`)).status, 500);
  });
});

describe('request log', () => {
  it('records requests with credentials redacted, filters by prefix and time', async () => {
    await fetch(`${base}/echo/before`);
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date().toISOString();
    await fetch(`${base}/echo/hook?key=sekrit-key&x=1`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sekrit-token',
        'x-goog-api-key': 'sekrit-goog',
        apikey: 'sekrit-apikey',
        'content-type': 'application/json',
        'x-trace': 'keep-me',
      },
      body: JSON.stringify({ hello: 'world' }),
    });
    await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=sekrit-refresh&client_secret=sekrit-client&client_id=abc',
    });

    const r = await fetch(`${base}/_control/requests?since=${encodeURIComponent(since)}`);
    const { requests } = (await r.json()) as { requests: Json[] };
    assert.deepEqual(
      requests.map((q) => q.path),
      ['/echo/hook', '/oauth/token'],
    );
    const [hook, token] = requests;
    assert.equal(hook!.method, 'POST');
    assert.equal(hook!.status, 200);
    assert.deepEqual(hook!.query, { key: '<redacted>', x: '1' });
    assert.equal(hook!.headers.authorization, '<redacted>');
    assert.equal(hook!.headers['x-goog-api-key'], '<redacted>');
    assert.equal(hook!.headers.apikey, '<redacted>');
    assert.equal(hook!.headers['x-trace'], 'keep-me');
    assert.equal(hook!.body, '{"hello":"world"}');
    assert.ok(typeof hook!.at === 'string' && Date.parse(hook!.at) >= Date.parse(since));
    assert.match(token!.body, /grant_type=refresh_token/);
    assert.match(token!.body, /client_id=abc/);
    const everything = JSON.stringify(requests);
    assert.doesNotMatch(everything, /sekrit/);

    const byPrefix = (await (await fetch(`${base}/_control/requests?pathPrefix=/oauth`)).json()) as { requests: unknown[] };
    assert.equal(byPrefix.requests.length, 1);
    const all = (await (await fetch(`${base}/_control/requests`)).json()) as { requests: unknown[] };
    assert.equal(all.requests.length, 3);
  });

  it('caps recorded bodies at 64 KB and notes the truncation', async () => {
    await fetch(`${base}/echo/big`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'y'.repeat(100_000) });
    const { requests } = (await (await fetch(`${base}/_control/requests`)).json()) as {
      requests: Array<{ body: string; bodyBytes: number; bodyTruncated: boolean }>;
    };
    assert.equal(requests[0]!.body.length, 64 * 1024);
    assert.equal(requests[0]!.bodyBytes, 100_000);
    assert.equal(requests[0]!.bodyTruncated, true);
  });

  it('marks faulted requests with the rule id and does not record control calls', async () => {
    const id = await addFault({ match: { pathPrefix: '/echo' }, status: 500 });
    await fetch(`${base}/echo/f`);
    const { requests } = (await (await fetch(`${base}/_control/requests`)).json()) as {
      requests: Array<{ path: string; fault?: string; status?: number }>;
    };
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.fault, id);
    assert.equal(requests[0]!.status, 500);
  });

  it('DELETE clears the log; a bad since is a 400', async () => {
    await fetch(`${base}/echo/1`);
    assert.equal((await fetch(`${base}/_control/requests`, { method: 'DELETE' })).status, 200);
    const { requests } = (await (await fetch(`${base}/_control/requests`)).json()) as { requests: unknown[] };
    assert.equal(requests.length, 0);
    assert.equal((await fetch(`${base}/_control/requests?since=yesterday-ish`)).status, 400);
  });
});

describe('routes', () => {
  it('echo answers with what it received', async () => {
    const r = await fetch(`${base}/echo/some/path?a=1&a=2&b=x`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: 'Bearer hidden', 'x-custom': 'v' },
      body: JSON.stringify({ n: 1 }),
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as Json;
    assert.equal(body.method, 'PUT');
    assert.equal(body.path, '/echo/some/path');
    assert.deepEqual(body.query, { a: ['1', '2'], b: 'x' });
    assert.deepEqual(body.body, { n: 1 });
    assert.equal(body.headers['x-custom'], 'v');
    assert.equal(body.headers.authorization, '<redacted>');
  });

  it('unknown routes answer 404 JSON', async () => {
    const r = await fetch(`${base}/nothing/here`);
    assert.equal(r.status, 404);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.match(((await r.json()) as { error: string }).error, /no route GET \/nothing\/here/);

    const g = await fetch(`${base}/gemini/v1beta/nope`);
    assert.equal(g.status, 404);
    assert.equal(((await g.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
  });

  it('reset clears faults and the request log', async () => {
    await addFault({ match: {}, status: 500 });
    await fetch(`${base}/echo/x`);
    assert.equal((await fetch(`${base}/_control/reset`, { method: 'POST' })).status, 200);
    assert.equal((await listFaults()).length, 0);
    assert.equal((await fetch(`${base}/echo/x`)).status, 200);
    const { requests } = (await (await fetch(`${base}/_control/requests`)).json()) as { requests: Array<{ path: string }> };
    assert.deepEqual(
      requests.map((q) => q.path),
      ['/echo/x'],
    );
  });
});
