// The local pg_net worker (local/pgnet) against a real Postgres and a real HTTP target in this process.
// Most cases run in a scratch database created next to SUPABASE_DB_URL's, with the same pg_net SQL
// (local/platform/30-pg-net.sql): the stack's own worker polls the shared queue and would otherwise
// race these tests for rows. The pg_cron case has to use the shared database, the only one pg_cron
// runs jobs in, and only asserts what holds whichever worker sends the request.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import { startPgNetWorker, type PgNetWorker, type PgNetWorkerOptions } from '../../local/pgnet/worker.ts';

const DB_URL = process.env.SUPABASE_DB_URL;
if (!DB_URL) throw new Error('SUPABASE_DB_URL must point at a database with the local platform SQL applied');
const PG_NET_SQL = new URL('../../local/platform/30-pg-net.sql', import.meta.url);
const WORKER_APP_NAME = 'pg_net worker (local)';
// A worker that never drains the queue would leave idle() waiting forever: fail instead.
const BOUNDED = { timeout: 30_000 };

// Section: helpers

type Sql = postgres.Sql | postgres.TransactionSql;

interface Arrival {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/** Records every request; `?sleep=ms` delays the answer, `?status=n` sets its status. */
class Target {
  readonly arrivals: Arrival[] = [];
  active = 0;
  maxActive = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Target> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = new Target(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', target.url);
        target.arrivals.push({
          method: req.method ?? '',
          path: url.pathname,
          search: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks),
          at: Date.now(),
        });
        target.active += 1;
        target.maxActive = Math.max(target.maxActive, target.active);
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          target.active -= 1;
        };
        const timer = setTimeout(
          () => {
            finish();
            res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'content-type': 'application/json', 'x-target': 'pgnet-test' });
            res.end(JSON.stringify({ path: url.pathname, ack: true }));
          },
          Number(url.searchParams.get('sleep') ?? 0),
        );
        res.on('close', () => {
          clearTimeout(timer);
          finish();
        });
      });
    });
    return target;
  }

  at(path: string) {
    return this.arrivals.filter((a) => a.path === path);
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function marker() {
  return randomBytes(6).toString('hex');
}

function withDatabase(url: string, database: string) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function createScratchDatabase() {
  const name = `pgnet_test_${marker()}`;
  const admin = postgres(DB_URL!, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(DB_URL!, name);
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  await sql.unsafe(readFileSync(PG_NET_SQL, 'utf8'));
  return {
    url,
    sql,
    async drop() {
      await sql.end();
      const admin = postgres(DB_URL!, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

async function httpPost(
  sql: Sql,
  url: string,
  opts: { body?: postgres.JSONValue; headers?: postgres.JSONValue; timeoutMs?: number } = {},
): Promise<string> {
  const [row] = await sql`
    select net.http_post(
      url := ${url},
      body := ${sql.json(opts.body ?? {})}::jsonb,
      headers := ${sql.json(opts.headers ?? { 'Content-Type': 'application/json' })}::jsonb,
      timeout_milliseconds := ${opts.timeoutMs ?? 5000}) as id`;
  return String(row!.id);
}

async function responseOf(sql: Sql, id: string) {
  const rows = await sql`select * from net._http_response where id = ${id}`;
  assert.equal(rows.length, 1, `exactly one response row for request ${id}`);
  return rows[0]!;
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function freePortWithNobodyListening(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Section: the worker against a scratch database

describe('pg_net worker', () => {
  let db: Awaited<ReturnType<typeof createScratchDatabase>>;
  let target: Target;
  // Stopped again in after(): a test that timed out must not leave a worker keeping the process alive.
  const workers = new Set<PgNetWorker>();
  async function startWorker(opts: Partial<PgNetWorkerOptions> = {}) {
    const worker = await startPgNetWorker({ dbUrl: db.url, pollIntervalMs: 100, log: () => {}, ...opts });
    workers.add(worker);
    return worker;
  }

  before(async () => {
    db = await createScratchDatabase();
    target = await Target.start();
  });

  after(async () => {
    await Promise.all([...workers].map((w) => w.stop()));
    await target?.close();
    await db?.drop();
  });

  async function withWorker(opts: Partial<PgNetWorkerOptions>, run: (worker: PgNetWorker, logs: string[]) => Promise<void>) {
    const logs: string[] = [];
    const worker = await startWorker({ log: (l) => logs.push(l), ...opts });
    try {
      await run(worker, logs);
    } finally {
      await worker.stop();
    }
  }

  test('POST delivers the JSON body and headers as queued and stores status, content type, headers and content', BOUNDED, async () => {
    await withWorker({}, async (worker) => {
      const m = marker();
      const body = { videoId: 'abc123', count: 3, nested: { ok: true, list: [1, 2] }, text: 'héllo "quoted" ✓' };
      const headers = { 'Content-Type': 'application/json', Authorization: `Bearer token-${m}`, 'X-Request-Marker': m };
      const [expected] = await db.sql`select convert_to(${db.sql.json(body)}::jsonb::text, 'UTF8') as bytes`;
      const id = await httpPost(db.sql, `${target.url}/post/${m}?status=201`, { body, headers });
      await worker.idle();

      const [arrival, ...more] = target.at(`/post/${m}`);
      assert.equal(more.length, 0, 'sent exactly once');
      assert.ok(arrival);
      assert.equal(arrival.method, 'POST');
      assert.deepEqual(arrival.body, expected!.bytes, 'body bytes as net.http_post queued them');
      assert.deepEqual(JSON.parse(arrival.body.toString('utf8')), body);
      assert.equal(arrival.headers['content-type'], 'application/json');
      assert.equal(arrival.headers.authorization, `Bearer token-${m}`);
      assert.equal(arrival.headers['x-request-marker'], m);
      assert.match(String(arrival.headers['user-agent']), /^pg_net\//);

      const r = await responseOf(db.sql, id);
      assert.equal(r.status_code, 201);
      assert.equal(r.content_type, 'application/json');
      assert.equal(r.headers['x-target'], 'pgnet-test');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(r.content), { path: `/post/${m}`, ack: true });
      assert.equal(r.timed_out, false);
      assert.equal(r.error_msg, null);
      assert.ok(r.created instanceof Date);
    });
  });

  test('POST without a Content-Type header is labelled as a form, as curl (and so pg_net) does', BOUNDED, async () => {
    await withWorker({}, async (worker) => {
      const m = marker();
      await httpPost(db.sql, `${target.url}/no-type/${m}`, { body: { a: 1 }, headers: {} });
      await worker.idle();
      const [arrival] = target.at(`/no-type/${m}`);
      assert.equal(arrival?.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.deepEqual(JSON.parse(arrival.body.toString('utf8')), { a: 1 });
    });
  });

  test('a request queued in a rolled-back transaction is never sent; a committed one only after commit', BOUNDED, async () => {
    await withWorker({ pollIntervalMs: 50 }, async (worker) => {
      const m = marker();
      let rolledBackId = '';
      await assert.rejects(
        db.sql.begin(async (tx) => {
          rolledBackId = await httpPost(tx, `${target.url}/rollback/${m}`);
          throw new Error('roll back on purpose');
        }),
        /roll back on purpose/,
      );

      let committedId = '';
      let commitStartedAt = 0;
      await db.sql.begin(async (tx) => {
        committedId = await httpPost(tx, `${target.url}/commit/${m}`);
        // Ten poll intervals: a worker able to see the row would have sent it by now.
        await sleep(500);
        assert.equal(target.at(`/commit/${m}`).length, 0, 'sent before its transaction committed');
        commitStartedAt = Date.now();
      });
      await worker.idle();

      const committed = target.at(`/commit/${m}`);
      assert.equal(committed.length, 1);
      assert.ok(committed[0]!.at >= commitStartedAt, 'arrived after the commit');
      assert.equal((await responseOf(db.sql, committedId)).status_code, 200);

      assert.equal(target.at(`/rollback/${m}`).length, 0, 'rolled-back request was sent');
      const leftovers = await db.sql`
        select (select count(*) from net._http_response where id = ${rolledBackId})::int as responses,
               (select count(*) from net.http_request_queue where id = ${rolledBackId})::int as queued`;
      assert.deepEqual({ ...leftovers[0] }, { responses: 0, queued: 0 });
    });
  });

  test('a target slower than timeout_milliseconds gives timed_out = true; its batch is answered together', BOUNDED, async () => {
    await withWorker({}, async (worker) => {
      const m = marker();
      const started = Date.now();
      // Queued in one transaction, so one batch takes them all (as pg_net would).
      const [slowId, ...fastIds] = await db.sql.begin(async (tx) => {
        const ids = [await httpPost(tx, `${target.url}/slow/${m}?sleep=3000`, { timeoutMs: 300 })];
        for (let i = 0; i < 3; i++) ids.push(await httpPost(tx, `${target.url}/fast/${m}/${i}`));
        return ids;
      });
      await worker.idle();
      assert.ok(Date.now() - started < 2500, 'the worker waited for the slow target instead of timing out');

      const slow = await responseOf(db.sql, slowId);
      assert.equal(slow.timed_out, true);
      assert.equal(slow.status_code, null);
      assert.match(slow.error_msg, /^Timeout of 300 ms reached/);
      for (const id of fastIds) {
        const fast = await responseOf(db.sql, id);
        assert.equal(fast.status_code, 200);
        // pg_net writes a batch's answers in one transaction once its slowest request is done.
        assert.equal(fast.created.getTime(), slow.created.getTime(), "answered in the slow one's transaction");
      }
    });
  });

  test('refused connections and malformed rows become error rows and the worker keeps going', BOUNDED, async () => {
    await withWorker({}, async (worker, logs) => {
      const m = marker();
      const deadPort = await freePortWithNobodyListening();
      const refusedId = await httpPost(db.sql, `http://127.0.0.1:${deadPort}/nobody/${m}`);
      const [badUrl] = await db.sql`select net.http_get('not a url') as id`;
      const crlfId = await httpPost(db.sql, `${target.url}/crlf/${m}`, { headers: { 'X-Bad': 'a\r\nInjected: yes' } });
      const [arrayHeaders] = await db.sql`
        insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
        values ('GET', ${`${target.url}/array-headers/${m}`}, '["not", "an object"]', null, 1000) returning id`;
      const [zeroTimeout] = await db.sql`select net.http_get(${`${target.url}/zero/${m}`}, timeout_milliseconds := 0) as id`;
      const afterId = await httpPost(db.sql, `${target.url}/after-errors/${m}`);
      await worker.idle();

      const refused = await responseOf(db.sql, refusedId);
      assert.equal(refused.status_code, null);
      assert.equal(refused.timed_out, false);
      assert.match(refused.error_msg, /^Couldn't connect to server: .*ECONNREFUSED/);

      assert.equal((await responseOf(db.sql, String(badUrl!.id))).error_msg, 'URL using bad/illegal format or missing URL');
      assert.equal((await responseOf(db.sql, crlfId)).error_msg, 'header "X-Bad" contains a carriage return or line feed');
      assert.equal((await responseOf(db.sql, String(arrayHeaders!.id))).error_msg, 'headers must be a JSON object');
      assert.match((await responseOf(db.sql, String(zeroTimeout!.id))).error_msg, /timeout_milliseconds must be at least 1/);
      for (const path of ['crlf', 'array-headers', 'zero']) assert.equal(target.at(`/${path}/${m}`).length, 0, `${path} was sent`);

      assert.equal((await responseOf(db.sql, afterId)).status_code, 200);
      assert.ok(logs.some((l) => l.includes(`request ${refusedId} POST http://127.0.0.1:${deadPort}/nobody/${m} failed`)));
      assert.ok(!logs.some((l) => l.includes('Injected')), 'header values must not reach the log');
    });
  });

  test('never more than `concurrency` (pg_net.batch_size) requests in flight at the target', BOUNDED, async () => {
    await withWorker({ concurrency: 2 }, async (worker) => {
      const m = marker();
      target.maxActive = target.active;
      const ids = await db.sql.begin(async (tx) => {
        const queued = [];
        for (let i = 0; i < 6; i++) queued.push(await httpPost(tx, `${target.url}/bounded/${m}/${i}?sleep=300`));
        return queued;
      });
      await worker.idle();
      assert.equal(target.maxActive, 2);
      for (let i = 0; i < 6; i++) assert.equal(target.at(`/bounded/${m}/${i}`).length, 1);
      for (const id of ids) assert.equal((await responseOf(db.sql, id)).status_code, 200);
    });
  });

  test('as pg_net: a request queued while a batch is out is sent once every request of that batch has its answer', BOUNDED, async () => {
    await withWorker({}, async (worker) => {
      const m = marker();
      const slowId = await httpPost(db.sql, `${target.url}/batch-slow/${m}?sleep=1500`);
      await waitFor('the slow request to arrive', 3000, () => target.at(`/batch-slow/${m}`).length === 1);
      const queuedAt = Date.now();
      const nextId = await httpPost(db.sql, `${target.url}/batch-next/${m}`);
      await sleep(500);
      assert.equal(target.at(`/batch-next/${m}`).length, 0, 'sent while the batch before it was still out');
      assert.equal((await db.sql`select 1 from net._http_response where id = ${nextId}`).length, 0);
      await worker.idle();
      assert.equal((await responseOf(db.sql, slowId)).status_code, 200);
      assert.equal((await responseOf(db.sql, nextId)).status_code, 200);
      const [slow] = target.at(`/batch-slow/${m}`);
      const [next] = target.at(`/batch-next/${m}`);
      assert.ok(next!.at >= slow!.at + 1400, 'sent before the batch before it was answered');
      // The new request woke the worker during the batch, so no pause of 1 s came before it.
      assert.ok(next!.at - queuedAt < 1900, `the next request was sent ${next!.at - queuedAt} ms after it was queued`);
    });
  });

  test('GET sends params as the query string; DELETE is sent as DELETE', BOUNDED, async () => {
    await withWorker({}, async (worker) => {
      const m = marker();
      const [get] = await db.sql`
        select net.http_get(url := ${`${target.url}/get/${m}`},
          params := ${db.sql.json({ q: 'two words & more', n: '1' })}::jsonb,
          headers := ${db.sql.json({ 'X-Marker': m })}::jsonb) as id`;
      const [del] = await db.sql`
        select net.http_delete(url := ${`${target.url}/delete/${m}?keep=yes`}, params := ${db.sql.json({ id: '42' })}::jsonb) as id`;
      await worker.idle();

      const [g] = target.at(`/get/${m}`);
      assert.equal(g?.method, 'GET');
      assert.equal(g.search.get('q'), 'two words & more');
      assert.equal(g.search.get('n'), '1');
      assert.equal(g.headers['x-marker'], m);
      assert.equal(g.body.length, 0);
      const [d] = target.at(`/delete/${m}`);
      assert.equal(d?.method, 'DELETE');
      assert.deepEqual(Object.fromEntries(d.search), { keep: 'yes', id: '42' });
      assert.equal((await responseOf(db.sql, String(get!.id))).status_code, 200);
      assert.equal((await responseOf(db.sql, String(del!.id))).status_code, 200);
    });
  });

  test('two workers racing over 200 requests queued before they started send each exactly once', BOUNDED, async () => {
    const m = marker();
    const ids = (
      await db.sql`
      select net.http_post(url := ${`${target.url}/race/${m}/`} || i) as id from generate_series(1, 200) as i`
    ).map((r) => String(r.id));
    const [a, b] = await Promise.all([startWorker({ pollIntervalMs: 50 }), startWorker({ pollIntervalMs: 50 })]);
    try {
      await Promise.all([a.idle(), b.idle()]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    for (let i = 1; i <= 200; i++) assert.equal(target.at(`/race/${m}/${i}`).length, 1, `request ${i}`);
    assert.equal(target.arrivals.filter((x) => x.path.startsWith(`/race/${m}/`)).length, 200);
    const [stored] = await db.sql`
      select count(*)::int as rows, count(distinct id)::int as ids, count(*) filter (where status_code = 200)::int as ok
      from net._http_response where id = any(${ids}::bigint[])`;
    assert.deepEqual({ ...stored }, { rows: 200, ids: 200, ok: 200 });
  });

  test('a NOTIFY wakes the worker at once, and it LISTENs again after its connections are killed', BOUNDED, async () => {
    // Polling only once a minute: prompt deliveries can only come from LISTEN.
    await withWorker({ pollIntervalMs: 60_000 }, async (_worker, logs) => {
      const m = marker();
      const firstId = await httpPost(db.sql, `${target.url}/wake/${m}/1`);
      await waitFor(
        'the first response',
        3000,
        async () => (await db.sql`select 1 from net._http_response where id = ${firstId}`).length === 1,
      );

      const killed = await db.sql`
        select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and application_name = ${WORKER_APP_NAME}`;
      assert.ok(killed.length >= 1, 'found the worker connections');
      await waitFor('the worker to notice', 3000, () => logs.some((l) => l.includes('LISTEN connection lost')));

      const secondId = await httpPost(db.sql, `${target.url}/wake/${m}/2`);
      await waitFor(
        'the second response',
        8000,
        async () => (await db.sql`select 1 from net._http_response where id = ${secondId}`).length === 1,
      );
      assert.equal((await responseOf(db.sql, secondId)).status_code, 200);
    });
  });

  test('stop() waits for requests in flight and stores their responses', BOUNDED, async () => {
    const m = marker();
    const worker = await startWorker({ pollIntervalMs: 50 });
    const id = await httpPost(db.sql, `${target.url}/stopping/${m}?sleep=400`);
    await waitFor('the request to arrive', 3000, () => target.at(`/stopping/${m}`).length === 1);
    const stopAt = Date.now();
    await worker.stop();
    assert.ok(Date.now() - stopAt >= 250, 'stop() returned before the request finished');
    assert.equal((await responseOf(db.sql, id)).status_code, 200);
  });

  test('responses older than pg_net.ttl (6 hours) are deleted', BOUNDED, async () => {
    const [oldId, recentId] = [`-${Date.now()}`, `-${Date.now() + 1}`];
    await db.sql`
      insert into net._http_response (id, status_code, created)
      values (${oldId}, 200, now() - interval '6 hours 1 minute'), (${recentId}, 200, now() - interval '5 hours 59 minutes')`;
    // The first sweep runs as the worker starts.
    await withWorker({}, async () => {
      const rows = await db.sql`select id::text from net._http_response where id in (${oldId}, ${recentId})`;
      assert.deepEqual(
        rows.map((r) => r.id),
        [recentId],
      );
    });
    await db.sql`delete from net._http_response where id = ${recentId}`;
  });

  test('a pg_net.ttl setting replaces the 6-hour default, as in pg_net', BOUNDED, async () => {
    const [oldId, recentId] = [`-${Date.now() + 2}`, `-${Date.now() + 3}`];
    const name = new URL(db.url).pathname.slice(1);
    await db.sql.unsafe(`alter database ${name} set pg_net.ttl = '1 hour'`);
    try {
      await db.sql`
        insert into net._http_response (id, status_code, created)
        values (${oldId}, 200, now() - interval '61 minutes'), (${recentId}, 200, now() - interval '59 minutes')`;
      await withWorker({}, async () => {
        const rows = await db.sql`select id::text from net._http_response where id in (${oldId}, ${recentId})`;
        assert.deepEqual(
          rows.map((r) => r.id),
          [recentId],
        );
      });
    } finally {
      await db.sql.unsafe(`alter database ${name} reset pg_net.ttl`);
      await db.sql`delete from net._http_response where id in (${oldId}, ${recentId})`;
    }
  });
});

// Section: end to end through pg_cron in the shared database

describe('pg_cron → net.http_post → worker → target', () => {
  test('a scheduled job reaches the target when run as pg_cron runs it and on a real tick', { timeout: 120_000 }, async () => {
    const m = marker();
    const jobName = `pgnet-e2e-${m}`;
    const path = `/cron/${m}`;
    const sql = postgres(DB_URL, { max: 2, onnotice: () => {} });
    const target = await Target.start();
    const worker = await startPgNetWorker({ dbUrl: DB_URL, pollIntervalMs: 200, log: () => {} });
    let jobId: string | null = null;
    try {
      const command = `select net.http_post(url := '${target.url}${path}', body := '{"from":"cron"}')`;
      const [scheduled] = await sql`select cron.schedule(${jobName}, '* * * * *', ${command}) as jobid`;
      jobId = String(scheduled!.jobid);

      // What pg_cron does on a tick: its own connection to the job's database as the job's user,
      // the stored command as one simple-protocol statement in its own transaction.
      const [job] =
        await sql`select command, database, username, current_database() as db, current_user as me from cron.job where jobid = ${jobId}`;
      assert.equal(job!.database, job!.db);
      assert.equal(job!.username, job!.me);
      const runner = postgres(DB_URL, { max: 1, onnotice: () => {} });
      try {
        await runner.unsafe(job!.command).simple();
      } finally {
        await runner.end();
      }

      await waitFor('the manual run to reach the target', 10_000, () => target.at(path).length >= 1);
      const [arrival] = target.at(path);
      assert.equal(arrival!.method, 'POST');
      assert.equal(arrival!.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(arrival!.body.toString('utf8')), { from: 'cron' });
      const responses = () => sql`select status_code, content from net._http_response where content like ${`%${path}%`}`;
      await waitFor('the manual run response row', 10_000, async () => (await responses()).length >= 1);

      // pg_cron 1.4 ticks once a minute: wait for one real run.
      await waitFor('a pg_cron tick to run the job and reach the target', 70_000, async () => {
        if (target.at(path).length < 2) return false;
        const [runs] = await sql`select count(*)::int as n from cron.job_run_details where jobid = ${jobId} and status = 'succeeded'`;
        return runs!.n >= 1;
      });
      await waitFor('the tick response row', 10_000, async () => (await responses()).length >= 2);
      for (const r of await responses()) {
        assert.equal(r.status_code, 200);
        assert.deepEqual(JSON.parse(r.content), { path, ack: true });
      }
    } finally {
      if (jobId !== null) {
        await sql`select cron.unschedule(${jobName})`;
        await sql`delete from cron.job_run_details where jobid = ${jobId}`;
      }
      await worker.stop();
      await sql`delete from net.http_request_queue where url like ${`%${path}%`}`;
      await sql`delete from net._http_response where content like ${`%${path}%`}`;
      await target.close();
      await sql.end();
    }
  });
});
