// `npm test -- lint` runs this: fails, listing each one, when a function in the edge functions or
// the local stack is longer than MAX_FUNCTION_LINES. Long functions there hide the steps a reader
// (and a test) needs to see; tests and migrations are not checked.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatLongFunctions, judge, longFunctions, MAX_FUNCTION_LINES } from './function-length/scan.ts';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * Functions allowed over the limit, by `path:name`. Keep this short and say why for each:
 * an entry is debt with a reason to wait, not a permission.
 */
const KNOWN_LONG_FUNCTIONS = new Set<string>([]);

/** Tracked files only: build output, data directories and scratch files are not ours to judge. */
function checkedFiles(): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '-z', '--', ':(glob)supabase/functions/**/*.ts', ':(glob)local/**/*.ts', ':(glob)local/**/*.mjs'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return out.split('\0').filter(Boolean);
}

const found = checkedFiles().flatMap((file) => longFunctions(file, readFileSync(resolve(ROOT, file), 'utf8')));
const { over, stale } = judge(found, KNOWN_LONG_FUNCTIONS);

if (over.length > 0) {
  console.error(`✖ ${over.length} function(s) over ${MAX_FUNCTION_LINES} lines (split them into named steps):`);
  console.error(formatLongFunctions(over));
}
if (stale.length > 0) {
  console.error(
    `✖ known exceptions that no longer match a long function: drop them from KNOWN_LONG_FUNCTIONS in tools/function-length.ts:\n${stale.join('\n')}`,
  );
}
if (over.length > 0 || stale.length > 0) process.exit(1);
console.log(
  `✔ no function over ${MAX_FUNCTION_LINES} lines in supabase/functions and local (${KNOWN_LONG_FUNCTIONS.size} known exception(s))`,
);
