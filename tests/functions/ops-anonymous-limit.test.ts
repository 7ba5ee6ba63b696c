// Anonymous calls are limited per client address: the 101st in a minute from one address is
// refused with 429 and Retry-After while another address is served; the address is the last
// X-Forwarded-For entry (the one the platform's gateway appends), so what a caller writes into
// the header cannot move its calls to another counter; an IPv6 client counts per /64. Calls are
// counted in the instance's memory and added to the shared count every tenth of the limit, so
// across k instances at most limit + k × (limit / 10 − 1) calls of one client are admitted.
import { assertEquals, assertOk } from './assert.ts';
import { clientAddress, clientNetwork } from '../../supabase/functions/_shared/platform/anonymous-limit.ts';
import { AnonymousWindows, MAX_CLIENTS } from '../../supabase/functions/_shared/platform/anonymous-windows.ts';
import { helperResult } from './helpers/process.ts';

const LIMIT = 100;

function req(xff?: string): Request {
  return new Request('http://local/x', { headers: xff === undefined ? {} : { 'x-forwarded-for': xff } });
}

Deno.test('the client address is the last X-Forwarded-For entry, never one the caller wrote', () => {
  assertEquals(clientAddress(req('198.51.100.7')), '198.51.100.7');
  assertEquals(clientAddress(req('203.0.113.1, 10.0.0.1, 198.51.100.7')), '198.51.100.7');
  assertEquals(clientAddress(req('198.51.100.7:4711')), '198.51.100.7');
  assertEquals(clientAddress(req('[2001:DB8::1]:443')), '2001:db8::1');
  assertEquals(clientAddress(req('203.0.113.1, 198.51.100.7'), 1), '203.0.113.1', 'TRUSTED_PROXY_HOPS skips appended entries');
  assertEquals(clientAddress(req()), null);
  assertEquals(clientAddress(req('198.51.100.7, not-an-address')), null);
  assertEquals(clientAddress(req('999.1.1.1')), null);
  assertEquals(clientAddress(req('198.51.100.7'), 1), null, 'fewer entries than hops');
});

