// Request bodies as GoTrue decodes them (Go structs: unknown fields ignored, null = absent) and
// GoTrue's own validation rules for emails, passwords and durations.
import { z } from 'zod';
import { AuthHttpError, badRequest } from './errors.ts';

const text = z.string().nullish();
const object = z.record(z.string(), z.unknown()).nullish();
const flag = z.boolean().nullish();

export const SignupParams = z.object({ email: text, phone: text, password: text, data: object });
export const PasswordGrantParams = z.object({ email: text, phone: text, password: text });
export const RefreshTokenGrantParams = z.object({ refresh_token: text });
export const UserUpdateParams = z.object({
  email: text,
  phone: text,
  password: text,
  data: object,
  app_metadata: object,
});
export const AdminUserParams = z.object({
  id: text,
  aud: text,
  // auth.users.role is varchar(255).
  role: z.string().max(255).nullish(),
  email: text,
  phone: text,
  password: text,
  password_hash: text,
  email_confirm: flag,
  phone_confirm: flag,
  user_metadata: object,
  app_metadata: object,
  ban_duration: text,
});
export const VerifyParams = z.object({ type: text, token: text, token_hash: text, email: text, phone: text, redirect_to: text });
export const RecoverParams = z.object({ email: text, code_challenge: text, code_challenge_method: text });
export const OtpParams = z.object({
  email: text,
  phone: text,
  create_user: flag,
  data: object,
  channel: text,
  code_challenge: text,
  code_challenge_method: text,
});
export const ResendParams = z.object({ type: text, email: text, phone: text, code_challenge: text, code_challenge_method: text });
export const InviteParams = z.object({ email: text, data: object });
export const AdminUserDeleteParams = z.object({ should_soft_delete: flag });

// config.toml: minimum_password_length = 8, no required character classes, HIBP off.
export const MIN_PASSWORD_LENGTH = 8;
// bcrypt only reads 72 bytes; GoTrue refuses longer passwords instead of truncating them.
export const MAX_PASSWORD_BYTES = 72;

/** GoTrue's checkPasswordStrength for this project's settings. */
export function passwordWeakness(password: string): { message: string; reasons: string[] } | null {
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw badRequest('validation_failed', `Password cannot be longer than ${MAX_PASSWORD_BYTES} characters`);
  }
  if (Buffer.byteLength(password) < MIN_PASSWORD_LENGTH) {
    return { message: `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`, reasons: ['length'] };
  }
  return null;
}

export function assertStrongPassword(password: string) {
  const weakness = passwordWeakness(password);
  if (weakness) throw new AuthHttpError(422, 'weak_password', weakness.message, weakness.reasons);
}

// github.com/badoux/checkmail ValidateFormat, which GoTrue uses.
const EMAIL_FORMAT =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** GoTrue's validateEmail: required, at most 255 characters, valid format; returns it lower-cased. */
export function validEmail(email: string): string {
  if (email === '') throw badRequest('validation_failed', 'An email address is required');
  if (email.length > 255) throw badRequest('validation_failed', 'An email address is too long');
  if (!EMAIL_FORMAT.test(email)) throw badRequest('validation_failed', 'Unable to validate email address: invalid format');
  return email.toLowerCase();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration (what ban_duration takes, e.g. "24h" or "1h30m"), in milliseconds. */
export function parseGoDuration(value: string): number {
  const match = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(value);
  if (!match && value !== '0') {
    throw badRequest('validation_failed', `invalid format for ban duration: time: invalid duration "${value}"`);
  }
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(amount) * DURATION_UNITS_MS[unit!]!;
  }
  return value.startsWith('-') ? -total : total;
}
