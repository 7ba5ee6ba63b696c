// Where to go after signing in. The `next` parameter comes from the address bar, so it is only
// ever followed to a path of this app: never to another origin (open redirect), never back to a
// sign-in page (loop).

export const DEFAULT_AFTER_SIGN_IN = '/dashboard';
const AUTH_PAGES = ['/sign-in', '/sign-up', '/auth', '/forgot-password', '/reset-password'];
const BASE = 'http://app.invalid';

/** A safe in-app path from an untrusted `next` value, or the fallback. */
export function safeNextPath(raw: string | null | undefined, fallback = DEFAULT_AFTER_SIGN_IN): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return fallback;
  // Control characters are stripped by URL parsing and could smuggle a scheme or host past the checks.
  if (/[\u0000-\u001f\u007f]/.test(raw)) return fallback;
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  if (AUTH_PAGES.some((p) => url.pathname === p || url.pathname.startsWith(`${p}/`))) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The sign-in address that brings the user back to `from` (path + query) afterwards. */
export function signInPath(from?: string | null, page: '/sign-in' | '/sign-up' = '/sign-in'): string {
  const next = from ? safeNextPath(from, '') : '';
  return next && next !== DEFAULT_AFTER_SIGN_IN ? `${page}?next=${encodeURIComponent(next)}` : page;
}
