// The error bodies each real service answers with, so an injected fault looks to product code
// exactly like the real outage would. Which shape applies is decided by the mount a path belongs to.

export type ErrorStyle = 'google' | 'google-oauth' | 'gemini' | 'revid' | 'resend' | 'plain';

interface GoogleStatusInfo {
  status: string;
  reason: string;
  message: string;
}

// Canonical google.rpc codes and the legacy `errors[].reason` Google APIs pair with them.
const GOOGLE_STATUS: Record<number, GoogleStatusInfo> = {
  400: { status: 'INVALID_ARGUMENT', reason: 'badRequest', message: 'Bad Request' },
  401: { status: 'UNAUTHENTICATED', reason: 'authError', message: 'Invalid Credentials' },
  403: { status: 'PERMISSION_DENIED', reason: 'forbidden', message: 'The caller does not have permission' },
  404: { status: 'NOT_FOUND', reason: 'notFound', message: 'Requested entity was not found.' },
  409: { status: 'ABORTED', reason: 'conflict', message: 'The operation was aborted.' },
  429: { status: 'RESOURCE_EXHAUSTED', reason: 'rateLimitExceeded', message: 'Resource has been exhausted (e.g. check quota).' },
  500: { status: 'INTERNAL', reason: 'backendError', message: 'Internal error encountered.' },
  501: { status: 'UNIMPLEMENTED', reason: 'notImplemented', message: 'Operation is not implemented, or supported, or enabled.' },
  502: { status: 'UNAVAILABLE', reason: 'backendError', message: 'Bad Gateway' },
  503: { status: 'UNAVAILABLE', reason: 'backendError', message: 'The service is currently unavailable.' },
  504: { status: 'DEADLINE_EXCEEDED', reason: 'backendError', message: 'The request timed out.' },
};

export function googleStatusInfo(code: number): GoogleStatusInfo {
  return GOOGLE_STATUS[code] ?? (code >= 500 ? GOOGLE_STATUS[500]! : GOOGLE_STATUS[400]!);
}

export interface GoogleErrorDetail {
  reason?: string;
  domain?: string;
  location?: string;
  locationType?: string;
  status?: string;
}

/** `{ error: { code, message, errors: [{ message, domain, reason, ... }], status } }` */
export function googleError(code: number, message?: string, detail: GoogleErrorDetail = {}) {
  const info = googleStatusInfo(code);
  const msg = message ?? info.message;
  const item: Record<string, string> = { message: msg, domain: detail.domain ?? 'global', reason: detail.reason ?? info.reason };
  if (detail.location) item.location = detail.location;
  if (detail.locationType) item.locationType = detail.locationType;
  return { error: { code, message: msg, errors: [item], status: detail.status ?? info.status } };
}

// RFC 6749 error codes, which is what oauth2.googleapis.com answers with.
function oauthErrorCode(status: number): string {
  if (status === 401) return 'invalid_client';
  if (status === 403) return 'access_denied';
  if (status === 429) return 'rate_limit_exceeded';
  if (status === 503) return 'temporarily_unavailable';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

export function defaultErrorBody(style: ErrorStyle, status: number, message?: string): unknown {
  switch (style) {
    case 'google':
      return googleError(status, message);
    case 'gemini': {
      // The Generative Language API answers without the legacy `errors` array.
      const info = googleStatusInfo(status);
      return { error: { code: status, message: message ?? info.message, status: info.status } };
    }
    case 'google-oauth':
      return { error: oauthErrorCode(status), error_description: message ?? googleStatusInfo(status).message };
    case 'revid':
      return { error: message ?? httpReason(status) };
    case 'resend':
      return resendError(status, message);
    case 'plain':
      return { error: message ?? httpReason(status), status };
  }
}

// Resend answers `{ statusCode, name, message }`; the names of its error reference.
export function resendError(status: number, message?: string, name?: string) {
  const fallback: Record<number, [string, string]> = {
    401: ['missing_api_key', 'Missing API key in the authorization header.'],
    403: ['invalid_api_key', 'API key is invalid.'],
    404: ['not_found', 'The requested endpoint does not exist.'],
    405: ['method_not_allowed', 'Method is not allowed for the requested path.'],
    429: ['rate_limit_exceeded', 'Too many requests. You can only make 2 requests per second.'],
  };
  const [n, m] =
    fallback[status] ??
    (status >= 500
      ? ['application_error', 'An unexpected error occurred.']
      : ['validation_error', 'We found an error with one or more fields in the request.']);
  return { statusCode: status, name: name ?? n, message: message ?? m };
}

function httpReason(status: number): string {
  if (status === 429) return 'Too Many Requests';
  if (status >= 500) return 'Internal Server Error';
  if (status === 404) return 'Not Found';
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  return 'Bad Request';
}
