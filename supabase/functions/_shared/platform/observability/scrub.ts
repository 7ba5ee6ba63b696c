// Text that may end up in a table admins read or in logs: connection strings and tokens are
// replaced, whatever error message carried them.
export function scrub(text: string): string {
  return text
    .replace(/postgres(ql)?:\/\/\S+/gi, '<db-url>')
    .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer <redacted>')
    .replace(/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '<jwt>');
}
