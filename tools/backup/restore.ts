// `npm run restore -- <backups/X.dump | X.manifest.json> [--target NAME] [--db-url URL]`: restores
// an off-site backup into a NEW database of the same server (never over an existing one), then
// verifies every table's row count and sha256 against the manifest and prints a verdict. Exits
// non-zero when the dump's own sha256 or any table differs. Roles are cluster-wide, so the
// platform roles the dump's grants name already exist; owners are kept (security definer
// functions must keep theirs).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import postgres from 'postgres';
import { databaseUrl, option, pgToolConnection, progress, redact, runPgTool, sha256File, timestamp, withDatabase } from './cli.ts';
import {
  compare,
  fingerprint,
  listTables,
  Manifest,
  pinOutputSettings,
  SINGLE_DATABASE_EXTENSIONS,
  type TableFingerprint,
} from './manifest.ts';

export interface Verdict {
  ok: boolean;
  target: string;
  checked: number;
  skipped: string[];
  problems: string[];
  seconds: number;
}

function readManifest(file: string): { manifest: Manifest; dumpPath: string } {
  const path = resolve(file);
  const manifestPath = path.endsWith('.manifest.json') ? path : path.replace(/\.dump$/, '.manifest.json');
  const manifest = Manifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  return { manifest, dumpPath: join(dirname(manifestPath), manifest.dump_file) };
}

/** pg_restore's table of contents without the objects of single-database extensions (pg_cron). */
export function restorableToc(dumpPath: string, tocPath: string): number {
  const toc = execFileSync('pg_restore', ['--list', dumpPath], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const lines = toc.split('\n');
  const kept = lines.filter(
    (line) =>
      !SINGLE_DATABASE_EXTENSIONS.some(
        (ext) =>
          new RegExp(`\\b(EXTENSION - ${ext}|EXTENSION ${ext})\\b`).test(line) ||
          / (TABLE|TABLE DATA|SEQUENCE|SEQUENCE SET|INDEX|CONSTRAINT|FK CONSTRAINT|POLICY|ACL) cron /.test(line),
      ),
  );
  writeFileSync(tocPath, kept.join('\n'));
  return lines.length - kept.length;
}

export async function restore(args: string[]): Promise<Verdict> {
  const file = args.find((a, i) => !a.startsWith('--') && !['--target', '--db-url'].includes(args[i - 1] ?? ''));
  if (!file) throw new Error('usage: npm run restore -- <backups/<timestamp>.dump> [--target NAME] [--db-url URL]');
  const started = Date.now();
  const url = databaseUrl(args);
  const target = option(args, '--target') ?? `restore_${timestamp()}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(target)) throw new Error(`--target must be a plain database name, got ${target}`);
  const { manifest, dumpPath } = readManifest(file);

  progress(`checking ${dumpPath}`);
  const dumpSha = await sha256File(dumpPath);
  if (dumpSha !== manifest.dump_sha256) {
    return {
      ok: false,
      target,
      checked: 0,
      skipped: [],
      problems: [`dump file sha256 ${dumpSha} differs from the manifest (${manifest.dump_sha256})`],
      seconds: (Date.now() - started) / 1000,
    };
  }

  const admin = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const exists = await admin`select 1 from pg_database where datname = ${target}`;
    if (exists.length) throw new Error(`database ${target} exists already; restore only creates new databases`);
    await admin.unsafe(`create database ${target}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const targetUrl = withDatabase(url, target);
  progress(`created database ${target}; pg_restore into ${redact(targetUrl)}:`);

  const tocPath = join(dirname(dumpPath), `.${target}.toc`);
  const removed = restorableToc(dumpPath, tocPath);
  if (removed > 0)
    progress(
      `  skipping ${removed} entries of ${SINGLE_DATABASE_EXTENSIONS.join(', ')} (lives only in the database cron.database_name names)`,
    );
  const conn = pgToolConnection(targetUrl);
  const result = await runPgTool(
    'pg_restore',
    ['--verbose', '--exit-on-error', `--use-list=${tocPath}`, `--dbname=${conn.dbname}`, dumpPath],
    conn.env,
  );
  rmSync(tocPath, { force: true });
  if (result.code !== 0) {
    return {
      ok: false,
      target,
      checked: 0,
      skipped: [],
      problems: [`pg_restore failed (exit ${result.code}): ${result.errors.join(' | ')}`],
      seconds: (Date.now() - started) / 1000,
    };
  }

  progress('verifying against the manifest:');
  const sql = postgres(targetUrl, { max: 1, prepare: false, onnotice: () => {} });
  let actual: TableFingerprint[];
  try {
    actual = await sql.begin('isolation level repeatable read read only', async (tx) => {
      await pinOutputSettings(tx);
      const out: TableFingerprint[] = [];
      for (const table of await listTables(tx)) {
        const fp = await fingerprint(tx, table);
        const want = manifest.tables.find((t) => t.table === fp.table);
        progress(`  ${want && want.sha256 === fp.sha256 && want.rows === fp.rows ? 'ok  ' : 'DIFF'} ${fp.table} (${fp.rows} rows)`);
        out.push(fp);
      }
      return out;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
  const comparison = compare(manifest.tables, actual, manifest.not_restorable_elsewhere);
  return {
    ok: comparison.ok,
    target,
    checked: comparison.checked,
    skipped: manifest.not_restorable_elsewhere,
    problems: comparison.problems,
    seconds: (Date.now() - started) / 1000,
  };
}

/** Prints the verdict (`VERDICT: OK - …` or `VERDICT: FAILED - …` with the problems). */
export function reportVerdict(verdict: Verdict): void {
  const rows = verdict.ok ? `all ${verdict.checked} tables match the manifest` : `${verdict.problems.length} problem(s)`;
  console.log(`VERDICT: ${verdict.ok ? 'OK' : 'FAILED'} - database ${verdict.target}: ${rows} (${verdict.seconds.toFixed(1)} s)`);
  for (const p of verdict.problems) console.log(`  - ${p}`);
  if (verdict.skipped.length) console.log(`  skipped (single-database extension tables): ${verdict.skipped.join(', ')}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  restore(process.argv.slice(2)).then(
    (verdict) => {
      reportVerdict(verdict);
      process.exit(verdict.ok ? 0 : 1);
    },
    (err: unknown) => {
      console.error(`restore failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    },
  );
}
