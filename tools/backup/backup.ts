// `npm run backup [-- --db-url URL] [--out DIR]`: an off-site backup of the whole database.
// pg_dump (custom format) runs inside an exported REPEATABLE READ snapshot while the same
// transaction fingerprints every table, so the manifest describes exactly what the dump holds.
// Writes backups/<timestamp>.dump and backups/<timestamp>.manifest.json; prints the manifest path.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import postgres from 'postgres';
import { ROOT } from '../../local/profile.ts';
import { databaseUrl, option, pgToolConnection, progress, redact, runPgTool, sha256File, timestamp } from './cli.ts';
import {
  fingerprint,
  listTables,
  pinOutputSettings,
  SINGLE_DATABASE_EXTENSIONS,
  type Manifest,
  type TableFingerprint,
} from './manifest.ts';

export async function backup(args: string[]): Promise<string> {
  const url = databaseUrl(args);
  const outDir = resolve(option(args, '--out') ?? join(ROOT, 'backups'));
  mkdirSync(outDir, { recursive: true });
  const stamp = timestamp();
  const dumpPath = join(outDir, `${stamp}.dump`);
  const manifestPath = join(outDir, `${stamp}.manifest.json`);
  const started = Date.now();
  progress(`backup of ${redact(url)} -> ${dumpPath}`);

  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const { tables, serverVersion, database, skipped } = await sql.begin('isolation level repeatable read read only', async (tx) => {
      const [{ snapshot, server_version, db }] = await tx<{ snapshot: string; server_version: string; db: string }[]>`
        select pg_export_snapshot() as snapshot, current_setting('server_version') as server_version, current_database() as db`;
      const conn = pgToolConnection(url);
      progress(`pg_dump (snapshot ${snapshot}):`);
      const dump = runPgTool(
        'pg_dump',
        ['--format=custom', '--verbose', `--snapshot=${snapshot}`, `--file=${dumpPath}`, `--dbname=${conn.dbname}`],
        conn.env,
      );
      await pinOutputSettings(tx);
      const list = await listTables(tx);
      const fingerprints: TableFingerprint[] = [];
      for (const table of list) fingerprints.push(await fingerprint(tx, table));
      const result = await dump;
      if (result.code !== 0) throw new Error(`pg_dump failed (exit ${result.code}): ${result.errors.join(' | ')}`);
      const notRestorable = list.filter((t) => t.extension && SINGLE_DATABASE_EXTENSIONS.includes(t.extension)).map((t) => t.name);
      return { tables: fingerprints, serverVersion: server_version, database: db, skipped: notRestorable };
    });
    progress(`fingerprinted ${tables.length} tables (${tables.reduce((n, t) => n + t.rows, 0)} rows)`);
    const manifest: Manifest = {
      format: 'cce-backup/1',
      created_at: new Date(started).toISOString(),
      database,
      server_version: serverVersion,
      dump_file: basename(dumpPath),
      dump_bytes: statSync(dumpPath).size,
      dump_sha256: await sha256File(dumpPath),
      tables,
      not_restorable_elsewhere: skipped,
    };
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${manifest.dump_bytes} bytes, sha256 ${manifest.dump_sha256}`);
    return manifestPath;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  backup(process.argv.slice(2)).then(
    (manifestPath) => console.log(manifestPath),
    (err: unknown) => {
      console.error(`backup failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
