// The long-lived local processes that own a postgres.js pool (the auth emulator, the pg_net
// worker) must live through a connection reset at any point, as a Postgres restart causes.
// postgres.js 3.4 sends its array-type lookup on every new connection from its socket handler and
// awaits it nowhere: a reset during that query rejected a promise nobody handled, which ends a
// Node process. Each pool here talks through a proxy that resets the first connection at its
// first query and any connection at the array-type lookup; no rejection may go unhandled.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { openAuthDatabase } from '../../local/auth/database.ts';
import { findToken } from '../../local/auth/one-time-tokens.ts';
import { startPgNetWorker } from '../../local/pgnet/worker.ts';

const DB_URL = process.env.SUPABASE_DB_URL;
if (!DB_URL) throw new Error('SUPABASE_DB_URL is required (the pools connect to the database)');

const BOUNDED = { timeout: 45_000 };
const PG_NET_SQL = new URL('../../local/platform/30-pg-net.sql', import.meta.url);
const SSL_REQUEST_CODE = 80877103;

interface ResettingProxy {
  url: string;
  /** The first query of each reset connection (what was cut off). */
  resetAt: string[];
  close(): Promise<void>;
}

/**
 * Reads the client's side of one connection: the untyped start-up messages, then typed messages
 * (type byte, length); calls `onQuery` with the text of the first Parse or simple Query.
 */
function firstQueryReader(onQuery: (text: string) => void): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  let startedUp = false;
  let done = false;
  return (chunk) => {
    if (done) return;
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (!startedUp) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        startedUp = buffered.readInt32BE(4) !== SSL_REQUEST_CODE;
        buffered = buffered.subarray(length);
        continue;
      }
      if (buffered.length < 5) return;
      const length = buffered.readInt32BE(1);
      if (buffered.length < 1 + length) return;
      const type = String.fromCharCode(buffered[0]!);
      if (type === 'P' || type === 'Q') {
        done = true;
        // Parse: statement name (NUL-terminated), then the query text; Query: the text.
        const body = buffered.subarray(5, 1 + length);
        const text = type === 'P' ? body.subarray(body.indexOf(0) + 1) : body;
        onQuery(text.subarray(0, text.indexOf(0)).toString('utf8'));
        return;
      }
      buffered = buffered.subarray(1 + length);
    }
  };
}

async function startResettingProxy(target: string): Promise<ResettingProxy> {
  const to = new URL(target);
  const resetAt: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    const index = connections++;
    const upstream = net.connect(Number(to.port), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    const read = firstQueryReader((text) => {
      if (index > 0 && !/\btyparray\b/.test(text)) return;
      resetAt.push(text);
      client.resetAndDestroy();
      upstream.destroy();
    });
    client.on('data', (chunk: Buffer) => {
      read(chunk);
      if (!client.destroyed) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.destroyed || client.write(chunk));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    resetAt,
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const unhandled: unknown[] = [];
const collect = (reason: unknown) => unhandled.push(reason);
before(() => process.on('unhandledRejection', collect));
after(() => process.off('unhandledRejection', collect));

/**
 * `promise`, or a failure after `ms`: before the fix a pool could also lose the query queued
 * behind the cut-off lookup, and a test waiting for it forever would hold the whole suite.
 */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Lets rejections nobody handled surface (Node reports them after the microtask queue drains). */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

describe('a connection reset during a new connection’s first query', () => {
  it('the auth emulator’s pool leaves no rejection unhandled and answers on its next connection', BOUNDED, async () => {
    const proxy = await startResettingProxy(DB_URL);
    const sql = openAuthDatabase(proxy.url);
    try {
      unhandled.length = 0;
      await within(
        10_000,
        sql`select 1 as one`.catch(() => null),
        'the query on the reset connection',
      );
      // A list parameter, bound without the array types postgres.js no longer looks up.
      const found = await within(
        10_000,
        sql.begin((tx) => findToken(tx, 'no-such-token', ['recovery_token', 'confirmation_token'], 3600)),
        'a query on the next connection',
      );
      assert.equal(found, null);
      await settle();
      assert.equal(proxy.resetAt.length, 1, `resets: ${JSON.stringify(proxy.resetAt)}`);
      assert.deepEqual(unhandled.map(String), []);
    } finally {
      await proxy.close();
      await within(5_000, sql.end({ timeout: 1 }), 'closing the pool');
    }
  });

  it('the pg_net worker’s pool and LISTEN connection leave no rejection unhandled and keep working', BOUNDED, async () => {
    // Its own database with pg_net's queue: the stack's worker serves the stack's queue.
    const name = `pool_reset_${randomBytes(6).toString('hex')}`;
    const admin = postgres(DB_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const scratch = new URL(DB_URL);
    scratch.pathname = `/${name}`;
    const setup = postgres(scratch.toString(), { max: 1, onnotice: () => {} });
    const proxy = await startResettingProxy(scratch.toString());
    try {
      await setup.unsafe(readFileSync(PG_NET_SQL, 'utf8'));
      unhandled.length = 0;
      const worker = await startPgNetWorker({ dbUrl: proxy.url, pollIntervalMs: 50, log: () => {} });
      try {
        await within(10_000, worker.idle(), 'the worker draining its queue');
        await settle();
      } finally {
        await proxy.close();
        // The worker gives its pools up to 5 s to finish (sql.end({ timeout: 5 })) after its tick
        // and claims settle: a bound of 5 s failed once under load in CI.
        await within(15_000, worker.stop(), 'stopping the worker');
      }
      assert.ok(proxy.resetAt.length >= 1, 'the first connection was reset');
      assert.deepEqual(unhandled.map(String), []);
    } finally {
      await setup.end();
      await proxy.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
