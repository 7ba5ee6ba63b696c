// The manifest of an off-site backup: per table row count and sha256 of the table's rows (their
// text forms, one per line, ordered by primary key), computed inside the snapshot the dump was taken
// from, so dump and manifest describe the same instant. The same function verifies a restore.
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import { z } from 'zod';

export const TableFingerprint = z.strictObject({
  table: z.string(),
  rows: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TableFingerprint = z.infer<typeof TableFingerprint>;

export const Manifest = z.strictObject({
  format: z.literal('cce-backup/1'),
  created_at: z.string(),
  database: z.string(),
  server_version: z.string(),
  dump_file: z.string(),
  dump_bytes: z.number().int().positive(),
  dump_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  tables: z.array(TableFingerprint),
  // tables the dump holds but that cannot be restored into another database of the same cluster
  not_restorable_elsewhere: z.array(z.string()),
});
export type Manifest = z.infer<typeof Manifest>;

// Extensions whose objects only exist in the one database they are configured for (pg_cron:
// cron.database_name), so a restore into a new database of the same cluster skips them.
export const SINGLE_DATABASE_EXTENSIONS = ['pg_cron'];

interface TableInfo {
  name: string;
  order_by: string;
  extension: string | null;
}

/** User tables (not system catalogs, not extension-internal tables unless the extension dumps them). */
export async function listTables(tx: postgres.TransactionSql | postgres.Sql): Promise<TableInfo[]> {
  return await tx<TableInfo[]>`
    select format('%I.%I', n.nspname, c.relname) as name,
      coalesce((select string_agg(format('%I', a.attname), ', ' order by k.ord)
                from pg_index i cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
                join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                where i.indrelid = c.oid and i.indisprimary), 't::text collate "C"') as order_by,
      (select e.extname from pg_depend d join pg_extension e on e.oid = d.refobjid
       where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e') as extension
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relispartition and c.relpersistence <> 't'
      and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
      and (not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
           or exists (select 1 from pg_extension e where c.oid = any (e.extconfig)))
    order by 1`;
}

/** Settings that make COPY text output identical on any server: same data, same bytes. */
export async function pinOutputSettings(tx: postgres.TransactionSql): Promise<void> {
  await tx`select set_config('timezone', 'UTC', true), set_config('datestyle', 'ISO, YMD', true),
    set_config('intervalstyle', 'postgres', true), set_config('extra_float_digits', '1', true),
    set_config('bytea_output', 'hex', true)`;
}

export async function fingerprint(tx: postgres.TransactionSql, table: TableInfo): Promise<TableFingerprint> {
  const hash = createHash('sha256');
  let rows = 0;
  const cursor = tx.unsafe<{ r: string }[]>(`select t::text as r from ${table.name} t order by ${table.order_by}`).cursor(5000);
  for await (const batch of cursor) {
    for (const { r } of batch) hash.update(`${r}\n`);
    rows += batch.length;
  }
  return { table: table.name, rows, sha256: hash.digest('hex') };
}

export interface Comparison {
  ok: boolean;
  problems: string[];
  checked: number;
}

export function compare(expected: TableFingerprint[], actual: TableFingerprint[], skip: string[]): Comparison {
  const got = new Map(actual.map((t) => [t.table, t]));
  const problems: string[] = [];
  let checked = 0;
  for (const want of expected) {
    if (skip.includes(want.table)) continue;
    const have = got.get(want.table);
    checked++;
    if (!have) problems.push(`${want.table}: missing in the restored database`);
    else if (have.rows !== want.rows) problems.push(`${want.table}: ${have.rows} rows, manifest says ${want.rows}`);
    else if (have.sha256 !== want.sha256) problems.push(`${want.table}: sha256 differs from the manifest`);
  }
  return { ok: problems.length === 0, problems, checked };
}
