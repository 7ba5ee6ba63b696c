// How the OAuth callback answers a browser that arrived from Google: always a redirect to the
// web app with the outcome; when the request itself is bad (no or malformed state) other clients
// get the status with the JSON error envelope.
import { env } from '../_shared/platform/env.ts';
import { HttpError } from '../_shared/platform/http.ts';

/** A redirect to the web app's channels page; `fragment` travels after `#`, out of every log. */
export function redirectToApp(params: Record<string, string>, fragment?: Record<string, string>): Response {
  const target = new URL(`${env().WEB_APP_URL}/channels`);
  for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  if (fragment) target.hash = new URLSearchParams(fragment).toString();
  return new Response(null, { status: 302, headers: { Location: target.toString() } });
}

function wantsHtml(req: Request): boolean {
  return /\btext\/html\b/i.test(req.headers.get('accept') ?? '');
}

/**
 * A failure answer in the form the client asked for. A browser is sent back to the web app with
 * the error code, which shows the explanation: hosted Supabase serves a function's `text/html`
 * answers to GET as `text/plain` on the project's default domain, so a page rendered here would
 * reach the user as raw markup. Other clients get the JSON error envelope with the status.
 */
export function callbackFailure(req: Request, status: number, code: string, message: string): Response {
  if (!wantsHtml(req)) throw new HttpError(status, code, message);
  return redirectToApp({ error: code });
}
