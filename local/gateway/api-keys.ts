// The `apikey` header as hosted Supabase's API gateway reads it: a publishable key is the anon
// role, a secret key the service_role, a legacy anon / service_role JWT (HS256, the project's JWT
// secret) its own role while the project still has the legacy keys. What hosted answers when a key
// does not pass, with status 401 and `{ message, hint }`:
// - an sb_ key the project does not have (never made, deleted, another project's):
//   "Unregistered API key";
// - a legacy key after the project disabled the legacy keys: "Legacy API keys are disabled";
// - any other value: "Invalid API key";
// - a secret key sent by a browser (hosted matches on User-Agent): 401 as well.
import { timingSafeEqual } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';

export type KeyRole = 'anon' | 'service_role';

export type KeyVerdict =
  { ok: true; role: KeyRole | null; kind: 'publishable' | 'secret' | 'legacy' | 'none' } | { ok: false; message: string; hint: string };

export interface ApiKeyOptions {
  publishableKeys?: string[];
  secretKeys?: string[];
  /** The legacy JWT secret while the project has the legacy keys; absent: they are disabled. */
  legacyJwtSecret?: string;
}

const UNREGISTERED = {
  ok: false,
  message: 'Unregistered API key',
  hint: 'Double check the provided API key as it is not registered for this project.',
} as const;
const INVALID = { ok: false, message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' } as const;
const LEGACY_DISABLED = {
  ok: false,
  message: 'Legacy API keys are disabled',
  hint: 'Your legacy API keys (anon, service_role) are disabled for this project. Use the publishable and secret API keys.',
} as const;
const SECRET_IN_BROWSER = {
  ok: false,
  message: 'Forbidden use of secret API key in browser',
  hint: 'Secret API keys can only be used in a protected environment and should never be used in a browser.',
} as const;

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const isBrowser = (userAgent: string | undefined) => userAgent !== undefined && /^Mozilla\//.test(userAgent);

export function createApiKeyCheck(opts: ApiKeyOptions) {
  const publishable = opts.publishableKeys ?? [];
  const secret = opts.secretKeys ?? [];
  const legacySecret = opts.legacyJwtSecret ? new TextEncoder().encode(opts.legacyJwtSecret) : null;

  async function legacy(apikey: string): Promise<KeyVerdict> {
    let looksLegacy: boolean;
    try {
      const role = decodeJwt(apikey).role;
      looksLegacy = role === 'anon' || role === 'service_role';
    } catch {
      return INVALID;
    }
    if (!legacySecret) return looksLegacy ? LEGACY_DISABLED : INVALID;
    try {
      const { payload } = await jwtVerify(apikey, legacySecret, { algorithms: ['HS256'] });
      if (payload.role === 'anon' || payload.role === 'service_role') return { ok: true, role: payload.role, kind: 'legacy' };
    } catch {
      // falls through: not one of this project's legacy keys
    }
    return INVALID;
  }

  return async (apikey: string | undefined, userAgent?: string): Promise<KeyVerdict> => {
    if (apikey === undefined || apikey === '') return { ok: true, role: null, kind: 'none' };
    if (apikey.startsWith('sb_publishable_')) {
      return publishable.some((k) => sameKey(k, apikey)) ? { ok: true, role: 'anon', kind: 'publishable' } : UNREGISTERED;
    }
    if (apikey.startsWith('sb_secret_')) {
      if (!secret.some((k) => sameKey(k, apikey))) return UNREGISTERED;
      return isBrowser(userAgent) ? SECRET_IN_BROWSER : { ok: true, role: 'service_role', kind: 'secret' };
    }
    if (apikey.startsWith('sb_')) return UNREGISTERED;
    return await legacy(apikey);
  };
}
