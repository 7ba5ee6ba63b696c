// Server-side request forgery through member-given URLs (a schedule's thumbnail_url): the address
// check (IPv4 and IPv6 ranges that are not public, names resolved first, every redirect checked
// again, bounded) is tested with an injected resolver and fetch, so no request leaves for an
// address the code must refuse; the worker end to end only ever reaches the fakes on 127.0.0.1,
// whose redirect to another origin on this machine must be refused before it is sent, and the
// member-facing outcome must not say what was there.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { isPublicAddress, parseIPv6 } from '../../supabase/functions/_shared/platform/outbound/public-address.ts';
import {
  checkDestination,
  DestinationRefusedError,
  fetchPublic,
  type Resolver,
} from '../../supabase/functions/_shared/platform/outbound/public-fetch.ts';
import {
  fetchThumbnail,
  THUMBNAIL_UNREACHABLE,
  thumbnailProblem,
  ThumbnailUnusableError,
} from '../../supabase/functions/schedules/thumbnail.ts';
import {
  createSchedule,
  driveUntil,
  eventsOf,
  makeDue,
  scheduleBody,
  studio,
  withUploadQuota,
  workerStepLinesNaming,
} from './helpers/schedules.ts';
import { addFault, clearFaults, fakeRequests, fakesUrl } from './helpers/youtube.ts';
import { withDb } from './helpers/users.ts';

const NOT_PUBLIC = [
  '0.0.0.0',
  '0.1.2.3',
  '10.0.0.1',
  '10.255.255.255',
  '100.64.0.1',
  '100.127.255.254',
  '127.0.0.1',
  '127.1.2.3',
  '169.254.169.254',
  '169.254.0.1',
  '172.16.0.1',
  '172.31.255.255',
  '192.0.0.8',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.1.1',
  '198.18.0.1',
  '198.19.255.255',
  '198.51.100.7',
  '203.0.113.9',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  '::',
  '::1',
  '[::1]',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:10.0.0.1',
  '::ffff:169.254.169.254',
  '::127.0.0.1',
  '64:ff9b::10.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b:1::1',
  '100::1',
  'fc00::1',
  'fd12:3456::1',
  'fe80::1',
  'febf::1',
  'fec0::1',
  'ff02::1',
  'ff05::1:3',
  '2001::1',
  '2001:0:4136:e378::1',
  '2001:db8::1',
  '2002:7f00:1::1',
  '3fff::1',
  'fe80::1%eth0',
  'not an address',
  '',
  '1.2.3',
  '1.2.3.256',
  '1::2::3',
  '12345::1',
];
const PUBLIC = [
  '1.1.1.1',
  '8.8.8.8',
  '93.184.215.14',
  '100.63.255.255',
  '100.128.0.1',
  '172.15.255.255',
  '172.32.0.1',
  '192.167.255.255',
  '192.169.0.1',
  '198.17.255.255',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '2a00:1450:4001:82b::200e',
  '[2001:4860:4860::8888]',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2001:200::1',
];

Deno.test('address check: loopback, private, link-local, CGNAT, multicast, reserved and their IPv6 forms are not public', () => {
  for (const a of NOT_PUBLIC) assertEquals(isPublicAddress(a), false, a);
  for (const a of PUBLIC) assertEquals(isPublicAddress(a), true, a);
  assertEquals(parseIPv6('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  assertEquals(parseIPv6('2001:db8::8:800:200c:417a'), [0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
});

/** A resolver from a table, recording what was asked; unknown names do not resolve. */
function resolverOf(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = (host: string) => {
    asked.push(host);
    return Promise.resolve(table[host] ?? []);
  };
  return Object.assign(resolve, { asked });
}

async function refusal(p: Promise<unknown>): Promise<DestinationRefusedError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DestinationRefusedError) return err;
    throw err;
  }
  throw new Error('expected the destination to be refused');
}

