// GoTrue's error wire format. GoTrue answers in one of two shapes, chosen by the request's
// X-Supabase-Api-Version header (supabase-js always sends 2024-01-01):
//   no / older version: { code: <http status>, error_code, msg } plus an x-sb-error-code header
//   2024-01-01 or later: { code: <error_code>, message } and the version echoed back
// supabase-js reads either, so the emulator must produce exactly the one GoTrue would.

export class AuthHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    /** Only for weak_password: GoTrue adds { weak_password: { reasons } } to the body. */
    readonly weakPasswordReasons?: string[],
  ) {
    super(message);
    this.name = 'AuthHttpError';
  }
}

export const badRequest = (code: string, msg: string) => new AuthHttpError(400, code, msg);
export const unauthorized = (code: string, msg: string) => new AuthHttpError(401, code, msg);
export const forbidden = (code: string, msg: string) => new AuthHttpError(403, code, msg);
export const notFound = (code: string, msg: string) => new AuthHttpError(404, code, msg);
export const unprocessable = (code: string, msg: string) => new AuthHttpError(422, code, msg);

export function notImplemented(what: string) {
  return new AuthHttpError(501, 'not_implemented', `${what} is not offered by the local auth emulator`);
}

export function unexpectedFailure(msg = 'Unexpected failure, please check server logs for more information') {
  return new AuthHttpError(500, 'unexpected_failure', msg);
}

const API_VERSION_2024 = Date.UTC(2024, 0, 1);

/** GoTrue's DetermineClosestAPIVersion: a valid YYYY-MM-DD on or after 2024-01-01 selects the new format. */
export function requestedApiVersion(header: string | undefined): '2024-01-01' | null {
  if (!header || !/^\d{4}-\d{2}-\d{2}$/.test(header)) return null;
  const parsed = Date.parse(`${header}T00:00:00Z`);
  if (Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 10) !== header) return null;
  return parsed >= API_VERSION_2024 ? '2024-01-01' : null;
}

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export function errorReply(err: AuthHttpError, apiVersionHeader: string | undefined): ErrorReply {
  const version = requestedApiVersion(apiVersionHeader);
  const weak = err.weakPasswordReasons ? { weak_password: { reasons: err.weakPasswordReasons } } : {};
  if (version) {
    return {
      status: err.status,
      headers: { 'x-supabase-api-version': version, 'x-sb-error-code': err.errorCode },
      body: { code: err.errorCode, message: err.message, ...weak },
    };
  }
  return {
    status: err.status,
    headers: { 'x-sb-error-code': err.errorCode },
    body: { code: err.status, error_code: err.errorCode, msg: err.message, ...weak },
  };
}
