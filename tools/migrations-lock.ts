// Committed migrations are immutable: editing one after it ran somewhere leaves that database
// different from a fresh one, and `supabase db push` never runs it again. supabase/migrations.lock.json
// holds the SHA-256 of every migration; the lint suite of npm test fails when a listed file changed
// or disappeared, or when a migration is not listed (`npm run migrations:lock` lists new ones and
// never rewrites a listed hash: a change to what ran goes in a new migration).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
export const MIGRATIONS_DIR = 'supabase/migrations';
export const LOCK_FILE = 'supabase/migrations.lock.json';

export type Lock = Record<string, string>;

const MIGRATION = /^\d{14}_.+\.sql$/;

export function hashMigrations(dir: string): Lock {
  const lock: Lock = {};
  for (const name of readdirSync(dir)
    .filter((n) => MIGRATION.test(n))
    .sort()) {
    lock[name] = createHash('sha256')
      .update(readFileSync(join(dir, name)))
      .digest('hex');
  }
  return lock;
}

export interface LockProblems {
  changed: string[];
  missing: string[];
  unlisted: string[];
}

export function checkLock(current: Lock, lock: Lock): LockProblems {
  const names = Object.keys(lock);
  return {
    changed: names.filter((n) => n in current && current[n] !== lock[n]),
    missing: names.filter((n) => !(n in current)),
    unlisted: Object.keys(current).filter((n) => !(n in lock)),
  };
}

/** The lock with the unlisted migrations added; listed hashes are kept as they are. */
export function extendLock(current: Lock, lock: Lock): Lock {
  const next: Lock = { ...lock };
  for (const [name, hash] of Object.entries(current)) if (!(name in next)) next[name] = hash;
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
}

export function readLock(path: string): Lock {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Lock) : {};
}

function main() {
  const { values } = parseArgs({ options: { write: { type: 'boolean', default: false } } });
  const lockPath = resolve(ROOT, LOCK_FILE);
  const current = hashMigrations(resolve(ROOT, MIGRATIONS_DIR));
  const lock = readLock(lockPath);
  const problems = checkLock(current, lock);
  if (values.write && problems.unlisted.length > 0) {
    writeFileSync(lockPath, `${JSON.stringify(extendLock(current, lock), null, 2)}\n`);
    console.log(`migrations-lock: listed ${problems.unlisted.join(', ')}`);
    problems.unlisted = [];
  }
  for (const n of problems.changed)
    console.log(`migrations-lock: ${n} changed after it was committed; undo the edit and put the change in a new migration`);
  for (const n of problems.missing) console.log(`migrations-lock: ${n} is listed but gone; committed migrations are never removed`);
  for (const n of problems.unlisted) console.log(`migrations-lock: ${n} is not listed; run \`npm run migrations:lock\``);
  const bad = problems.changed.length + problems.missing.length + problems.unlisted.length;
  if (bad === 0) console.log(`migrations-lock: ${Object.keys(current).length} migrations match the lock`);
  process.exitCode = bad === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
