// Local edge runtime: serves every folder of supabase/functions (except _shared) at /<name>,
// with the same handler module that production's index.ts passes to Deno.serve. Runs on Deno.
import { env, EnvError } from '../supabase/functions/_shared/env.ts';

type Handler = (req: Request) => Promise<Response> | Response;

const functionsDir = new URL('../supabase/functions/', import.meta.url);
const port = Number(Deno.env.get('LOCAL_FUNCTIONS_PORT') ?? '54331');

try {
  env();
} catch (err) {
  if (err instanceof EnvError) {
    console.error(`functions: ${err.message}`);
    Deno.exit(78);
  }
  throw err;
}

const handlers = new Map<string, Handler>();
for await (const entry of Deno.readDir(functionsDir)) {
  if (!entry.isDirectory || entry.name.startsWith('_') || entry.name.startsWith('.')) continue;
  const module = new URL(`${entry.name}/handler.ts`, functionsDir);
  try {
    await Deno.stat(module);
  } catch {
    console.error(`functions: ${entry.name} has no handler.ts, skipped`);
    continue;
  }
  // Hosted Supabase deploys each function on its own, so one that fails to load must not take
  // the others down: it answers 503 with the reason, and the log names it.
  try {
    const mod = await import(module.href);
    if (typeof mod.default !== 'function') throw new Error('handler.ts has no default export');
    handlers.set(entry.name, mod.default);
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    console.error(`functions: ${entry.name} failed to load: ${reason}`);
    handlers.set(entry.name, () =>
      Response.json({ error: { code: 'function_unavailable', message: `${entry.name} failed to load: ${reason}` } }, { status: 503 }));
  }
}

function notFound(name: string) {
  return Response.json(
    { error: { code: 'function_not_found', message: `no function named "${name}"` } },
    { status: 404 },
  );
}

const server = Deno.serve({ port, hostname: '127.0.0.1', onListen: () => {
  console.log(`functions: serving ${[...handlers.keys()].sort().join(', ')} on http://127.0.0.1:${port}`);
} }, (req) => {
  const name = new URL(req.url).pathname.split('/')[1] ?? '';
  const handler = handlers.get(name);
  return handler ? handler(req) : notFound(name);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, async () => {
    await server.shutdown();
    Deno.exit(0);
  });
}