Deno.test('a client is its IPv4 address or its IPv6 /64; an IPv4-mapped address is the IPv4 one', () => {
  assertEquals(clientNetwork('198.51.100.7'), '198.51.100.7/32');
  assertEquals(clientNetwork('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assertEquals(clientNetwork('2001:db8:1:2::beef'), '2001:db8:1:2::/64');
  assertEquals(clientNetwork('2001:db8::1'), '2001:db8:0:0::/64');
  assertEquals(clientNetwork('::ffff:198.51.100.7'), '198.51.100.7/32');
  assertEquals(clientNetwork('64:ff9b::198.51.100.7'), '64:ff9b:0:0::/64');
  assertEquals(clientNetwork('::'), '0:0:0:0::/64');
  for (const bad of ['2001:db8::1::2', '2001:db8:1:2:3:4:5:6:7', '2001:db8:12345::1', '2001:db8::g', '::ffff:999.1.1.1', '1:2:3:4:5:6:7']) {
    assertEquals(clientNetwork(bad), null, bad);
    assertEquals(clientAddress(req(bad)), null, bad);
  }
});

/** k instances over one shared count (the database's, in memory), serving calls in turn. */
function instances(k: number, limit: number) {
  const shared = new Map<string, number>();
  let asked = 0;
  const count = (client: string, windowStart: number, calls: number) => {
    asked++;
    const key = `${client}@${windowStart}`;
    shared.set(key, (shared.get(key) ?? 0) + calls);
    return Promise.resolve(shared.get(key)!);
  };
  return { all: Array.from({ length: k }, () => new AnonymousWindows(limit, count)), asked: () => asked };
}

Deno.test('one instance admits exactly the limit, asking the shared count only every tenth of it', async () => {
  const {
    all: [one],
    asked,
  } = instances(1, 100);
  const at = Date.UTC(2026, 11, 7, 12, 0, 5);
  const verdicts = [];
  for (let i = 0; i < 150; i++) verdicts.push(await one.count('198.51.100.7/32', at));
  assertEquals(verdicts.filter((v) => !v.exceeded).length, 100);
  assertEquals(
    verdicts.findIndex((v) => v.exceeded),
    100,
    'the 101st is the first refused',
  );
  assertEquals(asked(), 10, 'ten upserts for 100 calls, none for the 50 refused');
  assertEquals((await one.count('198.51.100.7/32', at + 60_000)).exceeded, false, 'the next minute starts afresh');
  assertEquals((await one.count('198.51.100.8/32', at)).exceeded, false, 'another client is served');
});

Deno.test('k instances admit at most limit + k × (share − 1) calls of one client in a minute', async () => {
  for (const k of [2, 3, 7]) {
    const { all } = instances(k, 100);
    const at = Date.UTC(2026, 11, 7, 12, 0, 5);
    let admitted = 0;
    // Round robin (each instance's blind calls as late as possible), then everyone keeps trying.
    for (let i = 0; i < 600; i++) if (!(await all[i % k].count('198.51.100.9/32', at)).exceeded) admitted++;
    assertOk(admitted >= 100, `k=${k}: the limit itself is served (${admitted})`);
    assertOk(admitted <= 100 + k * (all[0].share - 1), `k=${k}: ${admitted} admitted`);
    for (const instance of all)
      assertEquals((await instance.count('198.51.100.9/32', at)).exceeded, true, `k=${k}: every instance refuses now`);
  }
});

Deno.test('without the shared count an instance still limits by its own count; memory stays bounded', async () => {
  let failures = 0;
  const alone = new AnonymousWindows(
    100,
    () => Promise.reject(new Error('database down')),
    () => failures++,
  );
  const at = Date.UTC(2026, 11, 7, 12, 0, 5);
  let admitted = 0;
  for (let i = 0; i < 120; i++) if (!(await alone.count('198.51.100.10/32', at)).exceeded) admitted++;
  assertEquals(admitted, 100);
  assertOk(failures > 0, 'the failures were reported');
  const many = new AnonymousWindows(100, () => Promise.resolve(1));
  for (let i = 0; i < MAX_CLIENTS + 500; i++) await many.count(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`, at);
  assertOk(many.size <= MAX_CLIENTS, `${many.size} clients tracked`);
});

async function callsFrom(forwardedFor: string[]): Promise<{ status: number; retry_after: string | null; code: string | null }[]> {
  return await helperResult(
    'anonymous-limit-calls.ts',
    [JSON.stringify(forwardedFor)],
    { MAX_ANONYMOUS_REQUESTS_PER_MINUTE: String(LIMIT), ENABLE_RATE_LIMITING: 'true', TRUSTED_PROXY_HOPS: '0' },
    'the limited process ran',
  );
}

Deno.test('the 101st anonymous call a minute from one address is 429 with Retry-After; another address is served', async () => {
  const hex = () => Math.floor(Math.random() * 0xffff).toString(16);
  const block = `2001:db8:${hex()}:${hex()}`;
  const other = `2001:db8:${hex()}:${hex()}::1`;
  // Each call claims another origin in front; the gateway's entry (last) is the same client.
  const flood = Array.from({ length: LIMIT + 1 }, (_, i) => `203.0.113.${i % 250}, ${block}::1`);
  const answers = await callsFrom([...flood, other, `${block}::beef`, `${other}, ${block}::2`]);
  assertEquals(
    answers.slice(0, LIMIT).map((a) => a.status),
    Array(LIMIT).fill(200),
    'the first 100 are served',
  );
  const refused = answers[LIMIT];
  assertEquals([refused.status, refused.code], [429, 'rate_limited'], 'the 101st is refused');
  assertOk(Number(refused.retry_after) >= 1 && Number(refused.retry_after) <= 60, `Retry-After ${refused.retry_after}`);
  assertEquals(answers[LIMIT + 1].status, 200, 'another client is served meanwhile');
  assertEquals(answers[LIMIT + 2].status, 429, 'another address of the same IPv6 /64 is the same client');
  assertEquals(answers[LIMIT + 3].status, 429, 'naming the served client in the header does not help');
});
