// Real or fake is decided from base URLs alone: a service whose base URL is on the fakes' origin
// is a fake, anything else (the default hosts, or a stand-in elsewhere) is the real service.
import { assertEquals } from './assert.ts';
import { backendOf, backends, REAL_BASES } from '../../supabase/functions/_shared/integrations.ts';
import { parseEnv } from '../../supabase/functions/_shared/env.ts';

const FAKES = 'https://127.0.0.1:55333';
const required = { SUPABASE_URL: 'http://127.0.0.1:1', SUPABASE_ANON_KEY: 'a'.repeat(20), SUPABASE_SERVICE_ROLE_KEY: 's'.repeat(20), SUPABASE_DB_URL: 'postgres://x@127.0.0.1/db' };

Deno.test('unset base URLs are the real hosts; a base on the fakes origin is a fake, another port is not', () => {
  const e = parseEnv({ ...required, GEMINI_API_BASE: `${FAKES}/gemini`, REVID_API_BASE: 'https://127.0.0.1:18099/revid', API_FAKES_ORIGIN: FAKES });
  assertEquals(e.YOUTUBE_API_BASE, REAL_BASES.YOUTUBE_API_BASE);
  assertEquals(e.API_FAKES_ORIGIN, [FAKES]);
  assertEquals(backends(e, e.API_FAKES_ORIGIN), { youtube: 'real', gemini: 'fake', revid: 'real' });
  assertEquals(backends(e, []), { youtube: 'real', gemini: 'real', revid: 'real' });
  assertEquals(backendOf(['not a url'], [FAKES]), 'real');
  assertEquals(backendOf([`${FAKES}/youtube`, 'https://www.googleapis.com'], [`${FAKES}/`]), 'fake');
});
