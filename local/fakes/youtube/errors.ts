// The error responses of the YouTube Data and Analytics APIs, with the reasons and domains the
// real services use (as far as Google's public docs show them).
import type { RequestContext } from '../core/context.ts';
import { googleError, type GoogleErrorDetail } from '../core/error-shapes.ts';

export function sendGoogleError(
  ctx: RequestContext,
  code: number,
  message: string,
  detail: GoogleErrorDetail = {},
  headers: Record<string, string> = {},
) {
  ctx.sendJson(code, googleError(code, message, detail), headers);
}

export const INVALID_CREDENTIALS_MESSAGE =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

export function invalidCredentials(ctx: RequestContext) {
  ctx.sendJson(
    401,
    {
      error: {
        code: 401,
        message: INVALID_CREDENTIALS_MESSAGE,
        errors: [
          { message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' },
        ],
        status: 'UNAUTHENTICATED',
      },
    },
    { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
  );
}

export function missingCredentials(ctx: RequestContext) {
  sendGoogleError(
    ctx,
    401,
    'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    { reason: 'required', location: 'Authorization', locationType: 'header', status: 'UNAUTHENTICATED' },
    { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
  );
}

export function missingApiKey(ctx: RequestContext) {
  sendGoogleError(ctx, 403, 'The request is missing a valid API key.', { reason: 'forbidden', status: 'PERMISSION_DENIED' });
}

export function insufficientScopes(ctx: RequestContext) {
  sendGoogleError(
    ctx,
    403,
    'Request had insufficient authentication scopes.',
    { reason: 'insufficientPermissions', status: 'PERMISSION_DENIED' },
    {
      'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"',
    },
  );
}

export function quotaExceeded(ctx: RequestContext) {
  sendGoogleError(
    ctx,
    403,
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
    {
      reason: 'quotaExceeded',
      domain: 'youtube.quota',
      status: 'PERMISSION_DENIED',
    },
  );
}

export function requiredParameter(ctx: RequestContext, name: string) {
  sendGoogleError(ctx, 400, `Required parameter: ${name}`, { reason: 'required', location: name, locationType: 'parameter' });
}

export function invalidParameter(ctx: RequestContext, name: string, message: string, reason = 'invalidParameter', domain = 'global') {
  sendGoogleError(ctx, 400, message, { reason, domain, location: name, locationType: 'parameter' });
}

export function notImplemented(ctx: RequestContext, what: string) {
  sendGoogleError(ctx, 501, `${what} is not implemented by the local YouTube fake (local/fakes/youtube).`, { reason: 'notImplemented' });
}

export function uploadLimitExceeded(ctx: RequestContext) {
  sendGoogleError(ctx, 400, 'The user has exceeded the number of videos they may upload.', {
    reason: 'uploadLimitExceeded',
    domain: 'youtube.video',
  });
}
