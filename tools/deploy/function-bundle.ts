// What `supabase functions deploy` bundles for one function, measured from its module graph
// (`deno info --json` of its index.ts): the sizes of the local modules it reaches plus the whole
// on-disk size of every npm package in the graph and of their dependencies. The bundle holds only
// the files of a package that are used, so this is an upper bound. Hosted Supabase refuses a
// function whose bundle is over 20 MB, and its runtime has neither node:vm nor Web Workers.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DENO_ENV, denoBin } from '../../local/deno.ts';
import { ROOT } from '../../local/profile.ts';

/** Hosted's limit per bundled function ("20 MB"; decimal, the stricter reading). */
export const BUNDLE_LIMIT_BYTES = 20_000_000;
export const FORBIDDEN_BUILTINS = ['node:vm', 'node:worker_threads'];
const WEB_WORKER = /\bnew\s+Worker\s*\(/;

const FUNCTIONS_DIR = resolve(ROOT, 'supabase/functions');
const CONFIG = resolve(FUNCTIONS_DIR, 'deno.json');

export interface BundleFigure {
  entry: string;
  localModules: number;
  localBytes: number;
  npmBytes: number;
  totalBytes: number;
  npmPackages: { id: string; bytes: number }[];
  /** Built-ins and APIs of the graph that hosted does not have. */
  forbidden: string[];
}

interface GraphModule {
  kind: 'esm' | 'npm' | 'node' | string;
  specifier: string;
  local?: string;
  size?: number;
  npmPackage?: string;
}

interface Graph {
  modules: GraphModule[];
  npmPackages: Record<string, { name: string; version: string; dependencies: string[]; registryUrl?: string }>;
}

/** Every deployed function: a folder of supabase/functions (not _shared) with an index.ts. */
export function functionNames(): string[] {
  return readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_') && !d.name.startsWith('.'))
    .filter((d) => existsSync(join(FUNCTIONS_DIR, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

function deno(args: string[]): string {
  const r = spawnSync(denoBin(), args, {
    cwd: ROOT,
    env: { ...process.env, ...DENO_ENV, NO_COLOR: '1' },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`deno ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().slice(-2000)}`);
  return r.stdout;
}

let npmCache: string | undefined;
function npmCacheDir(): string {
  npmCache ??= (JSON.parse(deno(['info', '--json'])) as { npmCache: string }).npmCache;
  return npmCache;
}

function treeBytes(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  return readdirSync(path).reduce((sum, name) => sum + treeBytes(join(path, name)), 0);
}

/** The npm packages the graph's modules import, with all of their dependencies. */
function packagesOf(graph: Graph): string[] {
  const seen = new Set<string>();
  const todo = graph.modules.filter((m) => m.kind === 'npm' && m.npmPackage).map((m) => m.npmPackage!);
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    todo.push(...(graph.npmPackages[id]?.dependencies ?? []));
  }
  return [...seen].sort();
}

function packageDir(graph: Graph, id: string): string {
  const pkg = graph.npmPackages[id];
  if (!pkg) throw new Error(`the graph names npm package ${id} but does not describe it`);
  const host = new URL(pkg.registryUrl ?? 'https://registry.npmjs.org/').host;
  const dir = join(npmCacheDir(), host, ...pkg.name.split('/'), pkg.version);
  if (!existsSync(dir)) throw new Error(`npm package ${id} is not in deno's cache (${dir}), so its size is unknown`);
  return dir;
}

/** Measures the bundle of the module graph rooted at `entry` (a path). */
export function measureEntry(entry: string): BundleFigure {
  const graph = JSON.parse(deno(['info', '--json', '--config', CONFIG, entry])) as Graph;
  const local = graph.modules.filter((m) => m.kind === 'esm' && m.specifier.startsWith('file:'));
  const forbidden = graph.modules.filter((m) => m.kind === 'node' && FORBIDDEN_BUILTINS.includes(m.specifier)).map((m) => m.specifier);
  for (const m of local) {
    if (WEB_WORKER.test(readFileSync(fileURLToPath(m.specifier), 'utf8'))) forbidden.push(`Worker (${fileURLToPath(m.specifier)})`);
  }
  const npmPackages = packagesOf(graph).map((id) => ({ id, bytes: treeBytes(packageDir(graph, id)) }));
  const localBytes = local.reduce((sum, m) => sum + (m.size ?? 0), 0);
  const npmBytes = npmPackages.reduce((sum, p) => sum + p.bytes, 0);
  return {
    entry,
    localModules: local.length,
    localBytes,
    npmBytes,
    totalBytes: localBytes + npmBytes,
    npmPackages,
    forbidden: forbidden.sort(),
  };
}

export function measureFunction(name: string): BundleFigure {
  return measureEntry(join(FUNCTIONS_DIR, name, 'index.ts'));
}

export const megabytes = (bytes: number) => (bytes / 1_000_000).toFixed(2);
