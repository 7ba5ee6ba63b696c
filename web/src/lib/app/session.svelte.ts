// The signed-in user and the one Supabase client of the app. The client is created from
// /config.json at start; Supabase Auth's client keeps the session in localStorage and refreshes
// the access token before it expires (autoRefreshToken), and every change arrives through
// onAuthStateChange (also from other tabs).
import type { AuthChangeEvent, Session as AuthSession, User } from '@supabase/auth-js';
import { ApiError, toApiError } from '$lib/api-error.ts';
import { loadRuntimeConfig } from '$lib/config.ts';
import { createAppClient, type AppClient } from '$lib/supabase-client.ts';

export type SessionStatus = 'starting' | 'signed-out' | 'signed-in' | 'failed';

class Session {
  status = $state<SessionStatus>('starting');
  user = $state<User | null>(null);
  startError = $state<string | null>(null);
  /** True right after the user pressed "Sign out", so the guard does not offer to come back. */
  signedOutOnPurpose = $state(false);
  /** Shown once on the sign-in page (e.g. after the account was deleted). */
  flash = $state<string | null>(null);

  isAdmin = $derived(this.user?.app_metadata?.role === 'admin');
  email = $derived(this.user?.email ?? '');
  displayName = $derived(
    (typeof this.user?.user_metadata?.display_name === 'string' && this.user.user_metadata.display_name) ||
      this.user?.email?.split('@')[0] ||
      '',
  );

  #client: AppClient | null = null;
  #starting: Promise<void> | null = null;

  get client(): AppClient {
    if (!this.#client) throw new Error('the Supabase client is used before the app started');
    return this.#client;
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start() {
    try {
      const config = await loadRuntimeConfig();
      const client = createAppClient(config);
      this.#client = client;
      const { data } = await client.auth.getSession();
      this.#apply(data.session?.user ?? null);
      client.auth.onAuthStateChange((_event: AuthChangeEvent, session: AuthSession | null) => {
        // Runs inside the auth client's lock; only plain state updates here.
        this.#apply(session?.user ?? null);
      });
    } catch (err) {
      this.startError = (err as Error).message;
      this.status = 'failed';
    }
  }

  #apply(user: User | null) {
    this.user = user;
    this.status = user ? 'signed-in' : 'signed-out';
    if (user) this.signedOutOnPurpose = false;
  }

  async signIn(email: string, password: string): Promise<void> {
    const { data, error } = await this.client.auth.signInWithPassword({ email, password });
    if (error) throw toApiError(error);
    this.#apply(data.user);
  }

  /** Signs up; returns false when the project requires email confirmation (no session yet). */
  async signUp(email: string, password: string, displayName: string, emailRedirectTo?: string): Promise<boolean> {
    const { data, error } = await this.client.auth.signUp({
      email,
      password,
      options: { data: { display_name: displayName }, emailRedirectTo },
    });
    if (error) throw toApiError(error);
    if (!data.session) return false;
    this.#apply(data.session.user);
    return true;
  }

  async signOut(): Promise<void> {
    this.signedOutOnPurpose = true;
    // Local sign-out always succeeds; the server call only revokes the refresh token, and a
    // failure there must not leave the user stuck signed in on this device.
    const { error } = await this.client.auth.signOut();
    if (error) await this.client.auth.signOut({ scope: 'local' });
    this.#apply(null);
  }

  /**
   * Called when a function answered 401: the session is no longer accepted (revoked, user
   * deleted). Try one refresh; if that fails, end the session here so the guard sends the user
   * to sign-in with the way back.
   */
  async handleUnauthorized(): Promise<boolean> {
    const { data, error } = await this.client.auth.refreshSession();
    if (!error && data.session) return true;
    await this.client.auth.signOut({ scope: 'local' });
    this.#apply(null);
    return false;
  }

  /** Ends the session after the account was deleted, with a message for the sign-in page. */
  async endAfterAccountDeletion(): Promise<void> {
    this.signedOutOnPurpose = true;
    this.flash = 'Your account and its data were deleted.';
    await this.client.auth.signOut({ scope: 'local' });
    this.#apply(null);
  }
}

export const session = new Session();

/** Runs an API call; a 401 gets one session refresh and retry before it is reported. */
export async function withSession<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = toApiError(err);
    if (e instanceof ApiError && e.status === 401 && (await session.handleUnauthorized())) return call();
    throw e;
  }
}
