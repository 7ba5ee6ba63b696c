// Proves that two sets of migrations build the same database: each set runs on a fresh cluster
// (platform SQL first, then `supabase migration up`, as every local stack does), and the schema
// dump plus the rows the migrations seed are normalised and diffed. Written to check the one-time
// re-cut of the migrations against the history it replaced; useful for any reorganisation.
//
//   npm run schema:compare -- [--before <git ref|dir>] [--after <git ref|dir>] [--keep <dir>]
//
// A side is a git ref (its supabase/ tree), a directory of migrations (with the working tree's
// config), or, when --after is omitted, the working tree.
// --before defaults to HEAD. The cluster belongs to the profile's own compare data dir
// (.local/<profile>-schema-compare, port CCE_PORT_BASE+5) and is destroyed after each side, so
// the profile's stack is never touched. Exit code 0 only when both sides are identical.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { profile, ROOT, type Profile } from '../local/profile.ts';
import { destroyCluster, initCluster, startCluster } from '../local/stack/cluster.ts';
import { adminSql, applyPlatformSql } from '../local/stack/db-setup.ts';

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A throwaway cluster next to the profile's, on a port the profile's stack never uses. */
export function compareProfile(base = profile()): Profile {
  const name = `${base.name}-schema-compare`;
  const dataRoot = resolve(ROOT, '.local', name);
  const port = base.ports.gateway + 5;
  return {
    ...base,
    name,
    dataRoot,
    pgData: resolve(dataRoot, 'pgdata'),
    envFile: resolve(dataRoot, 'stack.env'),
    ports: { ...base.ports, postgres: port },
    dbUrl: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
  };
}

/**
 * A directory holding supabase/ (config, templates, migrations) of a git ref or of the working
 * tree; a side that names a directory takes its migrations from there (a re-cut being written).
 */