Deno.test('address check after DNS: every resolved address must be public; schemes, ports, credentials, localhost refused', async () => {
  const dns = resolverOf({
    'cdn.example': ['93.184.215.14', '2606:4700::6810:84e5'],
    'internal.example': ['10.0.0.7'],
    'mixed.example': ['93.184.215.14', '127.0.0.1'],
    'metadata.example': ['fd00:ec2::254'],
    'mapped.example': ['::ffff:169.254.169.254'],
  });
  await checkDestination(new URL('https://cdn.example/t.png'), dns);
  await checkDestination(new URL('http://cdn.example:80/t.png'), dns);
  await checkDestination(new URL('https://8.8.8.8/t.png'), dns);
  for (const url of [
    'http://internal.example/',
    'https://mixed.example/',
    'https://metadata.example/',
    'https://mapped.example/',
    'https://nowhere.example/',
  ]) {
    await refusal(checkDestination(new URL(url), dns));
  }
  assertEquals(dns.asked.includes('nowhere.example'), true);
  const before = dns.asked.length;
  for (const url of [
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://169.254.169.254/latest/meta-data/',
    'https://cdn.example:8443/t.png',
    'http://cdn.example:22/',
    'ftp://cdn.example/t.png',
    'file:///etc/passwd',
    'https://user:pw@cdn.example/t.png',
    'http://localhost/',
    'http://db.localhost/',
  ]) {
    await refusal(checkDestination(new URL(url), dns));
  }
  assertEquals(dns.asked.length, before, 'literals, ports and schemes are refused without asking DNS');

  // Trusted origins (only the local stack sets any) skip the check, for exactly that origin.
  await checkDestination(new URL('https://127.0.0.1:54333/revid/t.png'), dns, ['https://127.0.0.1:54333']);
  await refusal(checkDestination(new URL('https://127.0.0.1:54334/'), dns, ['https://127.0.0.1:54333']));
  await refusal(checkDestination(new URL('http://127.0.0.1:54333/'), dns, ['https://127.0.0.1:54333']));
});

/** A fetch that answers from a table and records every URL it was given; nothing leaves. */
function fetchOf(answers: Record<string, () => Response>): typeof fetch & { sent: string[] } {
  const sent: string[] = [];
  const f = (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    sent.push(url);
    assertEquals(init?.redirect, 'manual', 'redirects are never followed by fetch itself');
    const answer = answers[url];
    return Promise.resolve(answer ? answer() : new Response('not found', { status: 404 }));
  };
  return Object.assign(f, { sent }) as typeof fetch & { sent: string[] };
}

const redirect =
  (to: string, status = 302) =>
  () =>
    new Response(null, { status, headers: { location: to } });

Deno.test('redirects are followed by hand, each location checked before it is sent, at most 5', async () => {
  const dns = resolverOf({ 'a.example': ['93.184.215.14'], 'b.example': ['2606:4700::1'], 'rebind.example': ['192.168.0.10'] });
  const png = () => new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), { status: 200 });

  const ok = fetchOf({
    'https://a.example/t': redirect('/moved', 301),
    'https://a.example/moved': redirect('https://b.example/t.png', 308),
    'https://b.example/t.png': png,
  });
  const res = await fetchPublic('https://a.example/t', { resolve: dns, fetch: ok });
  assertEquals(res.status, 200);
  await res.body?.cancel();
  assertEquals(ok.sent, ['https://a.example/t', 'https://a.example/moved', 'https://b.example/t.png']);

  // A public page that redirects inward: the inner address is never sent a request.
  for (const inward of [
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:8080/',
    'https://rebind.example/',
    'http://localhost:5432/',
    'gopher://a.example/',
  ]) {
    const f = fetchOf({ 'https://a.example/t': redirect(inward) });
    await refusal(fetchPublic('https://a.example/t', { resolve: dns, fetch: f }));
    assertEquals(f.sent, ['https://a.example/t'], inward);
  }

  // A loop is cut after 5 redirects (6 requests).
  const loop = fetchOf({ 'https://a.example/t': redirect('https://a.example/t') });
  const cut = await refusal(fetchPublic('https://a.example/t', { resolve: dns, fetch: loop }));
  assertMatch(cut.reason, /more than 5 redirects/);
  assertEquals(loop.sent.length, 6);

  // A first URL that is not public is never sent either.
  const none = fetchOf({});
  await refusal(fetchPublic('http://10.1.2.3/t.png', { resolve: dns, fetch: none }));
  assertEquals(none.sent, []);
});

