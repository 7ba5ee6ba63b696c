// Every request the runtime served, with what it cost: written to the stack log one line each
// (as hosted's function logs show them) and kept in memory for tests and benchmarks, which read
// them at GET /_runtime/invocations?since=<seq>.
import type { LimitName } from './limits.ts';

export interface Invocation {
  seq: number;
  fn: string;
  method: string;
  path: string;
  status: number;
  cpu_ms: number;
  peak_rss_mb: number;
  /**
   * V8 heap (committed) plus external memory after the request: what hosted counts. Filled in
   * a moment after the record appears (the isolate is asked once its answer is out).
   */
  isolate_memory_mb: number;
  wall_ms: number;
  limit: LimitName | null;
  /** Part of wall_ms spent waiting for an isolate (booting one, or all busy). */
  acquire_ms: number;
  /** 1 for an isolate's first request (its code not yet warm), 0 when no isolate served it. */
  isolate_request: number;
  at: string;
}

const KEEP = 200_000;

/**
 * The path with every query value replaced: values can be credentials (an unsubscribe token, a
 * webhook secret), and the log and the costs API keep only which parameters came, as request
 * tracking does.
 */
export function redactQueryValues(path: string): string {
  const at = path.indexOf('?');
  if (at < 0) return path;
  const names = path
    .slice(at + 1)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => p.split('=')[0]);
  return `${path.slice(0, at)}?${names.map((n) => `${n}=<redacted>`).join('&')}`;
}

export class InvocationLog {
  private records: Invocation[] = [];
  private nextSeq = 1;

  constructor(private readonly log: (line: string) => void) {}

  add(entry: Omit<Invocation, 'seq' | 'at'>): Invocation {
    const record: Invocation = {
      seq: this.nextSeq++,
      ...entry,
      path: redactQueryValues(entry.path),
      cpu_ms: Math.round(entry.cpu_ms * 10) / 10,
      peak_rss_mb: Math.round(entry.peak_rss_mb * 10) / 10,
      isolate_memory_mb: Math.round(entry.isolate_memory_mb * 10) / 10,
      at: new Date().toISOString(),
    };
    this.records.push(record);
    if (this.records.length > KEEP) this.records.splice(0, this.records.length - KEEP);
    const limit = record.limit ? ` limit=${record.limit}` : '';
    this.log(
      `${record.fn} ${record.method} ${record.path} ${record.status} cpu=${record.cpu_ms}ms rss=${record.peak_rss_mb}MB wall=${record.wall_ms}ms${limit}`,
    );
    return record;
  }

  since(seq: number): { next: number; invocations: Invocation[] } {
    const first = this.records.findIndex((r) => r.seq > seq);
    return { next: this.nextSeq - 1, invocations: first < 0 ? [] : this.records.slice(first) };
  }
}
