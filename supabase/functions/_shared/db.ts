// Postgres access for functions. A user's request runs in a transaction with `role
// authenticated` and `request.jwt.claims` set, exactly as PostgREST does, so row-level security
// decides what the user may see and change; product code never filters by tenant itself.
import postgres from 'postgres';
import { env } from './env.ts';
import type { Claims } from './auth.ts';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

let client: Sql | undefined;

export function sql(): Sql {
  // prepare: false because production goes through Supavisor's transaction pooler.
  client ??= postgres(env().SUPABASE_DB_URL, {
    prepare: false,
    max: env().DB_POOL_MAX,
    idle_timeout: 20,
    connect_timeout: 5,
    onnotice: () => {},
  });
  return client;
}

export async function asUser<T>(claims: Claims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return (await sql().begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    return fn(tx);
  })) as T;
}

/** Trusted work (workers, webhooks): the service role, which bypasses RLS. */
export async function asService<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  return (await sql().begin(async (tx) => {
    await tx`select set_config('role', 'service_role', true), set_config('request.jwt.claims', ${JSON.stringify({ role: 'service_role' })}, true)`;
    return fn(tx);
  })) as T;
}

export async function closeDb() {
  const c = client;
  client = undefined;
  await c?.end({ timeout: 5 });
}
