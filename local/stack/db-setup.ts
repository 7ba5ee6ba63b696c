// Brings a running cluster to the state hosted Supabase would be in: platform SQL (what the
// Supabase image provides), Vault secrets that pg_cron jobs read, the project's migrations via
// the real Supabase CLI, and the demo seed on first run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { ROOT, type Profile } from '../profile.ts';

const PLATFORM_DIR = resolve(ROOT, 'local', 'platform');

export function adminSql(p: Profile) {
  return postgres(p.dbUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
}

export async function applyPlatformSql(p: Profile) {
  const sql = adminSql(p);
  try {
    for (const file of readdirSync(PLATFORM_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      await sql.unsafe(readFileSync(resolve(PLATFORM_DIR, file), 'utf8'));
    }
  } finally {
    await sql.end();
  }
}

/** Secrets pg_cron jobs need to call functions; set idempotently, as the deploy workflow does. */
export async function setVaultSecrets(p: Profile, secrets: Record<string, string>) {
  const sql = adminSql(p);
  try {
    for (const [name, value] of Object.entries(secrets)) {
      const [row] = await sql`select id from vault.secrets where name = ${name}`;
      if (row) await sql`select vault.update_secret(${row.id}::uuid, ${value})`;
      else await sql`select vault.create_secret(${value}, ${name})`;
    }
  } finally {
    await sql.end();
  }
}

/**
 * Applies pending migrations. --include-all: a local database that already ran a migration from
 * one branch also takes ones merged from other branches with earlier timestamps (the CLI refuses
 * them otherwise). `supabase db push` in the deploy does not pass it, so production still stops
 * and asks a person when a merge brings a migration older than one already deployed.
 */
export function runMigrations(p: Profile) {
  const bin = resolve(ROOT, 'node_modules', '.bin', 'supabase');
  const r = spawnSync(bin, ['migration', 'up', '--include-all', '--workdir', ROOT, '--db-url', `${p.dbUrl}?sslmode=disable`], {
    encoding: 'utf8',
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  if (r.status !== 0) throw new Error(`supabase migration up failed:\n${r.stdout}\n${r.stderr}${staleHistoryHint(p, r.stderr)}`);
  return `${r.stdout}${r.stderr}`.trim();
}

/**
 * The migrations were re-cut once before the first deploy, so a local database built from the
 * old files has a history the directory no longer holds. The CLI then suggests `migration repair`
 * and `db pull`, which would be wrong here: such a database is rebuilt instead.
 */
function staleHistoryHint(p: Profile, stderr: string): string {
  if (!stderr.includes('migration repair')) return '';
  const how = p.name === 'dev' ? '`npm run db:reset`' : `stopping its stack and removing ${p.pgData}`;
  return `\nThis database ran migrations that are no longer in supabase/migrations (they were re-cut); rebuild it: ${how}.`;
}

function seedMarker(p: Profile) {
  return resolve(p.dataRoot, 'seeded');
}

/** Applies supabase/seed.sql once per data dir; returns whether it ran now. */
export async function seedOnce(p: Profile): Promise<boolean> {
  const seedFile = resolve(ROOT, 'supabase', 'seed.sql');
  if (existsSync(seedMarker(p)) || !existsSync(seedFile)) return false;
  const sql = adminSql(p);
  try {
    await sql.unsafe(readFileSync(seedFile, 'utf8'));
  } finally {
    await sql.end();
  }
  writeFileSync(seedMarker(p), new Date().toISOString());
  return true;
}
