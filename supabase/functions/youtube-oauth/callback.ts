// GET /callback?code&state: the browser returns from Google's consent page. No user JWT comes
// with it (verify_jwt = false for this function), and the state alone cannot say who is at the
// browser: a consent link can be forwarded. So nothing is exchanged or stored here; the browser
// is sent on to the web app with the code and state in the URL fragment (never sent to a server,
// so neither the web host's logs nor a Referer carry them), and the web app finishes the
// connection with POST /complete and the session of the person signed in (complete.ts).
import type { RouteContext } from '../_shared/platform/http.ts';
import { callbackFailure, redirectToApp } from './pages.ts';

const INVALID_STATE = 'This sign-in link is not valid: it was not issued by this app. Start connecting your channel again.';
// Google's states and codes are URL-safe text; anything longer or stranger is not ours.
export const OAUTH_TOKEN = /^[A-Za-z0-9._~/+=-]{1,512}$/;

// Google's own error codes on the redirect (access_denied, ...) pass through; anything else is
// reduced to a safe token for the web app's URL.
function safeCode(value: string): string {
  return /^[a-z_]{1,64}$/.test(value) ? value : 'oauth_error';
}

export function callback(ctx: RouteContext): Response {
  const q = ctx.url.searchParams;
  const state = q.get('state');
  if (!state || !OAUTH_TOKEN.test(state)) return callbackFailure(ctx.req, 400, 'invalid_state', INVALID_STATE);
  const googleError = q.get('error');
  if (googleError) return redirectToApp({ error: safeCode(googleError) });
  const code = q.get('code');
  if (!code) return redirectToApp({ error: 'missing_code' });
  if (!OAUTH_TOKEN.test(code)) return redirectToApp({ error: 'oauth_error' });
  return redirectToApp({}, { oauth_state: state, oauth_code: code });
}
