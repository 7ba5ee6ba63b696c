// The walk: for one discovered route, who may call it, what it reads, a plausible request, and the
// requests that each change one input to something hostile (a NUL character, an oversize string,
// a value of the wrong type, another tenant's id). Every answer is checked as it arrives.
import { stack } from '../functions/helpers/users.ts';
import type { Cast } from './routes-fixtures.ts';
import { candidateKeys, idKind, namedFields, plausible, type TenantIds } from './routes-fields.ts';
import { routeName, type DiscoveredRoute } from './routes-discovery.ts';

export interface Actor {
  name: 'attacker' | 'admin' | 'service';
  token: string;
}

interface Request {
  actor: Actor;
  method: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body?: Record<string, unknown>;
}

export interface Answer {
  status: number;
  retryAfter: number | null;
  text: string;
  json: unknown;
}

export type Expectation = 'rejected' | 'no_server_error';

export interface Mutation {
  slot: string;
  variant: string;
  request: Request;
  expect: Expectation;
  /** The victim's id this request names on purpose (allowed to come back, e.g. in a 404 message). */
  victimIdSent?: string;
}

const FRESH_ALERT = '123456789123';

export function pathOf(route: DiscoveredRoute, params: Record<string, string>): string {
  return route.path.replace(/:([a-zA-Z_]+)/g, (_, k) => encodeURIComponent(params[k] ?? ''));
}

