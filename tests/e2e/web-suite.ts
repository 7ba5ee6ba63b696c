// What every browser test of the web app sets up the same way: the stack's env, the served SPA
// (WEB_URL, or web/build served by the test itself), one Chromium for the file, pages that record
// uncaught errors, screenshots in tests/e2e/screenshots/, the UI's sign-up and sign-in forms, and
// calls to the stack's Auth and functions (what a page shows is compared with what they answer).
// Each test file runs in its own process, so the bindings below belong to that file alone; they
// are set by the `before` hook that `useWebSuite` registers.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import playwright from '../../web/node_modules/playwright-core/index.js';
import type { Browser, Page } from '../../web/node_modules/playwright-core/index.js';
import { serveWeb, type ServedWeb } from '../../web/scripts/serve.mjs';
import { chromiumArgs, CHROMIUM_PATH } from './chromium.ts';
import { confirmSignUpFromInbox } from './inbox.ts';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const SHOTS = resolve(dirname(fileURLToPath(import.meta.url)), 'screenshots');

export let browser: Browser;
export let webUrl: string;
export let supabaseUrl: string;
export let anonKey: string;
/** Uncaught errors of every page opened with `openPage`, as `url: message`. */
export const pageErrors: string[] = [];

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run this test through the test runner (npm test) or export the stack's env`);
  return value;
}

export const trimSlashes = (url: string) => url.replace(/\/+$/, '');

/** Stack credentials for createConfirmedUser (tests/unit/helpers/auth-users.ts). */
export const stackAuth = () => ({ url: supabaseUrl, anonKey, serviceRoleKey: requiredEnv('SUPABASE_SERVICE_ROLE_KEY') });

export interface SuiteHooks {
  /** More env the file needs, checked before anything starts. */
  env?: string[];
  /** Runs after the SPA is served, before Chromium starts (e.g. slowing a fake down). */
  setup?: () => Promise<void>;
  /** Runs before Chromium closes (e.g. restoring a fake's settings). */
  teardown?: () => Promise<void>;
  /** Fail the file when any page had an uncaught error, for files whose tests do not check. */
  assertNoPageErrors?: boolean;
}

/** Registers the file's `before` and `after` hooks: serve the SPA, start Chromium, close both. */
export function useWebSuite(hooks: SuiteHooks = {}): void {
  let served: ServedWeb | undefined;
  before(async () => {
    supabaseUrl = trimSlashes(requiredEnv('SUPABASE_URL'));
    anonKey = requiredEnv('SUPABASE_ANON_KEY');
    for (const name of hooks.env ?? []) requiredEnv(name);
    if (process.env.WEB_URL) {
      webUrl = trimSlashes(process.env.WEB_URL);
    } else {
      served = await serveWeb({ port: 0, config: { supabaseUrl, supabaseAnonKey: anonKey } });
      webUrl = served.url;
    }
    mkdirSync(SHOTS, { recursive: true });
    await hooks.setup?.();
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM_PATH, args: chromiumArgs() });
  });
  after(async () => {
    await hooks.teardown?.();
    await browser?.close();
    await served?.close();
    if (hooks.assertNoPageErrors) assert.deepEqual(pageErrors, [], 'no uncaught errors in the pages');
  });
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  locale?: string;
  timezoneId?: string;
  timeoutMs?: number;
}

/** The pages of the app's own tests: a fixed locale and zone, so dates and numbers read the same everywhere. */
export const APP_PAGE = { viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC', timeoutMs: 20_000 };

/** A page in a new browser context (its own session), recording uncaught errors in `pageErrors`. */
export async function openPage(options: PageOptions = {}): Promise<Page> {
  const { viewport = { width: 1280, height: 800 }, locale, timezoneId, timeoutMs = 15_000 } = options;
  const context = await browser.newContext({ viewport, ...(locale ? { locale } : {}), ...(timezoneId ? { timezoneId } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  recordPageErrors(page);
  return page;
}

export function recordPageErrors(page: Page): void {
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`), fullPage: true });
}

// ── People and the app's forms ──────────────────────────────────────────────────────────────────

/** A new person with a unique address: `${prefix}-<suffix>@example.com`. */
export function person(tag: string, prefix = 'e2e') {
  const suffix = `${Date.now().toString(36)}${tag}${Math.random().toString(36).slice(2, 6)}`;
  return { name: `${tag.toUpperCase()} ${suffix}`, email: `${prefix}-${suffix}@example.com`, password: `pw-${suffix}-long`, suffix };
}

/** Fills the sign-up form on the current page and follows the confirmation email's link. */
export async function submitSignUp(page: Page, who: { name: string; email: string; password: string }): Promise<void> {
  await page.getByLabel('Your name').fill(who.name);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await confirmSignUpFromInbox(page, who.email);
}

export async function signUpInUi(page: Page, who: { name: string; email: string; password: string }, next = '/dashboard'): Promise<void> {
  await page.goto(`${webUrl}/sign-up?next=${encodeURIComponent(next)}`);
  await submitSignUp(page, who);
  await page.waitForURL((u) => u.pathname === next);
}

/** Opens sign-in (asking to come back to `next`, when given) and submits the password form. */
export async function submitSignIn(page: Page, who: { email: string; password: string }, next?: string): Promise<void> {
  await page.goto(next === undefined ? `${webUrl}/sign-in` : `${webUrl}/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signInInUi(page: Page, who: { email: string; password: string }, next = '/dashboard'): Promise<void> {
  await submitSignIn(page, who, next);
  await page.waitForURL((u) => u.pathname === next);
}

// ── The stack's APIs ────────────────────────────────────────────────────────────────────────────

/** A function called as the user `token`; the answer's status and JSON body ({} when empty). */
export async function callFunction(
  token: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${supabaseUrl}/functions/v1/${path}`, {
    method: init.method ?? 'GET',
    headers: {
      apikey: anonKey,
      authorization: `Bearer ${token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** A POST to Auth that must succeed (200); its JSON answer. */
export async function authPost(path: string, body: unknown): Promise<Json> {
  const r = await fetch(`${supabaseUrl}/auth/v1/${path}`, {
    method: 'POST',
    headers: { apikey: anonKey, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await r.json()) as Json;
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(json)}`);
  return json;
}

/** A user's access token from Auth's password grant. */
export async function passwordToken(email: string, password: string): Promise<string> {
  return (await authPost('token?grant_type=password', { email, password })).access_token as string;
}

/** Polls `probe` every 2 s until it returns a value other than null. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
