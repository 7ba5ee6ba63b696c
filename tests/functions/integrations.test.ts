// Real or fake is decided from base URLs alone: a service whose base URL is on the fakes' origin
// is a fake, anything else (the default hosts, or a stand-in elsewhere) is the real service.
import { assertEquals } from './assert.ts';
import { backendOf, backends, REAL_BASES } from '../../supabase/functions/_shared/integrations/backends.ts';
import { parseEnv } from '../../supabase/functions/_shared/platform/env.ts';
import { refusalWithoutDns } from '../../supabase/functions/_shared/platform/outbound/public-fetch.ts';

const FAKES = 'https://127.0.0.1:55333';
const required = {
  SUPABASE_URL: 'http://127.0.0.1:1',
  SUPABASE_ANON_KEY: 'a'.repeat(20),
  SUPABASE_SERVICE_ROLE_KEY: 's'.repeat(20),
  SUPABASE_DB_URL: 'postgres://x@127.0.0.1/db',
};

Deno.test('unset base URLs are the real hosts; a base on the fakes origin is a fake, another port is not', () => {
  const e = parseEnv({
    ...required,
    GEMINI_API_BASE: `${FAKES}/gemini`,
    REVID_API_BASE: 'https://127.0.0.1:18099/revid',
    API_FAKES_ORIGIN: FAKES,
  });
  assertEquals(e.YOUTUBE_API_BASE, REAL_BASES.YOUTUBE_API_BASE);
  assertEquals(e.API_FAKES_ORIGIN, [FAKES]);
  assertEquals(backends(e, e.API_FAKES_ORIGIN), { youtube: 'real', gemini: 'fake', revid: 'real' });
  assertEquals(backends(e, []), { youtube: 'real', gemini: 'real', revid: 'real' });
  assertEquals(backendOf(['not a url'], [FAKES]), 'real');
  assertEquals(backendOf([`${FAKES}/youtube`, 'https://www.googleapis.com'], [`${FAKES}/`]), 'fake');
});

Deno.test('the SSRF guard with the env npm start gives: real hosts go on to the address check, a loopback stand-in is let through', () => {
  // What local/stack/env.ts sets when REVID_API_BASE points at a stand-in on 127.0.0.1:18099.
  const e = parseEnv({ ...required, OUTBOUND_TRUSTED_ORIGINS: `${FAKES},https://127.0.0.1:18099` });
  assertEquals(refusalWithoutDns(new URL('https://www.revid.ai/media/thumb.png'), e.OUTBOUND_TRUSTED_ORIGINS), 'resolve');
  assertEquals(refusalWithoutDns(new URL('https://127.0.0.1:18099/revid/media/thumb.png'), e.OUTBOUND_TRUSTED_ORIGINS), 'trusted');
  // Any other loopback port stays refused.
  assertEquals(typeof refusalWithoutDns(new URL('https://127.0.0.1:18098/x.png'), e.OUTBOUND_TRUSTED_ORIGINS), 'object');
});
