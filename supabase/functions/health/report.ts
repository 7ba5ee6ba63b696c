// The health report: the database (checked live: it decides 200 or 503) and the external
// services (probed at most once per 30 s across all instances: a lease in ops.health_probe_leases
// says who probes; everyone else answers with the stored result). An instance answers from the
// report it built in the last ANSWER_CACHE_MS (timestamp, uptime and memory are always fresh), so
// however often monitors poll, an instance reads the database at most once per 5 s for health,
// and a database outage shows at most 5 s late. Every probe is stored in
// ops.health_probes, which is what measured uptime is computed from. While the database is down
// each instance keeps its own 30 s cache, and its failed database checks are stored once the
// database answers again, so the outage is measured too.
import { asJson } from '../_shared/platform/db-json.ts';
import { sql } from '../_shared/platform/db.ts';
import { env } from '../_shared/platform/env.ts';
import { backends, type Backend } from '../_shared/integrations/backends.ts';
import { scrub } from '../_shared/platform/observability/scrub.ts';
import { EXTERNAL_SERVICES, probe, probeUrl, type ExternalService, type ServiceHealth, type Status } from './probes.ts';

export const CACHE_SECONDS = 30;
export const ANSWER_CACHE_MS = 5_000;
const DB_TIMEOUT_MS = 3_000;
const MAX_UNSTORED = 120;

const VERSION = Deno.env.get('APP_VERSION') ?? '0.1.0';
const STARTED_AT = Date.now();

interface StoredProbe {
  service: string;
  status: Status;
  response_time_ms: number;
  error: string | null;
  checked_at: string;
}

interface ClaimRow {
  service: string;
  claimed: boolean;
  status: Status | null;
  response_time_ms: number | null;
  error: string | null;
  checked_at: Date | null;
}

/** An external service's health, and whether this deployment talks to the real one or a fake. */
export type ExternalHealth = ServiceHealth & { backend: Backend };

export interface HealthReport {
  status: Status;
  timestamp: string;
  version: string;
  services: { database: ServiceHealth; external_apis: Record<ExternalService, ExternalHealth> };
  system: { memory_usage: number; uptime: number };
}

// This instance's own view, for when the database (and so the shared cache) is unreachable.
const local = new Map<ExternalService, { health: ServiceHealth; at: number }>();
// Failed database checks not stored yet (the database was down); one per 30 s at most.
const unstored: StoredProbe[] = [];

function stored(service: string, h: ServiceHealth): StoredProbe {
  return { service, status: h.status, response_time_ms: h.response_time, error: h.error ?? null, checked_at: h.last_checked };
}

function fromRow(row: ClaimRow): ServiceHealth {
  return {
    status: row.status!,
    response_time: row.response_time_ms ?? 0,
    last_checked: row.checked_at!.toISOString(),
    ...(row.error ? { error: row.error } : {}),
  };
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeFresh(service: ExternalService): Promise<ServiceHealth> {
  const health = await probe(probeUrl(service, env()));
  local.set(service, { health, at: Date.now() });
  return health;
}

function locallyCached(service: ExternalService): ServiceHealth | null {
  const hit = local.get(service);
  return hit && Date.now() - hit.at < CACHE_SECONDS * 1000 ? hit.health : null;
}

function overall(database: ServiceHealth, externals: ServiceHealth[]): Status {
  if (database.status === 'unhealthy') return 'unhealthy';
  return externals.every((h) => h.status === 'healthy') ? 'healthy' : 'degraded';
}

type ServicesReport = Pick<HealthReport, 'status' | 'services'>;

let answer: { at: number; report: Promise<ServicesReport> } | null = null;

export async function healthReport(): Promise<HealthReport> {
  const now = Date.now();
  // Calls that arrive while the report is being built (a hosted instance serves several at once)
  // wait for the same one.
  if (!answer || now - answer.at >= ANSWER_CACHE_MS) {
    const report = servicesReport();
    answer = { at: now, report };
    // A failure is not kept: the next call tries again.
    report.catch(() => {
      if (answer?.report === report) answer = null;
    });
  }
  const { status, services } = await answer.report;
  const mem = Deno.memoryUsage();
  return {
    status,
    timestamp: new Date().toISOString(),
    version: VERSION,
    services,
    system: {
      memory_usage: Math.round((mem.heapUsed / 1024 / 1024) * 10) / 10,
      uptime: Math.round((Date.now() - STARTED_AT) / 1000),
    },
  };
}

async function servicesReport(): Promise<ServicesReport> {
  const started = performance.now();
  let claims: ClaimRow[] | null = null;
  let database: ServiceHealth;
  try {
    // The lease query is the database check. Within the lease it only reads (monitors may poll
    // health at any rate); a lease that ran out is claimed with a write.
    claims = await withTimeout(
      sql()<
        ClaimRow[]
      >`select * from ops.claim_health_probes(${['database', ...EXTERNAL_SERVICES]}::text[], ${`${CACHE_SECONDS} seconds`}::interval)`,
      DB_TIMEOUT_MS,
    );
    database = { status: 'healthy', response_time: Math.round(performance.now() - started), last_checked: new Date().toISOString() };
  } catch (err) {
    database = {
      status: 'unhealthy',
      response_time: Math.round(performance.now() - started),
      last_checked: new Date().toISOString(),
      error: `database unreachable: ${scrub((err as Error).message ?? String(err))}`,
    };
  }

  const fresh: StoredProbe[] = [];
  const externals = await Promise.all(
    EXTERNAL_SERVICES.map(async (service): Promise<[ExternalService, ServiceHealth]> => {
      const row = claims?.find((r) => r.service === service);
      if (row && !row.claimed && row.checked_at) return [service, fromRow(row)];
      if (!row) {
        const hit = locallyCached(service);
        if (hit) return [service, hit];
      }
      const health = await probeFresh(service);
      if (row) fresh.push(stored(service, health));
      return [service, health];
    }),
  );

  if (claims) {
    if (claims.find((r) => r.service === 'database')?.claimed) fresh.push(stored('database', database));
    const rows = [...fresh, ...unstored.splice(0)];
    if (rows.length > 0) {
      // Stored before answering: the next caller, on any instance, must find what was just probed.
      try {
        await withTimeout(sql()`select ops.record_health_probes(${asJson(rows)})`, DB_TIMEOUT_MS);
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', msg: 'could not store health probes', error: scrub((err as Error).message) }));
      }
    }
  } else {
    const last = unstored.at(-1);
    if (!last || Date.now() - Date.parse(last.checked_at) >= CACHE_SECONDS * 1000) {
      if (unstored.length >= MAX_UNSTORED) unstored.shift();
      unstored.push(stored('database', database));
    }
  }

  // Decided from the configured base URLs (stored probes do not know it).
  const backend = backends(env(), env().API_FAKES_ORIGIN);
  const externalApis = Object.fromEntries(externals.map(([service, h]) => [service, { ...h, backend: backend[service] }])) as Record<
    ExternalService,
    ExternalHealth
  >;
  return { status: overall(database, Object.values(externalApis)), services: { database, external_apis: externalApis } };
}
