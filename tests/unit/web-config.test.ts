import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadRuntimeConfig, parseRuntimeConfig } from '../../web/src/lib/config.ts';

test('a valid config is normalised (no trailing slash, trimmed key)', () => {
  assert.deepEqual(parseRuntimeConfig({ supabaseUrl: 'https://abc.supabase.co/', supabaseAnonKey: ' key.part.sig ' }), {
    supabaseUrl: 'https://abc.supabase.co',
    supabaseAnonKey: 'key.part.sig',
  });
  assert.equal(parseRuntimeConfig({ supabaseUrl: 'http://127.0.0.1:54321', supabaseAnonKey: 'k' }).supabaseUrl, 'http://127.0.0.1:54321');
});

test('bad configs are refused with a message that names the problem', () => {
  assert.throws(
    () => parseRuntimeConfig(null),
    (e: unknown) => e instanceof ConfigError && /supabaseUrl and supabaseAnonKey/.test(e.message),
  );
  assert.throws(() => parseRuntimeConfig({ supabaseUrl: 'https://x.co' }), /supabaseAnonKey/);
  assert.throws(() => parseRuntimeConfig({ supabaseUrl: 'not a url', supabaseAnonKey: 'k' }), /not a URL/);
  assert.throws(() => parseRuntimeConfig({ supabaseUrl: 'ftp://x.co', supabaseAnonKey: 'k' }), /http or https/);
  assert.throws(() => parseRuntimeConfig({ supabaseUrl: 'https://x.co?a=1', supabaseAnonKey: 'k' }), /query/);
  assert.throws(() => parseRuntimeConfig({ supabaseUrl: 'https://x.co', supabaseAnonKey: '  ' }), /empty/);
});

test('loadRuntimeConfig fetches /config.json without caching and reports failures', async () => {
  const seen: { url: string; init?: RequestInit }[] = [];
  const ok: typeof fetch = async (url, init) => {
    seen.push({ url: String(url), init });
    return new Response(JSON.stringify({ supabaseUrl: 'https://a.supabase.co', supabaseAnonKey: 'anon' }), { status: 200 });
  };
  assert.deepEqual(await loadRuntimeConfig(ok), { supabaseUrl: 'https://a.supabase.co', supabaseAnonKey: 'anon' });
  assert.equal(seen[0]!.url, '/config.json');
  assert.equal(seen[0]!.init?.cache, 'no-store');

  await assert.rejects(
    loadRuntimeConfig(async () => new Response('nope', { status: 404 })),
    /HTTP 404/,
  );
  await assert.rejects(
    loadRuntimeConfig(async () => new Response('<html>', { status: 200 })),
    /not valid JSON/,
  );
  await assert.rejects(
    loadRuntimeConfig(async () => {
      throw new TypeError('fetch failed');
    }),
    /did not answer/,
  );
});
