// How the OAuth callback answers a browser that arrived from Google: a redirect to the web app
// with the outcome, or, when the request itself is bad (state forged, reused or expired; channel
// owned by another workspace), the status code with a short page (HTML for browsers, the JSON
// error envelope for everything else).
import { env } from '../_shared/env.ts';
import { HttpError } from '../_shared/http.ts';

export function redirectToApp(params: Record<string, string>): Response {
  const target = new URL(`${env().WEB_APP_URL}/channels`);
  for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  return new Response(null, { status: 302, headers: { Location: target.toString() } });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function wantsHtml(req: Request): boolean {
  return /\btext\/html\b/i.test(req.headers.get('accept') ?? '');
}

/** A failure answer in the form the client asked for; JSON errors go through the usual envelope. */
export function callbackFailure(req: Request, status: number, code: string, title: string, message: string): Response {
  if (!wantsHtml(req)) throw new HttpError(status, code, message);
  const back = `${env().WEB_APP_URL}/channels`;
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p id="message" data-code="${escapeHtml(code)}">${escapeHtml(message)}</p>
<p><a href="${escapeHtml(back)}">Back to your channels</a></p>
</body></html>`;
  return new Response(page, {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    },
  });
}
