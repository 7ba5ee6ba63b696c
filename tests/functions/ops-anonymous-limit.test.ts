// Anonymous calls are limited per client address: the 101st in a minute from one address is
// refused with 429 and Retry-After while another address is served; the address is the last
// X-Forwarded-For entry (the one the platform's gateway appends), so what a caller writes into
// the header cannot move its calls to another counter; an IPv6 client counts per /64.
import { assertEquals, assertOk } from './assert.ts';
import { clientAddress } from '../../supabase/functions/_shared/platform/anonymous-limit.ts';

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

async function callsFrom(forwardedFor: string[]): Promise<{ status: number; retry_after: string | null; code: string | null }[]> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ['run', '-A', '--config', new URL('../../supabase/functions/deno.json', import.meta.url).pathname,
      new URL('./helpers/anonymous-limit-calls.ts', import.meta.url).pathname, JSON.stringify(forwardedFor)],
    env: { ...Deno.env.toObject(), MAX_ANONYMOUS_REQUESTS_PER_MINUTE: String(LIMIT), ENABLE_RATE_LIMITING: 'true', TRUSTED_PROXY_HOPS: '0' },
    stdout: 'piped',
    stderr: 'inherit',
  });
  const { code, stdout } = await command.output();
  assertEquals(code, 0, 'the limited process ran');
  return JSON.parse(new TextDecoder().decode(stdout).trim().split('\n').at(-1)!);
}

Deno.test('the 101st anonymous call a minute from one address is 429 with Retry-After; another address is served', async () => {
  const hex = () => Math.floor(Math.random() * 0xffff).toString(16);
  const block = `2001:db8:${hex()}:${hex()}`;
  const other = `2001:db8:${hex()}:${hex()}::1`;
  // Each call claims another origin in front; the gateway's entry (last) is the same client.
  const flood = Array.from({ length: LIMIT + 1 }, (_, i) => `203.0.113.${i % 250}, ${block}::1`);
  const answers = await callsFrom([...flood, other, `${block}::beef`, `${other}, ${block}::2`]);
  assertEquals(answers.slice(0, LIMIT).map((a) => a.status), Array(LIMIT).fill(200), 'the first 100 are served');
  const refused = answers[LIMIT];
  assertEquals([refused.status, refused.code], [429, 'rate_limited'], 'the 101st is refused');
  assertOk(Number(refused.retry_after) >= 1 && Number(refused.retry_after) <= 60, `Retry-After ${refused.retry_after}`);
  assertEquals(answers[LIMIT + 1].status, 200, 'another client is served meanwhile');
  assertEquals(answers[LIMIT + 2].status, 429, 'another address of the same IPv6 /64 is the same client');
  assertEquals(answers[LIMIT + 3].status, 429, 'naming the served client in the header does not help');
});
