// Our own Postgres 15 cluster per profile: created with initdb, run by pg_ctl as the `postgres`
// OS user (Postgres refuses root), never the system cluster.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Profile } from '../profile.ts';

const PG_BIN = '/usr/lib/postgresql/15/bin';

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function asPostgres(bin: string, args: string[], opts: { allowFail?: boolean } = {}) {
  const cmd = process.getuid?.() === 0 ? 'runuser' : resolve(PG_BIN, bin);
  const full = process.getuid?.() === 0 ? ['-u', 'postgres', '--', resolve(PG_BIN, bin), ...args] : args;
  const r = spawnSync(cmd, full, { encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${bin} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

export function socketDir(p: Profile) {
  return resolve(p.dataRoot, 'sock');
}

export function logFile(p: Profile) {
  return resolve(p.dataRoot, 'logs', 'postgres.log');
}

/** Creates the cluster if its data dir is empty; returns true when it was created now. */
export function initCluster(p: Profile): boolean {
  if (existsSync(resolve(p.pgData, 'PG_VERSION'))) return false;
  const { uid, gid } = postgresIds();
  for (const dir of [p.dataRoot, resolve(p.dataRoot, 'logs'), socketDir(p)]) {
    mkdirSync(dir, { recursive: true });
  }
  // The postgres user must be able to walk into the data root and write its socket and log.
  for (const dir of [socketDir(p), resolve(p.dataRoot, 'logs')]) chownSync(dir, uid, gid);
  rmSync(p.pgData, { recursive: true, force: true });
  mkdirSync(p.pgData, { recursive: true, mode: 0o700 });
  chownSync(p.pgData, uid, gid);
  const pwFile = resolve(p.dataRoot, 'logs', '.pw');
  writeFileSync(pwFile, 'postgres\n');
  chownSync(pwFile, uid, gid);
  try {
    asPostgres('initdb', [
      '-D',
      p.pgData,
      '-U',
      'postgres',
      `--pwfile=${pwFile}`,
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
    ]);
  } finally {
    rmSync(pwFile, { force: true });
  }
  writeFileSync(
    resolve(p.pgData, 'postgresql.auto.conf'),
    [
      `port = ${p.ports.postgres}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${socketDir(p)}'`,
      `shared_preload_libraries = 'pg_cron,pg_stat_statements'`,
      `cron.database_name = 'postgres'`,
      // pg_cron connects over the socket; trust there keeps jobs running without a stored password.
      `cron.host = '${socketDir(p)}'`,
      `pg_stat_statements.track = all`,
      '',
    ].join('\n'),
  );
  chownSync(resolve(p.pgData, 'postgresql.auto.conf'), uid, gid);
  return true;
}

export function isRunning(p: Profile): boolean {
  if (!existsSync(resolve(p.pgData, 'PG_VERSION'))) return false;
  return asPostgres('pg_ctl', ['-D', p.pgData, 'status'], { allowFail: true }).status === 0;
}

// Slow statements are logged, but never with their bind parameters: those carry OAuth tokens,
// token ciphertexts and passwords. Given on the command line, so clusters created before this
// setting existed get it on their next start too, and no session but a superuser's can change it.
export const LOG_SETTINGS: Record<string, string> = {
  log_min_duration_statement: '1000',
  log_parameter_max_length: '0',
  log_parameter_max_length_on_error: '0',
};

// Hosted functions reach Postgres through Supavisor, which multiplexes every isolate's pool onto a
// few server connections; the local stack has no pooler, so every isolate's pool (up to
// DB_POOL_MAX each, several isolates per busy function, a spare booted for each) connects
// directly. 200 ran out in the test suite ("too many clients already") once the browser tests'
// isolates were still alive when the adversarial walk started isolates of every function.
export const CONNECTION_SETTINGS: Record<string, string> = {
  max_connections: '500',
};

export function startCluster(p: Profile): void {
  if (isRunning(p)) return;
  const options = Object.entries({ ...LOG_SETTINGS, ...CONNECTION_SETTINGS })
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ');
  asPostgres('pg_ctl', ['-D', p.pgData, '-l', logFile(p), '-o', options, '-w', '-t', '60', 'start']);
}

export function stopCluster(p: Profile): void {
  if (!isRunning(p)) return;
  asPostgres('pg_ctl', ['-D', p.pgData, '-m', 'fast', '-w', '-t', '60', 'stop'], { allowFail: true });
}

export function destroyCluster(p: Profile): void {
  stopCluster(p);
  rmSync(p.pgData, { recursive: true, force: true });
}
