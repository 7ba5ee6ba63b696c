// The code formatter: Prettier with the repository's style (prettier.config.js; Svelte through
// web/prettier.config.js) over FORMAT_SCOPE, skipping what .prettierignore lists.
//   npm run format            rewrites the files in scope
//   npm run format -- --check lists the files that differ and exits 1 (the lint suite of npm test)
// Prettier and its Svelte plugin are dependencies of web/ (the plugin needs the app's Svelte
// compiler); the binary formats files anywhere, each with the config nearest to it.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
export const PRETTIER = resolve(ROOT, 'web/node_modules/.bin/prettier');

/**
 * What the formatter covers: the whole web app (as before), and every TypeScript and JavaScript
 * file we write elsewhere. SQL is Squawk's (tools/sql-lint.ts); JSON, YAML, HTML email templates
 * and prose outside web/ keep their hand-made layout (a template's whitespace is what mail
 * clients render). Generated files are in .prettierignore.
 */
export const FORMAT_SCOPE = [
  'web',
  '*.{js,mjs,cjs,ts}',
  '{supabase/functions,local,tools,bench,tests,scripts,.ci}/**/*.{js,mjs,cjs,ts,mts,cts}',
];

export interface FormatResult {
  code: number;
  output: string;
}

/** Runs Prettier over `paths` (relative to cwd): `check` only reports, otherwise it rewrites. */
export function runPrettier(paths: string[], options: { check: boolean; cwd?: string }): FormatResult {
  const r = spawnSync(PRETTIER, [options.check ? '--check' : '--write', '--log-level', options.check ? 'warn' : 'log', ...paths], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  const result = runPrettier(FORMAT_SCOPE, { check: values.check });
  process.stdout.write(result.output);
  if (values.check) {
    console.log(
      result.code === 0 ? `format: ${FORMAT_SCOPE.join(', ')} formatted` : 'format: run `npm run format` to fix the files listed',
    );
  }
  process.exit(result.code);
}
