// The auth emulator's database pool. It lives as long as the stack, through Postgres restarts.
import postgres from 'postgres';
import type { Pool, Sql } from './users.ts';

/**
 * No array-type lookup (fetch_types): postgres.js sends that query on every new connection from
 * its socket handler without awaiting it, so a connection reset while it runs (a Postgres
 * restart) rejects it with nobody to catch it, and the unhandled rejection ends the process. No
 * auth column is an array, and lists go in through textArray.
 */
export function openAuthDatabase(dbUrl: string): Pool {
  return postgres(dbUrl, { max: 10, idle_timeout: 30, connect_timeout: 10, fetch_types: false, onnotice: () => {} });
}

/**
 * A text[] built from one JSON parameter. Without the array types, postgres.js would send a list
 * bound as text[] as its comma-joined string ("a,b", or "" for none), which Postgres refuses.
 */
export function textArray(sql: Sql, items: readonly string[]) {
  return sql`array(select jsonb_array_elements_text(${sql.json([...items])}))`;
}
