// One edge function in a process of its own, as hosted Supabase deploys it (and as the strict
// local runtime runs it): what bench/invocations.ts measures when the functions runtime does not
// report per-invocation figures itself, so a function's CPU and memory are not mixed with the
// other functions' of the shared local functions server.
// Usage: deno run -A --config supabase/functions/deno.json bench/deno/single-function.ts <name> <port>
const [name, port] = Deno.args;
const { default: handler } = await import(new URL(`../../supabase/functions/${name}/handler.ts`, import.meta.url).href);
Deno.serve({ port: Number(port), hostname: '127.0.0.1', onListen: () => console.log(`${name}: listening on ${port}`) }, handler);
