// Form checks that run before a request, with the same limits the server applies (Supabase Auth's
// password and email rules from supabase/config.toml, the database's checks on names and
// profiles), so most mistakes are explained next to the field instead of after a round trip.
import { ROLES, type Role } from './roles.ts';

export type FieldErrors<K extends string> = Partial<Record<K, string>>;
export type Checked<T, K extends string> = { ok: true; value: T } | { ok: false; errors: FieldErrors<K> };

export const PASSWORD_MIN_LENGTH = 8;
// bcrypt reads at most 72 bytes; Supabase Auth refuses longer passwords.
export const PASSWORD_MAX_BYTES = 72;
export const NAME_MAX_LENGTH = 100;
export const EMAIL_MAX_LENGTH = 255;
export const AVATAR_URL_MAX_LENGTH = 2048;
export const DELETE_CONFIRMATION = 'DELETE';

// The address format Supabase Auth accepts (checkmail's ValidateFormat).
const EMAIL_FORMAT =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const LOCALE_FORMAT = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

const byteLength = (s: string) => new TextEncoder().encode(s).length;
const charLength = (s: string) => [...s].length;

function result<T, K extends string>(errors: FieldErrors<K>, value: T): Checked<T, K> {
  return Object.keys(errors).length === 0 ? { ok: true, value } : { ok: false, errors };
}

export function emailError(raw: string, missing = 'Enter your email address.'): string | null {
  const email = raw.trim();
  if (email === '') return missing;
  if (email.length > EMAIL_MAX_LENGTH) return `An email address has at most ${EMAIL_MAX_LENGTH} characters.`;
  if (!EMAIL_FORMAT.test(email)) return 'Enter a valid email address, like name@example.com.';
  return null;
}

export function passwordError(password: string): string | null {
  if (password === '') return 'Enter a password.';
  if (charLength(password) < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (byteLength(password) > PASSWORD_MAX_BYTES) return `Use at most ${PASSWORD_MAX_BYTES} bytes (fewer characters outside plain ASCII).`;
  return null;
}

/** A display or workspace name: trimmed, 1–100 characters. */
export function nameError(raw: string, what = 'a name'): string | null {
  const name = raw.trim();
  if (name === '') return `Enter ${what}.`;
  if (charLength(name) > NAME_MAX_LENGTH) return `Use at most ${NAME_MAX_LENGTH} characters.`;
  return null;
}

export function validateSignIn(input: {
  email: string;
  password: string;
}): Checked<{ email: string; password: string }, 'email' | 'password'> {
  const errors: FieldErrors<'email' | 'password'> = {};
  const email = emailError(input.email);
  if (email) errors.email = email;
  if (input.password === '') errors.password = 'Enter your password.';
  return result(errors, { email: input.email.trim().toLowerCase(), password: input.password });
}

type SignUpField = 'email' | 'password' | 'displayName';
export function validateSignUp(input: {
  email: string;
  password: string;
  displayName: string;
}): Checked<{ email: string; password: string; displayName: string }, SignUpField> {
  const errors: FieldErrors<SignUpField> = {};
  const email = emailError(input.email);
  if (email) errors.email = email;
  const password = passwordError(input.password);
  if (password) errors.password = password;
  const name = nameError(input.displayName, 'your name');
  if (name) errors.displayName = name;
  return result(errors, { email: input.email.trim().toLowerCase(), password: input.password, displayName: input.displayName.trim() });
}

export function validateWorkspaceName(raw: string): Checked<string, 'name'> {
  const error = nameError(raw, 'a workspace name');
  return result(error ? { name: error } : {}, raw.trim());
}

type InvitationField = 'email' | 'role';
export function validateInvitation(input: { email: string; role: string }): Checked<{ email: string; role: Role }, InvitationField> {
  const errors: FieldErrors<InvitationField> = {};
  const email = emailError(input.email, 'Enter the email address to invite.');
  if (email) errors.email = email;
  if (!(ROLES as readonly string[]).includes(input.role)) errors.role = 'Choose a role.';
  return result(errors, { email: input.email.trim().toLowerCase(), role: input.role as Role });
}

export function isValidTimeZone(zone: string): boolean {
  if (zone.trim() === '' || zone !== zone.trim()) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isHttpsUrl(value: string): boolean {
  try {
    return value.startsWith('https://') && new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

type ProfileField = 'display_name' | 'avatar_url' | 'locale' | 'timezone';
export function validateProfile(input: {
  display_name: string;
  avatar_url: string;
  locale: string;
  timezone: string;
}): Checked<{ display_name: string; avatar_url: string | null; locale: string; timezone: string }, ProfileField> {
  const errors: FieldErrors<ProfileField> = {};
  const name = nameError(input.display_name, 'a display name');
  if (name) errors.display_name = name;

  const avatar = input.avatar_url.trim();
  if (avatar !== '') {
    if (!isHttpsUrl(avatar)) {
      errors.avatar_url = 'Use an https:// address, or leave it empty.';
    } else if (avatar.length > AVATAR_URL_MAX_LENGTH) errors.avatar_url = `Use at most ${AVATAR_URL_MAX_LENGTH} characters.`;
  }

  const locale = input.locale.trim();
  if (!LOCALE_FORMAT.test(locale)) errors.locale = 'Use a language tag such as en, de or pt-BR.';

  const timezone = input.timezone.trim();
  if (!isValidTimeZone(timezone)) errors.timezone = 'Choose a time zone from the list.';

  return result(errors, { display_name: input.display_name.trim(), avatar_url: avatar === '' ? null : avatar, locale, timezone });
}

export function deleteConfirmationMatches(typed: string): boolean {
  return typed.trim() === DELETE_CONFIRMATION;
}