function workdirFor(ref: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'schema-compare-'));
  if (ref === undefined || isDirectory(ref)) {
    // The CLI reads config.toml and the files it names (e-mail templates); functions are not needed.
    const functions = resolve(ROOT, 'supabase', 'functions');
    cpSync(resolve(ROOT, 'supabase'), join(dir, 'supabase'), { recursive: true, filter: (src) => !src.startsWith(functions) });
    if (ref !== undefined) {
      rmSync(join(dir, 'supabase', 'migrations'), { recursive: true, force: true });
      cpSync(ref, join(dir, 'supabase', 'migrations'), { recursive: true });
    }
    return dir;
  }
  const tar = execFileSync('git', ['-C', ROOT, 'archive', ref, 'supabase', ':(exclude)supabase/functions'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  return dir;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function migrate(p: Profile, workdir: string) {
  const bin = resolve(ROOT, 'node_modules', '.bin', 'supabase');
  const r = spawnSync(bin, ['migration', 'up', '--include-all', '--workdir', workdir, '--db-url', `${p.dbUrl}?sslmode=disable`], {
    encoding: 'utf8',
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  if (r.status !== 0) throw new Error(`supabase migration up failed:\n${r.stdout}\n${r.stderr}`);
}

function pgDump(p: Profile, args: string[]): string {
  return execFileSync(resolve(PG_BIN, 'pg_dump'), ['--dbname', p.dbUrl, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
}

/**
 * pg_dump orders objects by type and name, but ties and dependency fixes can follow creation
 * order, which a re-cut changes on purpose: the dump is cut at its `-- Name:` headers and the
 * blocks sorted. Everything inside a block (column order, bodies, grants) is compared as is.
 */
export function normaliseDump(dump: string): string {
  const blocks = dump
    .split(/\n(?=--\n-- (?:Name|Data for Name): )/)
    .map((b) => b.replace(/^--\n-- PostgreSQL database dump.*$/m, '').trim())
    .filter((b) => b.length > 0 && !/^-- Dumped (from|by)/m.test(b.split('\n')[0] ?? ''));
  return blocks
    .map((b) =>
      sortCopyRows(
        b
          // pg_dump 15.14+ fences a dump with \restrict <random key>.
          .replace(/^\\(un)?restrict .*$/gm, '')
          .replace(/^-- Dumped (from|by) .*$/gm, '')
          .replace(/\n{3,}/g, '\n\n')
          .trim(),
      ),
    )
    .sort()
    .join('\n\n');
}

/** Seeded rows carry the time the migration ran (defaults of now()) and follow insert order. */
function sortCopyRows(block: string): string {
  return block.replace(/(^COPY .* FROM stdin;\n)([\s\S]*?)(^\\\.$)/m, (_all, head: string, rows: string, end: string) => {
    const lines = rows
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00/g, '<now>'))
      .sort();
    return `${head}${lines.join('\n')}\n${end}`;
  });
}

/** What pg_dump leaves out or cannot compare as is: cron jobs (ids follow creation order), Vault
 * secret names (values are random), and role-level settings and memberships. */
async function catalogueRows(p: Profile): Promise<string> {
  const sql = adminSql(p);
  try {
    const sections: [string, readonly unknown[]][] = [
      ['cron.job', await sql`select jobname, schedule, command, database, username, active from cron.job order by jobname`],
      ['vault.secrets', await sql`select name, description from vault.secrets order by name`],
      [
        'roles',
        await sql`select rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolbypassrls, rolconfig
                           from pg_roles where rolname not like 'pg\_%' order by rolname`,
      ],
      [
        'role memberships',
        await sql`select r.rolname as role, m.rolname as member from pg_auth_members a
                                      join pg_roles r on r.oid = a.roleid join pg_roles m on m.oid = a.member
                                      where r.rolname not like 'pg\_%' order by 1, 2`,
      ],
      [
        'database settings',
        await sql`select coalesce(r.rolname, '*') as role, s.setconfig from pg_db_role_setting s
                                       left join pg_roles r on r.oid = s.setrole order by 1`,
      ],
    ];
    return sections.map(([name, rows]) => `-- ${name}\n${rows.map((r) => JSON.stringify(r)).join('\n')}`).join('\n\n');
  } finally {
    await sql.end();
  }
}

/** Everything a set of migrations produces, normalised for comparison. */
export async function buildAndDump(p: Profile, ref: string | undefined): Promise<string> {
  const workdir = workdirFor(ref);
  try {
    destroyCluster(p);
    initCluster(p);
    // pg_cron would run the every-minute jobs while the migrations run and the dump is taken, and
    // their rows (alerts, logs, roll-up marks) would differ by timing alone. pg_cron 1.4 has no
    // switch that stops them (cron.max_running_jobs = 0 does not), so its connections go nowhere:
    // a job fails before it runs, recorded only in cron's own tables, which are not compared.
    appendFileSync(resolve(p.pgData, 'postgresql.auto.conf'), `cron.host = '${resolve(p.dataRoot, 'no-cron')}'\n`);
    startCluster(p);
    await applyPlatformSql(p);
    migrate(p, workdir);
    // The history table differs by design; Vault values and cron ids are compared via catalogueRows.
    const schema = pgDump(p, ['--schema-only', '--exclude-schema=supabase_migrations']);
    const data = pgDump(p, [
      '--data-only',
      '--exclude-schema=supabase_migrations',
      '--exclude-table-data=cron.*',
      '--exclude-table-data=vault.*',
    ]);
    return [normaliseDump(schema), normaliseDump(data), await catalogueRows(p)].join('\n\n-- ==== \n\n');
  } finally {
    destroyCluster(p);
    rmSync(workdir, { recursive: true, force: true });
  }
}

async function main() {
  const { values } = parseArgs({
    options: { before: { type: 'string', default: 'HEAD' }, after: { type: 'string' }, keep: { type: 'string' } },
  });
  const p = compareProfile();
  const before = await buildAndDump(p, values.before);
  const after = await buildAndDump(p, values.after);
  const out = values.keep ?? mkdtempSync(join(tmpdir(), 'schema-compare-out-'));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'before.sql'), before);
  writeFileSync(join(out, 'after.sql'), after);
  const diff = spawnSync('diff', ['-u', join(out, 'before.sql'), join(out, 'after.sql')], { encoding: 'utf8' });
  const label = `${values.before} vs ${values.after ?? 'working tree'}`;
  if (diff.status === 0) {
    console.log(`schema-compare: identical (${label}; ${before.split('\n').length} normalised lines; dumps in ${out})`);
  } else {
    process.stdout.write(diff.stdout);
    console.log(`schema-compare: DIFFERENT (${label}; dumps in ${out})`);
  }
  process.exitCode = diff.status === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
