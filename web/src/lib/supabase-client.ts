// The app's Supabase client: `auth` and `functions` only, wired exactly as supabase-js's
// createClient wires them (same endpoints, apikey/Authorization headers, session storage key),
// built from the two packages supabase-js is made of. The full supabase-js also bundles the
// PostgREST, Realtime and Storage clients, which the SPA never uses (it talks only to Auth and to
// edge functions); leaving them out halves the largest chunk and keeps the dashboard route inside
// its 100 KB gzip budget. Code written against `client.auth.*` / `client.functions.invoke` works
// unchanged with a supabase-js client.
import { AuthClient, type GoTrueClient, type SupportedStorage } from '@supabase/auth-js';
import { FunctionsClient } from '@supabase/functions-js';
import type { RuntimeConfig } from './config.ts';

export interface AppClient {
  auth: GoTrueClient;
  functions: FunctionsClient;
}

export interface AppClientOptions {
  fetch?: typeof fetch;
  /** Where the session is kept; the browser's localStorage when omitted. */
  storage?: SupportedStorage;
  autoRefreshToken?: boolean;
}

/** The localStorage key supabase-js uses for a project URL (so either client finds the session). */
export function authStorageKey(supabaseUrl: string): string {
  return `sb-${new URL(supabaseUrl).hostname.split('.')[0]}-auth-token`;
}

/** Adds what supabase-js adds to every function call: the anon key and the user's access token. */
export function fetchWithAuth(anonKey: string, accessToken: () => Promise<string | null>, baseFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('apikey')) headers.set('apikey', anonKey);
    if (!headers.has('Authorization')) headers.set('Authorization', `Bearer ${(await accessToken()) ?? anonKey}`);
    return baseFetch(input, { ...init, headers });
  };
}

export function createAppClient(config: RuntimeConfig, options: AppClientOptions = {}): AppClient {
  const base = new URL(config.supabaseUrl.endsWith('/') ? config.supabaseUrl : `${config.supabaseUrl}/`);
  const baseFetch: typeof fetch = options.fetch ?? ((...args) => fetch(...args));
  const auth = new AuthClient({
    url: new URL('auth/v1', base).href,
    headers: { Authorization: `Bearer ${config.supabaseAnonKey}`, apikey: config.supabaseAnonKey },
    storageKey: authStorageKey(config.supabaseUrl),
    storage: options.storage,
    autoRefreshToken: options.autoRefreshToken ?? true,
    persistSession: true,
    detectSessionInUrl: false,
    flowType: 'implicit',
    fetch: baseFetch,
  });
  const accessToken = async () => (await auth.getSession()).data.session?.access_token ?? null;
  const functions = new FunctionsClient(new URL('functions/v1', base).href, {
    customFetch: fetchWithAuth(config.supabaseAnonKey, accessToken, baseFetch),
  });
  return { auth, functions };
}
