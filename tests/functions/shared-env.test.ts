import { assertEquals, assertMatch } from './assert.ts';
import { databaseUrl } from '../../supabase/functions/_shared/platform/db.ts';
import { EnvError, parseEnv } from '../../supabase/functions/_shared/platform/env.ts';

const base = {
  SUPABASE_URL: 'http://127.0.0.1:54321',
  SUPABASE_ANON_KEY: 'a'.repeat(40),
  SUPABASE_SERVICE_ROLE_KEY: 's'.repeat(40),
  SUPABASE_DB_URL: 'postgresql://postgres:postgres@127.0.0.1:54322/postgres',
};

Deno.test('defaults point at the real services and flags parse', () => {
  const env = parseEnv({ ...base, ENABLE_RATE_LIMITING: 'false', MAX_API_REQUESTS_PER_MINUTE: '7' });
  assertEquals(env.YOUTUBE_API_BASE, 'https://www.googleapis.com');
  assertEquals(env.GEMINI_API_BASE, 'https://generativelanguage.googleapis.com');
  assertEquals(env.ENABLE_RATE_LIMITING, false);
  assertEquals(env.ENABLE_ANALYTICS, true);
  assertEquals(env.MAX_API_REQUESTS_PER_MINUTE, 7);
  assertEquals(env.MAX_VIDEO_GENERATIONS_PER_USER, 50);
});

Deno.test('a missing or malformed variable is named, and its value is never echoed', () => {
  const secretish = 'not-a-url-but-secret-value';
  try {
    parseEnv({ ...base, SUPABASE_DB_URL: undefined, SUPABASE_URL: secretish, ENABLE_ANALYTICS: 'maybe' });
    throw new Error('expected EnvError');
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    assertMatch(err.message, /SUPABASE_DB_URL/);
    assertMatch(err.message, /SUPABASE_URL/);
    assertMatch(err.message, /ENABLE_ANALYTICS/);
    assertEquals(err.message.includes(secretish), false);
  }
});

Deno.test('functions use DATABASE_POOLER_URL when it is set, SUPABASE_DB_URL otherwise; a bad one is named', () => {
  const pooler = 'postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres';
  assertEquals(databaseUrl(parseEnv(base)), base.SUPABASE_DB_URL);
  assertEquals(databaseUrl(parseEnv({ ...base, DATABASE_POOLER_URL: pooler })), pooler);
  try {
    parseEnv({ ...base, DATABASE_POOLER_URL: 'https://pooler.example' });
    throw new Error('expected EnvError');
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    assertMatch(err.message, /DATABASE_POOLER_URL: must be a postgres:\/\/ URL/);
  }
});

Deno.test('the new API keys and the JWKS are read as hosted gives them: JSON, named when malformed, never echoed', () => {
  const secret = `sb_secret_${'k'.repeat(31)}`;
  const modern = {
    SUPABASE_URL: base.SUPABASE_URL,
    SUPABASE_DB_URL: base.SUPABASE_DB_URL,
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: `sb_publishable_${'p'.repeat(31)}` }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: secret, workers: `sb_secret_${'w'.repeat(31)}` }),
    SUPABASE_JWKS: JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] }),
  };
  const env = parseEnv(modern);
  assertEquals(Object.keys(env.SUPABASE_SECRET_KEYS ?? {}), ['default', 'workers']);
  assertEquals(env.SUPABASE_JWKS?.keys.length, 1);
  assertEquals(env.SUPABASE_SERVICE_ROLE_KEY, undefined, 'a project without legacy keys is fine');

  for (const [name, bad] of [
    ['SUPABASE_SECRET_KEYS', secret],
    ['SUPABASE_PUBLISHABLE_KEYS', JSON.stringify({ default: secret })],
    ['SUPABASE_JWKS', '{"keys": 1}'],
  ]) {
    try {
      parseEnv({ ...modern, [name]: bad });
      throw new Error(`expected EnvError for ${name}`);
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      assertMatch(err.message, new RegExp(name));
      assertEquals(err.message.includes(secret), false);
    }
  }
  try {
    parseEnv({ SUPABASE_URL: base.SUPABASE_URL, SUPABASE_DB_URL: base.SUPABASE_DB_URL, SUPABASE_ANON_KEY: base.SUPABASE_ANON_KEY });
    throw new Error('expected EnvError without any service key');
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    assertMatch(err.message, /SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY is required/);
  }
});
