// Lints new migrations with Squawk (a maintained PostgreSQL migration linter; rules and why in
// .squawk.toml): `node --import tsx tools/sql-lint.ts`, run by the lint suite of npm test.
// Committed migrations are immutable (editing one breaks every database it was applied to), so
// only migrations after LINTED_AFTER are checked; a finding that is intended is silenced in the
// file with `-- squawk-ignore <rule>` and a comment saying why.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SQUAWK = resolve(ROOT, 'node_modules/.bin/squawk');
export const MIGRATIONS = 'supabase/migrations';

/**
 * The last file of the one-time re-cut of the migrations: it and everything older is never linted.
 * The re-cut rebuilt exactly the schema the history had built (proved with `npm run
 * schema:compare`), including what Squawk would flag today (seven bigserial ids, prefer-identity).
 */
export const LINTED_AFTER = '20261201001800';

/** Migration files (`<14-digit timestamp>_<topic>.sql`) newer than `after`, oldest first. */
export function newMigrations(dir: string, after = LINTED_AFTER): string[] {
  return readdirSync(dir)
    .filter((name) => /^\d{14}_.+\.sql$/.test(name) && name.slice(0, 14) > after)
    .sort();
}

export interface LintResult {
  files: string[];
  code: number;
  output: string;
}

/** Lints the migrations of `dir` (relative to cwd) newer than `after` with the repository's config. */
export function lintNewMigrations(options: { cwd?: string; dir?: string; after?: string } = {}): LintResult {
  const cwd = options.cwd ?? ROOT;
  const dir = options.dir ?? MIGRATIONS;
  const files = newMigrations(resolve(cwd, dir), options.after).map((name) => join(dir, name));
  if (files.length === 0) return { files, code: 0, output: '' };
  const r = spawnSync(SQUAWK, ['--config', resolve(ROOT, '.squawk.toml'), '--reporter', 'gcc', ...files], { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { files, code: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

if (import.meta.filename === process.argv[1]) {
  const result = lintNewMigrations();
  process.stdout.write(result.output);
  if (result.files.length === 0) console.log(`sql-lint: no migration after ${LINTED_AFTER}`);
  else console.log(`sql-lint: ${result.files.length} new migration(s) ${result.code === 0 ? 'clean' : 'with findings'}`);
  process.exit(result.code);
}
