// Response caching for GET routes that are safe to cache, shared by every function instance
// (ops.response_cache). A route opts in by wrapping its handler:
//
//   router.on('GET', '/', cached(handler, { ttlSeconds: 120 }))
//
// The key is sha256 of (caller, workspace, method, full URL) plus the current version of the
// route's data scope, so an answer is only ever served to the same user for the same workspace
// and URL, and a version bump (triggers on the underlying tables, see
// ops.invalidate_cache_on_change) makes every older answer unreachable. The scope is the
// `workspace_id` query parameter unless the route names another (e.g. 'ops:metrics').
// Only 200 answers are stored, for at most 5 minutes. `X-Cache: HIT|MISS` says which it was;
// a request with `Cache-Control: no-cache` skips the lookup, `no-store` skips the cache entirely.
import { asJson } from './db-json.ts';
import { sql } from './db.ts';
import type { RouteContext, RouteHandler } from './http.ts';
import { inBackground } from './observability/background.ts';
import { asUuid, identityOf, noteWorkspace } from './observability/context.ts';
import { scrub } from './observability/scrub.ts';

export const MAX_TTL_SECONDS = 300;
const MAX_CACHED_BYTES = 512 * 1024;
const KEPT_HEADERS = ['content-type'];

export interface CacheOptions {
  /** How long an answer may be served from the cache; capped at 300 s. */
  ttlSeconds: number;
  /** The data scope whose version invalidates answers; default: the workspace_id query parameter. */
  scope?: (ctx: RouteContext) => string | null;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function complain(what: string, requestId: string, err: unknown) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(JSON.stringify({ level: 'error', msg: `response cache: ${what}`, request_id: requestId, error: scrub(message) }));
}

function marked(res: Response, verdict: 'HIT' | 'MISS'): Response {
  const headers = new Headers(res.headers);
  headers.set('X-Cache', verdict);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

export function cached(handler: RouteHandler, options: CacheOptions): RouteHandler {
  const ttl = Math.min(MAX_TTL_SECONDS, Math.max(1, Math.floor(options.ttlSeconds)));
  return async (ctx) => {
    if (ctx.req.method !== 'GET') return await handler(ctx);
    const directives = (ctx.req.headers.get('cache-control') ?? '').toLowerCase();
    if (directives.includes('no-store')) return marked(await handler(ctx), 'MISS');
    const lookup = !directives.includes('no-cache');

    const identity = await identityOf(ctx.req);
    const caller = identity.kind === 'user' ? `user:${identity.userId}` : identity.kind;
    const workspaceId = asUuid(ctx.url.searchParams.get('workspace_id'));
    if (workspaceId) noteWorkspace(ctx.req, workspaceId);
    const scope = options.scope ? options.scope(ctx) : workspaceId;
    const base = await sha256Hex([caller, workspaceId ?? '-', ctx.req.method, ctx.url.href].join('\n'));

    let key: string;
    try {
      // One round trip: the scope's version (part of the key) and the entry under that key.
      const [row] = await sql()<
        { version: string; status: number | null; headers: Record<string, string> | null; body: Uint8Array | null }[]
      >`
        select v.version, c.status, c.headers, c.body
        from (select coalesce((select cv.version from ops.cache_versions cv where cv.scope = ${scope ?? '-'}), 0) as version) v
        left join ops.response_cache c on c.key = ${base} || ':' || v.version and c.expires_at > now()`;
      key = `${base}:${row.version}`;
      if (lookup && row.body && row.status !== null) {
        const headers = new Headers(row.headers ?? {});
        headers.set('X-Cache', 'HIT');
        return new Response(new Uint8Array(row.body), { status: row.status, headers });
      }
    } catch (err) {
      complain('lookup failed, answering uncached', ctx.requestId, err);
      return marked(await handler(ctx), 'MISS');
    }

    const res = await handler(ctx);
    if (res.status !== 200) return marked(res, 'MISS');
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.byteLength <= MAX_CACHED_BYTES) {
      const kept = Object.fromEntries(KEPT_HEADERS.flatMap((h) => (res.headers.has(h) ? [[h, res.headers.get(h)!]] : [])));
      const userId = identity.kind === 'user' ? identity.userId : null;
      inBackground(
        sql()`
          insert into ops.response_cache (key, user_id, workspace_id, status, headers, body, expires_at)
          values (${key}, ${userId}, ${workspaceId}, ${res.status}, ${asJson(kept)}, ${body},
            now() + ${ttl} * interval '1 second')
          on conflict (key) do update set status = excluded.status, headers = excluded.headers, body = excluded.body,
            created_at = now(), expires_at = excluded.expires_at`.catch((err) => complain('could not store an answer', ctx.requestId, err)),
      );
    }
    return marked(new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers }), 'MISS');
  };
}
