// RLS cost: a member's select on a 100,000-row tenant table through RLS, against the same rows
// read as service_role (no RLS) with the tenant filter written by hand. Target: ratio < 1.5.
import postgres from 'postgres';
import { benchDatabase, stats, writeResult } from './lib.ts';

const ROWS = 100_000;
const WORKSPACES = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);

const p = await benchDatabase();
const sql = postgres(p.dbUrl, { max: 1, onnotice: () => {} });

// Fixture: WORKSPACES owners, each with ROWS / WORKSPACES invitations (invitations are a tenant
// table with an owner-only policy, the strictest the schema has).
await sql`delete from auth.users where email like 'rls-bench-%'`;
await sql`
  insert into auth.users (id, email, aud, role, raw_app_meta_data, raw_user_meta_data)
  select gen_random_uuid(), 'rls-bench-' || i || '@example.com', 'authenticated', 'authenticated', '{}', '{}'
  from generate_series(1, ${WORKSPACES}) i`;
const owners = await sql`
  select u.id as user_id, u.email, m.workspace_id from auth.users u
  join public.workspace_members m on m.user_id = u.id
  where u.email like 'rls-bench-%' order by u.email`;
await sql`
  insert into public.invitations (workspace_id, email, role, token_hash, invited_by)
  select o.workspace_id, 'guest-' || o.n || '-' || g || '@example.com', 'viewer',
    encode(extensions.digest(o.n || '-' || g, 'sha256'), 'hex'), o.user_id
  from (select workspace_id, user_id, row_number() over () as n from public.workspace_members m
        join auth.users u on u.id = m.user_id where u.email like 'rls-bench-%') o,
    generate_series(1, ${ROWS / WORKSPACES}) g`;
await sql`analyze public.invitations`;
const [{ total }] = await sql`select count(*)::int as total from public.invitations`;

const member = owners[Math.floor(WORKSPACES / 2)];
const claims = JSON.stringify({ sub: member.user_id, role: 'authenticated', email: member.email });

async function timed(fn: () => Promise<unknown>) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const asMember = () =>
  sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
    return tx`select id, email, role, created_at from public.invitations order by created_at desc limit 1000`;
  });
const asService = () =>
  sql.begin(async (tx) => {
    await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true)`;
    return tx`select id, email, role, created_at from public.invitations where workspace_id = ${member.workspace_id} order by created_at desc limit 1000`;
  });

const [a, b] = [await asMember(), await asService()];
if (a.length !== b.length || a.length !== ROWS / WORKSPACES) throw new Error(`row counts differ: rls ${a.length}, service ${b.length}`);

const rls: number[] = [];
const service: number[] = [];
for (let i = 0; i < 20; i++) await Promise.all([timed(asMember), timed(asService)]);
for (let i = 0; i < ROUNDS; i++) {
  // Alternate so both see the same machine noise.
  rls.push(await timed(asMember));
  service.push(await timed(asService));
}
const r = stats(rls);
const s = stats(service);
writeResult('rls-select', {
  table_rows: total,
  rows_returned: a.length,
  rounds: ROUNDS,
  rls_member_ms: r,
  service_role_ms: s,
  ratio_p50: Math.round((r.p50 / s.p50) * 100) / 100,
  ratio_p95: Math.round((r.p95 / s.p95) * 100) / 100,
  target: 'ratio < 1.5',
  pass: r.p50 / s.p50 < 1.5,
});
await sql`delete from auth.users where email like 'rls-bench-%'`;
await sql.end();