Deno.test('a thumbnail that is refused says only that it cannot be used, whatever was behind it', async () => {
  const dns = resolverOf({ 'a.example': ['93.184.215.14'] });
  for (const url of ['http://127.0.0.1:5432/', 'http://10.0.0.1/admin', 'https://a.example/to-metadata']) {
    const f = fetchOf({ 'https://a.example/to-metadata': redirect('http://169.254.169.254/latest/meta-data/') });
    let caught: unknown;
    try {
      await fetchThumbnail(url, { resolve: dns, fetch: f });
    } catch (err) {
      caught = err;
    }
    assertOk(caught instanceof ThumbnailUnusableError, `${url}: ${caught}`);
    assertEquals((caught as Error).message, THUMBNAIL_UNREACHABLE);
    // Operators read why, in the worker's line for the invocation (schedules/step-log.ts).
    assertMatch(thumbnailProblem(caught), /^the thumbnail URL could not be fetched.* \(refused: .+\)$/);
    assertOk(!f.sent.some((u) => !u.startsWith('https://a.example/')), `${url}: sent ${f.sent}`);
  }
});

Deno.test('schedules refuse thumbnail URLs that can be refused without DNS (400), and accept public ones', async () => {
  const s = await studio('ssrf-api');
  for (const url of [
    'http://169.254.169.254/latest/meta-data/iam',
    'http://127.0.0.1:5432/',
    'http://[::1]/',
    'https://cdn.example.com:8443/t.png',
    'http://localhost/t.png',
    'https://u:p@cdn.example.com/t.png',
  ]) {
    const res = await s.user.call('schedules', { method: 'POST', body: scheduleBody(s, { thumbnail_url: url }) });
    assertEquals(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
    assertEquals(res.body.error.details?.[0]?.path, 'thumbnail_url', JSON.stringify(res.body));
  }
  const made = await createSchedule(s, { thumbnail_url: 'https://cdn.example.com/t.png' });
  const patched = await s.user.call(`schedules/${made.id}`, {
    method: 'PATCH',
    body: { thumbnail_url: 'http://10.0.0.1/t.png', version: made.version },
  });
  assertEquals(patched.status, 400, JSON.stringify(patched.body));
});

Deno.test(
  'the upload worker does not follow a thumbnail redirect to another origin on this machine, and members see no trace of it',
  async () => {
    await withUploadQuota(async () => {
      const s = await studio('ssrf-worker');
      // The fakes' origin is the one trusted origin of the local stack (it stands in for RevID's
      // CDN); a redirect from there to another origin on 127.0.0.1 (here the fakes again, named
      // localhost) is what a member could use to reach internal services.
      const probe = `/echo/ssrf-probe-${crypto.randomUUID()}`;
      const port = new URL(fakesUrl()).port;
      const path = `/echo/thumb-${crypto.randomUUID()}`;
      await addFault({ match: { pathPrefix: path }, status: 302, body: '', headers: { location: `https://localhost:${port}${probe}` } });
      const since = new Date();
      try {
        const made = await createSchedule(s, { strategy: 'upload_at_time', thumbnail_url: `${fakesUrl()}${path}` });
        await makeDue(made.id);
        const done = await driveUntil(made.id, ['published', 'failed', 'canceled'], 90_000);
        assertEquals(done.status, 'published', JSON.stringify(done));
        assertEquals(done.thumbnail_status, 'failed');
        assertEquals((await fakeRequests(since, probe)).length, 0, 'nothing was sent to the redirect target');
        const failed = (await eventsOf(made.id)).filter((e) => e.event === 'thumbnail_failed');
        assertEquals(failed.length, 1);
        // One sentence, the same for every URL that cannot be used: not what answered, not where.
        assertEquals(failed[0].details, { error: 'ThumbnailUnusableError', message: THUMBNAIL_UNREACHABLE });
        const [schedule] = await withDb((sql) => sql`select last_error from public.upload_schedules where id = ${made.id}`);
        assertOk(!String(schedule.last_error ?? '').includes('localhost'), String(schedule.last_error));
        // Operators read why, in the worker's one line for the invocation that gave it up.
        const notes = (await workerStepLinesNaming(made.id)).flatMap((l) =>
          (l.attention as { schedule_id: string; note?: string }[]).filter((a) => a.schedule_id === made.id && a.note),
        );
        assertEquals(notes.length, 1, JSON.stringify(notes));
        assertMatch(notes[0].note!, /^thumbnail given up: .* \(refused: .+\)$/);
      } finally {
        await clearFaults();
      }
    });
  },
);
