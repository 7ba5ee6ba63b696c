// A small path router: `/a/:id/b` patterns, `*` as a last segment for "anything below".
import type { RequestContext } from './context.ts';

export type Handler = (ctx: RequestContext) => void | Promise<void>;

export interface RouteOptions {
  /**
   * When this says yes, the server does not buffer the request body: the handler reads it with
   * `ctx.consumeBody` (video uploads, which must never sit in memory whole).
   */
  streamBody?: (query: URLSearchParams) => boolean;
}

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
  options: RouteOptions;
}

export type RouteMatch =
  | { kind: 'found'; handler: Handler; params: Record<string, string>; options: RouteOptions }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'none' };

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}) {
    this.routes.push({ method: method.toUpperCase(), segments: split(pattern), handler, options });
  }
  get(pattern: string, handler: Handler, options?: RouteOptions) {
    this.add('GET', pattern, handler, options);
  }
  head(pattern: string, handler: Handler, options?: RouteOptions) {
    this.add('HEAD', pattern, handler, options);
  }
  post(pattern: string, handler: Handler, options?: RouteOptions) {
    this.add('POST', pattern, handler, options);
  }
  put(pattern: string, handler: Handler, options?: RouteOptions) {
    this.add('PUT', pattern, handler, options);
  }
  delete(pattern: string, handler: Handler, options?: RouteOptions) {
    this.add('DELETE', pattern, handler, options);
  }
  any(pattern: string, handler: Handler, options?: RouteOptions) {
    this.add('*', pattern, handler, options);
  }

  match(method: string, path: string): RouteMatch {
    const parts = split(path);
    const allow = new Set<string>();
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === '*' || route.method === method) return { kind: 'found', handler: route.handler, params, options: route.options };
      allow.add(route.method);
    }
    return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow] } : { kind: 'none' };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*' && i === pattern.length - 1) {
      params['*'] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(part);
      } catch {
        return null;
      }
    } else if (p !== part) {
      return null;
    }
  }
  return parts.length === pattern.length ? params : null;
}
