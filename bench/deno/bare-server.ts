// The baseline of bench/workspaces-throughput: the least a Deno function that touches Postgres
// as a user can do — Deno.serve, one postgres.js transaction with set_config + select 1.
import postgres from 'postgres';

const sql = postgres(Deno.env.get('SUPABASE_DB_URL')!, { prepare: false, max: 10, onnotice: () => {} });
const claims = JSON.stringify({ sub: '00000000-0000-4000-8000-000000000001', role: 'authenticated' });
const port = Number(Deno.env.get('BARE_PORT'));

Deno.serve({ port, hostname: '127.0.0.1', onListen: () => console.log(`bare: listening on ${port}`) }, async () => {
  const [row] = await sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
    return tx`select 1 as one`;
  });
  return Response.json(row);
});
