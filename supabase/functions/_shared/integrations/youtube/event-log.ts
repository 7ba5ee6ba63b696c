// One JSON line per event of the YouTube integration. Every line passes through redactSecrets, so
// a token that slipped into an error message still never reaches the logs.
import { redactSecrets } from './errors.ts';
import { logSafe, NAMED_AT_MOST } from '../../platform/observability/log-line.ts';

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

/** What a worker invocation met besides its items' own results, for its one log line. */
export interface InvocationEvents {
  /** Lease renewals that failed, and the first one's message. */
  leaseRenewalsFailed: number;
  leaseError?: string;
  tokensRefreshed: number;
  /** Channels whose owner must reconnect them (YouTube said invalid_grant). */
  reauthChannels: ReadonlySet<string>;
}

export interface InvocationEventFields {
  tokens_refreshed?: number;
  channels_reauth_required?: string[];
  /** Channels to reconnect beyond those named. */
  channels_reauth_more?: number;
  lease_renewals_failed?: number;
  lease_error?: string;
}

/** The fields of a worker's line for what it met; none when nothing happened. */
export function invocationEventFields(events: InvocationEvents): InvocationEventFields {
  const fields: InvocationEventFields = {};
  if (events.tokensRefreshed > 0) fields.tokens_refreshed = events.tokensRefreshed;
  if (events.reauthChannels.size > 0) fields.channels_reauth_required = [...events.reauthChannels].slice(0, NAMED_AT_MOST);
  if (events.reauthChannels.size > NAMED_AT_MOST) fields.channels_reauth_more = events.reauthChannels.size - NAMED_AT_MOST;
  if (events.leaseRenewalsFailed > 0) {
    fields.lease_renewals_failed = events.leaseRenewalsFailed;
    if (events.leaseError) fields.lease_error = logSafe(events.leaseError);
  }
  return fields;
}
