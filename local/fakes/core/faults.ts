// Fault rules for the fakes: errors, latency, dropped connections, rate limiting. Everything is
// deterministic (failRate picks the same requests on every run) so tests that use it repeat.
import { z } from 'zod';

export const FaultRuleSchema = z
  .object({
    match: z
      .object({
        method: z.string().min(1).optional(),
        pathPrefix: z.string().startsWith('/').optional(),
        pathRegex: z.string().min(1).optional(),
        // Query parameters the request must carry: a value to equal, or true for any value. Picks
        // one channel's requests, or only its later pages, out of what every sync sends.
        query: z.record(z.string().min(1), z.union([z.string(), z.literal(true)])).optional(),
      })
      .strict()
      .refine((m) => !(m.pathPrefix !== undefined && m.pathRegex !== undefined), 'give pathPrefix or pathRegex, not both')
      .refine((m) => m.pathRegex === undefined || isValidRegex(m.pathRegex), 'pathRegex is not a valid regular expression'),
    status: z.number().int().min(200).max(599).optional(),
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    failRate: z.number().min(0).max(1).optional(),
    latencyMs: z.number().int().min(0).max(120_000).optional(),
    retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
    drop: z.enum(['before-response', 'mid-body']).optional(),
    times: z.number().int().min(1).optional(),
  })
  .strict()
  .refine(
    (r) => r.status !== undefined || r.latencyMs !== undefined || r.retryAfterSeconds !== undefined || r.drop !== undefined,
    'a fault needs at least one effect: status, latencyMs, retryAfterSeconds or drop',
  )
  .refine(
    (r) => r.body === undefined || r.status !== undefined || r.retryAfterSeconds !== undefined,
    'body needs status or retryAfterSeconds',
  );

export type FaultRule = z.infer<typeof FaultRuleSchema>;

export interface Fault {
  id: string;
  rule: FaultRule;
  createdAt: string;
  matched: number; // requests that matched while the rule was active
  hits: number; // requests the rule was applied to
}

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export class FaultStore {
  private faults: Fault[] = [];
  private regexCache = new Map<string, RegExp>();
  private nextId = 1;

  add(rule: FaultRule): Fault {
    const fault: Fault = { id: `flt_${this.nextId++}`, rule, createdAt: new Date().toISOString(), matched: 0, hits: 0 };
    this.faults.push(fault);
    return fault;
  }

  list() {
    return this.faults.map((f) => ({ ...f, active: isActive(f) }));
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length < before;
  }

  clear() {
    this.faults = [];
  }

  /**
   * The rule to apply to this request, if any. Rules are tried in the order they were added;
   * each active matching rule counts the request, and the first one that fires takes it
   * (later rules do not see a request an earlier rule took).
   */
  pick(method: string, path: string, query: URLSearchParams = new URLSearchParams()): Fault | undefined {
    for (const fault of this.faults) {
      if (!isActive(fault) || !this.matches(fault.rule, method, path, query)) continue;
      fault.matched++;
      if (!firesOn(fault.matched, fault.rule.failRate)) continue;
      fault.hits++;
      return fault;
    }
    return undefined;
  }

  private matches(rule: FaultRule, method: string, path: string, query: URLSearchParams): boolean {
    const m = rule.match;
    if (m.method && m.method.toUpperCase() !== method) return false;
    if (m.pathPrefix !== undefined && !path.startsWith(m.pathPrefix)) return false;
    if (m.pathRegex !== undefined) {
      let re = this.regexCache.get(m.pathRegex);
      if (!re) this.regexCache.set(m.pathRegex, (re = new RegExp(m.pathRegex)));
      if (!re.test(path)) return false;
    }
    for (const [name, want] of Object.entries(m.query ?? {})) {
      const got = query.get(name);
      if (got === null || (want !== true && got !== want)) return false;
    }
    return true;
  }
}

function isActive(f: Fault): boolean {
  return f.rule.times === undefined || f.hits < f.rule.times;
}

/**
 * The n-th matching request (1-based) fires when floor(n * rate) steps up, so exactly
 * floor(N * rate) of the first N requests fail, spread evenly, on every run.
 */
export function firesOn(n: number, rate: number | undefined): boolean {
  if (rate === undefined) return true;
  // The epsilon keeps 0.29 * 100 from flooring to 28.
  const step = (k: number) => Math.floor(k * rate + 1e-9);
  return step(n) > step(n - 1);
}
