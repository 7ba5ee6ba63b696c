// Every route of every edge function, found from the code: each directory of supabase/functions
// with an index.ts is a function, and its handler.ts exports the Router it serves. A function added
// later is walked without an edit here; one whose handler does not export its router fails the
// discovery test instead of going unchecked.
import type { Router } from '../../supabase/functions/_shared/platform/http.ts';

export interface DiscoveredRoute {
  fn: string;
  method: string;
  /** The declared path, e.g. `/:id/versions`. */
  path: string;
  /** Path parameter names in order, e.g. `['workspace_id', 'user_id']`. */
  params: string[];
  /** The function's source files, read for field names (see routes-fields.ts). */
  sourceDir: string;
}

const FUNCTIONS_DIR = new URL('../../supabase/functions/', import.meta.url);

/** The function names: directories with an index.ts, other than shared code. */
export async function functionNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(FUNCTIONS_DIR)) {
    if (!entry.isDirectory || entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
    try {
      await Deno.stat(new URL(`${entry.name}/index.ts`, FUNCTIONS_DIR));
      names.push(entry.name);
    } catch {
      // not a function (no entry point)
    }
  }
  return names.sort();
}

export class UndiscoverableFunction extends Error {}

export async function discoverRoutes(): Promise<DiscoveredRoute[]> {
  const routes: DiscoveredRoute[] = [];
  for (const fn of await functionNames()) {
    const mod = await import(new URL(`${fn}/handler.ts`, FUNCTIONS_DIR).href);
    const router = mod.router as Router | undefined;
    if (!router || typeof router.list !== 'function') {
      throw new UndiscoverableFunction(`supabase/functions/${fn}/handler.ts does not export its Router as \`router\``);
    }
    if (router.functionName !== fn) {
      throw new UndiscoverableFunction(`supabase/functions/${fn}: the router is named ${router.functionName}`);
    }
    for (const { method, path } of router.list()) {
      const params = [...path.matchAll(/:([a-zA-Z_]+)/g)].map((m) => m[1]);
      routes.push({ fn, method, path, params, sourceDir: new URL(`${fn}/`, FUNCTIONS_DIR).pathname });
    }
  }
  return routes;
}

export const routeName = (r: Pick<DiscoveredRoute, 'fn' | 'method' | 'path'>) => `${r.fn} ${r.method} ${r.path}`;
