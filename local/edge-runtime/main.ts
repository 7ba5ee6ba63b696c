// The local stack's edge runtime process (`functions` in the stack): hosted Supabase's limits and
// isolation on this machine. See README "Edge runtime".
import { createWriteStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ROOT } from '../profile.ts';
import { denoBin } from '../deno.ts';
import { limitsFromEnv } from './limits.ts';
import { isolateEnv, SecretNameError } from './secrets.ts';
import { createEdgeRuntime } from './server.ts';

const envSchema = z.object({
  LOCAL_FUNCTIONS_PORT: z.coerce.number().int().positive(),
  LOCAL_FUNCTIONS_ENV_FILE: z.string().min(1),
  LOCAL_EDGE_MAX_ISOLATES: z.coerce.number().int().positive().default(12),
  // Diagnostics only, e.g. `--trace-gc`: comma-separated V8 flags for every isolate.
  LOCAL_EDGE_V8_FLAGS: z
    .string()
    .regex(/^(--[a-z0-9-]+(=[\w.-]+)?)(,--[a-z0-9-]+(=[\w.-]+)?)*$/, 'comma-separated --v8-flags')
    .optional(),
  CCE_PROFILE: z.string().default('dev'),
  // Where function log lines past hosted's log limits go, whole (README "Edge runtime").
  LOCAL_EDGE_DROPPED_LOG: z.string().min(1).optional(),
});

const log = (line: string) => console.log(`edge: ${line}`);

/** The process environment a Deno process needs to run at all, never a project secret. */
const RUNTIME_BASICS = /^(PATH|HOME|TMPDIR|TZ|LANG|LC_ALL|DENO_DIR|DENO_TLS_CA_STORE|DENO_CERT|NODE_EXTRA_CA_CERTS|NO_COLOR)$/;

/** Appends to the dropped-lines file; a file that cannot be written is reported once, not fatal. */
function overflowLog(path: string | undefined) {
  if (!path) return { write: undefined, end: () => Promise.resolve() };
  const file = createWriteStream(path, { flags: 'a' });
  let failed = false;
  file.on('error', (err) => {
    if (!failed) log(`cannot write ${path}: ${err.message}; dropped log lines are not kept`);
    failed = true;
  });
  return {
    write: (line: string) => void (failed || file.write(`${new Date().toISOString()} ${line}\n`)),
    end: () => new Promise<void>((resolve) => (failed ? resolve() : file.end(resolve))),
  };
}

function dotenv(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}

try {
  const e = envSchema.parse(process.env);
  const limits = limitsFromEnv(process.env);
  const basics = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => RUNTIME_BASICS.test(k) && v !== undefined)) as Record<
    string,
    string
  >;
  const env = { ...basics, ...isolateEnv(dotenv(e.LOCAL_FUNCTIONS_ENV_FILE)) };
  const functionsDir = resolve(ROOT, 'supabase/functions');
  const overflow = overflowLog(e.LOCAL_EDGE_DROPPED_LOG);
  const runtime = await createEdgeRuntime({
    port: e.LOCAL_FUNCTIONS_PORT,
    functionsDir,
    deno: {
      command: denoBin(),
      args: [
        'run',
        '--no-prompt',
        '--frozen',
        '--config',
        resolve(functionsDir, 'deno.json'),
        '--allow-net',
        '--allow-env',
        '--allow-read',
        `--allow-write=${tmpdir()}`,
        '--allow-sys',
      ],
    },
    isolateEntry: resolve(ROOT, 'local/edge-runtime/isolate/main.ts'),
    env,
    limits,
    maxIsolatesPerFunction: e.LOCAL_EDGE_MAX_ISOLATES,
    v8Flags: e.LOCAL_EDGE_V8_FLAGS?.split(','),
    socketDir: resolve(tmpdir(), `cce-edge-${e.CCE_PROFILE}-${process.pid}`),
    log,
    overflow: overflow.write,
  });
  const shown = limits.enforced
    ? `limits on: ${limits.cpuMs} ms CPU per request, ${limits.memoryMb} MB, ${limits.wallClockMs / 1000} s wall clock per isolate, ${limits.idleTimeoutMs / 1000} s idle timeout`
    : 'limits OFF (CCE_EDGE_LIMITS=off): measured, not enforced';
  log(`serving ${runtime.functions.join(', ')} on ${runtime.url}; ${shown}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(
      signal,
      () =>
        void runtime
          .close()
          .then(overflow.end)
          .then(() => process.exit(0)),
    );
  }
} catch (err) {
  const message =
    err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message;
  console.error(`edge: cannot start: ${message}`);
  process.exit(err instanceof SecretNameError || err instanceof z.ZodError ? 78 : 1);
}
