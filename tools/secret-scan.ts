// Secret scan of the repository with secretlint (recommended preset, config .secretlintrc.yaml):
// every file git tracks or would track (`git ls-files -co --exclude-standard`), so node_modules,
// build output and local stacks are never read. The security job of the deploy workflow and
// `npm test` (tests/unit/secret-scan.test.ts) run it; findings print masked.
//   node --import tsx tools/secret-scan.ts [--cwd <dir>]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const SECRETLINT = resolve(ROOT, 'node_modules/.bin/secretlint');

export interface ScanResult {
  files: number;
  /** secretlint's exit code: 0 clean, 1 findings, 2 it could not run. */
  code: number;
  output: string;
}

export function repositoryFiles(cwd: string): string[] {
  const git = spawnSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (git.status !== 0) throw new Error(`git ls-files failed in ${cwd}: ${git.stderr.trim()}`);
  // Files deleted from the work tree but still in the index are listed too; there is nothing to read.
  return git.stdout.split('\0').filter((f) => f !== '' && existsSync(resolve(cwd, f)));
}

/** Scans the given files (paths relative to cwd) with the repository's secretlint config. */
export function scanFiles(cwd: string, files: string[], config = resolve(ROOT, '.secretlintrc.yaml')): ScanResult {
  if (files.length === 0) return { files: 0, code: 0, output: '' };
  const r = spawnSync(SECRETLINT, ['--no-glob', '--no-color', '--format', 'unix', '--secretlintrc', config, ...files], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { files: files.length, code: r.status ?? 2, output: `${r.stdout}${r.stderr}`.trim() };
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { cwd: { type: 'string' } }, strict: true });
  const cwd = resolve(values.cwd ?? ROOT);
  const result = scanFiles(cwd, repositoryFiles(cwd));
  if (result.output) console.log(result.output);
  console.log(`secret scan: ${result.files} file(s), ${result.code === 0 ? 'no secrets found' : result.code === 1 ? 'SECRETS FOUND' : `secretlint failed (exit ${result.code})`}`);
  process.exit(result.code === 0 ? 0 : 1);
}
