// What tracking, rate limiting and the response cache share about one request. createHandler
// opens it; route handlers reach it through their Request (e.g. to say which workspace they acted
// on when the URL does not show it).
import { ANONYMOUS, identify, type Identity } from './identity.ts';

export interface RequestContext {
  requestId: string;
  functionName: string;
  /** The declared route (`/:id`), so that ids never multiply endpoints; `(no route)` for 404s. */
  endpoint: string;
  method: string;
  workspaceId: string | null;
  /** true once a route said which workspace it acted on (noteWorkspace), not just the URL. */
  workspaceNoted?: boolean;
  /** true: an anonymous call is counted per minute, not recorded (createHandler's countAnonymous). */
  countAnonymous?: boolean;
  identity?: Promise<Identity>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const contexts = new WeakMap<Request, RequestContext>();

export const NO_ROUTE = '(no route)';

export function asUuid(value: string | null | undefined): string | null {
  return value && UUID.test(value) ? value.toLowerCase() : null;
}

/** The workspace a request names: a `workspace_id` path or query parameter. */
export function workspaceNamedBy(url: URL, params: Record<string, string>): string | null {
  return asUuid(params.workspace_id ?? params.workspaceId) ?? asUuid(url.searchParams.get('workspace_id'));
}

export function openRequestContext(req: Request, init: Omit<RequestContext, 'identity'>): RequestContext {
  const ctx: RequestContext = { ...init };
  contexts.set(req, ctx);
  return ctx;
}

export function requestContext(req: Request): RequestContext | undefined {
  return contexts.get(req);
}

/** The caller's identity, verified once per request however many parts ask. */
export function identityOf(req: Request): Promise<Identity> {
  const ctx = contexts.get(req);
  if (!ctx) return identify(req).catch(() => ANONYMOUS);
  ctx.identity ??= identify(req).catch(() => ANONYMOUS);
  return ctx.identity;
}

/** Records which workspace a request acted on, for routes whose URL does not say it. */
export function noteWorkspace(req: Request, workspaceId: string) {
  const ctx = contexts.get(req);
  const id = asUuid(workspaceId);
  if (ctx && id) {
    ctx.workspaceId = id;
    ctx.workspaceNoted = true;
  }
}
