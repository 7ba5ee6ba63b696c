// One JSON line per event of the YouTube integration. Every line passes through redactSecrets, so
// a token that slipped into an error message still never reaches the logs.
import { redactSecrets } from './errors.ts';

export type Level = 'info' | 'warn' | 'error';

export function logEvent(level: Level, event: string, fields: Record<string, unknown> = {}): void {
  const line = redactSecrets(JSON.stringify({ level, event, at: new Date().toISOString(), ...fields }));
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/** An error as log fields: its name and (scrubbed) message, never a stack with arguments. */
export function errorFields(err: unknown): Record<string, string> {
  const e = err instanceof Error ? err : new Error(String(err));
  return { error: e.name, message: redactSecrets(e.message) };
}