export async function send(route: DiscoveredRoute, r: Request): Promise<Answer> {
  const qs = new URLSearchParams(r.query).toString();
  const path = pathOf(route, r.params).replace(/\/$/, '');
  const url = `${stack.url}/functions/v1/${route.fn}${path}${qs ? `?${qs}` : ''}`;
  const headers: Record<string, string> = {
    // An opaque key (the service actor's secret key) goes in apikey too, as supabase-js sends it.
    apikey: r.actor.token?.startsWith('sb_') ? r.actor.token : stack.anonKey,
    Authorization: `Bearer ${r.actor.token}`,
    'Idempotency-Key': `adv-${crypto.randomUUID()}`,
  };
  let body: string | undefined;
  if (r.body !== undefined) {
    body = JSON.stringify(r.body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(url, { method: r.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the envelope check reports it
  }
  const retryAfter = res.headers.get('retry-after');
  return { status: res.status, retryAfter: retryAfter === null ? null : Number(retryAfter), text, json };
}

/** Ids nobody has, for probes that must not touch the caller's own data. */
function nobodysIds(route: DiscoveredRoute): Record<string, string> {
  return Object.fromEntries(route.params.map((p) => [p, idKind(route.fn, p) === 'alert' ? FRESH_ALERT : crypto.randomUUID()]));
}

/** The first of the attacker, a platform admin and the service role that the route does not turn away. */
export async function chooseActor(route: DiscoveredRoute, actors: Actor[]): Promise<Actor> {
  for (const actor of actors) {
    const a = await send(route, { actor, method: route.method, params: nobodysIds(route), query: {} });
    if (a.status !== 401 && a.status !== 403) return actor;
  }
  return actors[0];
}

// Query keys a handler reads by hand (`searchParams.get('job')`) rather than through a schema.
async function manualQueryKeys(sourceDir: string): Promise<string[]> {
  const keys = new Set<string>();
  for await (const entry of Deno.readDir(sourceDir)) {
    if (!entry.name.endsWith('.ts')) continue;
    const text = await Deno.readTextFile(`${sourceDir}${entry.name}`);
    for (const m of text.matchAll(/(?:searchParams|\bq)\.get\(\s*'([a-z_]+)'\s*\)/g)) keys.add(m[1]);
  }
  return [...keys];
}

export interface Shape {
  required: { query: string[]; body: string[] };
  optional: { query: string[]; body: string[] };
}

const JUNK = [['junk']];

/** The query and body fields the route takes, as its own validation answers name them. */
export async function discoverShape(route: DiscoveredRoute, actor: Actor): Promise<Shape> {
  const candidates = await candidateKeys(route.sourceDir);
  const params = nobodysIds(route);
  const hasBody = route.method !== 'GET';
  const empty = await send(route, { actor, method: route.method, params, query: {}, body: hasBody ? {} : undefined });
  const requiredQuery = namedFields(empty.json, 'query').fields;
  const requiredBody = hasBody ? namedFields(empty.json, 'body').fields : [];

  const junkQuery = Object.fromEntries(candidates.map((k) => [k, '[[junk']));
  const q = await send(route, { actor, method: route.method, params, query: junkQuery, body: hasBody ? {} : undefined });
  const named = namedFields(q.json, 'query');
  const queryFields = new Set([...requiredQuery, ...named.fields, ...(await manualQueryKeys(route.sourceDir))]);
  if (named.unknown.length) for (const k of candidates) if (!named.unknown.includes(k)) queryFields.add(k);

  const bodyFields = new Set(requiredBody);
  if (hasBody) {
    const junkBody = Object.fromEntries(candidates.map((k) => [k, JUNK]));
    const b = await send(route, { actor, method: route.method, params, query: {}, body: junkBody });
    const nb = namedFields(b.json, 'body');
    for (const f of nb.fields) bodyFields.add(f);
    if (nb.unknown.length) for (const k of candidates) if (!nb.unknown.includes(k)) bodyFields.add(k);
  }
  return {
    required: { query: requiredQuery, body: requiredBody },
    optional: {
      query: [...queryFields].filter((f) => !requiredQuery.includes(f)),
      body: [...bodyFields].filter((f) => !requiredBody.includes(f)),
    },
  };
}

const asQueryValue = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function baseRequest(route: DiscoveredRoute, actor: Actor, shape: Shape, ids: TenantIds): Request {
  const params = Object.fromEntries(route.params.map((p) => [p, String(plausible(route.fn, p, ids))]));
  const query = Object.fromEntries(shape.required.query.map((f) => [f, asQueryValue(plausible(route.fn, f, ids))]));
  const body = route.method === 'GET' ? undefined : Object.fromEntries(shape.required.body.map((f) => [f, plausible(route.fn, f, ids)]));
  return { actor, method: route.method, params, query, body };
}

const NUL = '\u0000';
const OVERSIZE = { body: 100_000, query: 8_000, path: 2_000 };

function stringVariants(base: unknown, size: number, inside = true): [string, unknown, Expectation][] {
  const text = typeof base === 'string' ? base : 'text';
  return [
    ['nul appended', `${text}${NUL}`, 'rejected'],
    ...(inside ? [['nul inside', `nul${NUL}inside`, 'rejected'] as [string, unknown, Expectation]] : []),
    ['oversize', 'x'.repeat(size), 'no_server_error'],
  ];
}

function typeVariants(base: unknown): [string, unknown, Expectation][] {
  // A number or boolean may be coerced where a string is taken, but no text field takes a list or
  // an object: those must be refused.
  const structured: Expectation = typeof base === 'string' ? 'rejected' : 'no_server_error';
  const out: [string, unknown, Expectation][] = [
    ['number', 12345, 'no_server_error'],
    ['boolean', true, 'no_server_error'],
    ['array', ['a'], structured],
    ['object', { a: 'b' }, structured],
    ['null', null, 'no_server_error'],
    ['nul in array', [`a${NUL}`], 'rejected'],
    ['nul in object key and value', { [`k${NUL}`]: 'v', k: [`v${NUL}`] }, 'rejected'],
    ['lone surrogate', 'half \ud800 a pair', 'no_server_error'],
  ];
  if (typeof base !== 'string') out.push(['string', '12345', 'no_server_error']);
  return out;
}

/** Every one-input change of the base request, with what its answer must be. */
export function mutations(route: DiscoveredRoute, base: Request, shape: Shape, own: TenantIds, victim: TenantIds): Mutation[] {
  const out: Mutation[] = [];
  const victimId = (name: string) => {
    const kind = idKind(route.fn, name);
    return kind && base.actor.name === 'attacker' ? victim[kind] : undefined;
  };
  for (const p of route.params) {
    for (const [variant, value, expect] of stringVariants(base.params[p], OVERSIZE.path, false)) {
      out.push({ slot: `path ${p}`, variant, expect, request: { ...base, params: { ...base.params, [p]: String(value) } } });
    }
    const v = victimId(p);
    if (v)
      out.push({
        slot: `path ${p}`,
        variant: 'other tenant',
        expect: 'no_server_error',
        victimIdSent: v,
        request: { ...base, params: { ...base.params, [p]: v } },
      });
  }
  for (const f of [...shape.required.query, ...shape.optional.query]) {
    const current = base.query[f] ?? asQueryValue(plausible(route.fn, f, own));
    for (const [variant, value, expect] of stringVariants(current, OVERSIZE.query)) {
      out.push({ slot: `query ${f}`, variant, expect, request: { ...base, query: { ...base.query, [f]: String(value) } } });
    }
    const v = victimId(f);
    if (v)
      out.push({
        slot: `query ${f}`,
        variant: 'other tenant',
        expect: 'no_server_error',
        victimIdSent: v,
        request: { ...base, query: { ...base.query, [f]: v } },
      });
  }
  if (base.body === undefined) return out;
  for (const f of [...shape.required.body, ...shape.optional.body]) {
    const current = f in base.body ? base.body[f] : plausible(route.fn, f, own);
    for (const [variant, value, expect] of [...stringVariants(current, OVERSIZE.body), ...typeVariants(current)]) {
      out.push({ slot: `body ${f}`, variant, expect, request: { ...base, body: { ...base.body, [f]: value } } });
    }
    const v = victimId(f);
    if (v)
      out.push({
        slot: `body ${f}`,
        variant: 'other tenant',
        expect: 'no_server_error',
        victimIdSent: v,
        request: { ...base, body: { ...base.body, [f]: v } },
      });
  }
  return out;
}

/** NUL in every candidate field at once: reaches fields no schema names (read by hand). */
export async function shotgun(route: DiscoveredRoute, base: Request, bodyFields: number): Promise<Mutation[]> {
  const keys = [...new Set([...(await candidateKeys(route.sourceDir)), ...(await manualQueryKeys(route.sourceDir))])];
  const query = { ...base.query, ...Object.fromEntries(keys.map((k) => [k, `q${NUL}`])) };
  const out: Mutation[] = [{ slot: 'every query key', variant: 'nul', expect: 'rejected', request: { ...base, query } }];
  // Only where the route reads a body: elsewhere the base request itself would go through, and it
  // may delete the attacker's own fixtures.
  if (base.body !== undefined && bodyFields > 0) {
    const body = { ...base.body, ...Object.fromEntries(keys.map((k) => [k, `b${NUL}`])) };
    out.push({ slot: 'every body key', variant: 'nul', expect: 'rejected', request: { ...base, body } });
  }
  return out;
}

/** What is wrong with an answer (empty when it is right). */
export function judge(route: DiscoveredRoute, m: Mutation, a: Answer, cast: Cast): string[] {
  const problems: string[] = [];
  const where = `${routeName(route)} [${m.slot}: ${m.variant}] as ${m.request.actor.name} → ${a.status}`;
  if (a.status >= 500) problems.push(`${where}: server error ${a.text.slice(0, 200)}`);
  if (a.status >= 400) {
    const e = (a.json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (typeof e?.code !== 'string' || typeof e?.message !== 'string')
      problems.push(`${where}: no error envelope: ${a.text.slice(0, 200)}`);
  }
  if (m.expect === 'rejected' && (a.status < 400 || a.status >= 500)) problems.push(`${where}: bad input was not refused with a 4xx`);
  if (m.request.actor.name === 'attacker') {
    const leaked = [cast.victim.marker, cast.victim.user.id, ...Object.values(cast.victim.ids)].filter(
      (s) => s !== m.victimIdSent && !Object.values(cast.attacker.ids).includes(s) && a.text.includes(s),
    );
    if (leaked.length) problems.push(`${where}: the answer shows the other tenant's data (${leaked.join(', ')})`);
  }
  return problems;
}
