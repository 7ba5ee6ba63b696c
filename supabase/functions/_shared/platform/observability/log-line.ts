// A worker writes one log line per invocation, not one per item it handled: hosted keeps 100 log
// lines per 10 s of a function and cuts a line at 10,000 characters, so a burst of items logged one
// by one loses most of its lines there, warnings and errors alike. Such a line names the items that
// need a look; these keep it safe to write and within bounds whatever their messages hold.
import { redactSecrets } from '../../integrations/youtube/errors.ts';
import { scrub } from './scrub.ts';

/** Items named one by one in a line; the rest are counted. */
export const NAMED_AT_MOST = 20;
/** A whole line, well under hosted's 10,000 characters. */
export const LINE_CHARS = 8_000;

/** A message for a log line: secrets out first, then cut (a cut could leave a secret too short for its pattern). */
export function logSafe(message: string, chars = 200): string {
  const clean = redactSecrets(scrub(message));
  return clean.length > chars ? `${clean.slice(0, chars - 1)}…` : clean;
}

/**
 * Names fewer of `named` (an array inside `line`) until the line's JSON fits LINE_CHARS: escaping
 * can make a message several times longer in JSON. Returns how many of `total` items to look at
 * are left unnamed.
 */
export function fitNamed(line: object, named: unknown[], total: number): number {
  while (named.length > 0 && JSON.stringify(line).length > LINE_CHARS) named.pop();
  return total - named.length;
}
