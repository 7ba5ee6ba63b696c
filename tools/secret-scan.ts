// Secret scan of the repository with secretlint (recommended preset plus our own kinds: Google API
// keys, OAuth client secrets, Supabase secret keys, RevID keys; config .secretlintrc.yaml): every
// file git tracks or would track (`git ls-files -co --exclude-standard`), so node_modules, build
// output and local stacks are never read. With --history, also every version of every file in
// the git history (each distinct blob once): a secret committed and deleted later is still
// published. The security job of the deploy workflow and `npm test`
// (tests/unit/delivery-secret-scan.test.ts; the history in CI) run it; findings print masked.
//   node --import tsx tools/secret-scan.ts [--cwd <dir>] [--history]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const SECRETLINT = resolve(ROOT, 'node_modules/.bin/secretlint');

export interface ScanResult {
  files: number;
  /** secretlint's exit code: 0 clean, 1 findings, 2 it could not run. */
  code: number;
  output: string;
}

function git(cwd: string, args: string[], input?: string): Buffer {
  const r = spawnSync('git', args, { cwd, input, maxBuffer: 1024 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args[0]} failed in ${cwd}: ${r.stderr.toString().trim()}`);
  return r.stdout;
}

export function repositoryFiles(cwd: string): string[] {
  const listed = git(cwd, ['ls-files', '-z', '-co', '--exclude-standard']).toString('utf8');
  // Files deleted from the work tree but still in the index are listed too; there is nothing to read.
  return listed.split('\0').filter((f) => f !== '' && existsSync(resolve(cwd, f)));
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

/** Every distinct file version reachable from any ref: blob id and one path it had. */
export function historyBlobs(cwd: string): { blob: string; path: string }[] {
  const objects = git(cwd, ['rev-list', '--objects', '--all']).toString('utf8').split('\n');
  const named = new Map<string, string>();
  for (const line of objects) {
    const space = line.indexOf(' ');
    if (space > 0 && !named.has(line.slice(0, space))) named.set(line.slice(0, space), line.slice(space + 1));
  }
  const kinds = git(
    cwd,
    ['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'],
    [...named.keys()].join('\n') + '\n',
  ).toString('utf8');
  return (
    kinds
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      // Lock files and other large generated files are what secretlint skips anyway; 5 MB bounds it.
      .filter(([, type, size]) => type === 'blob' && Number(size) < 5 * 1024 * 1024)
      .map(([blob]) => ({ blob, path: named.get(blob)! }))
  );
}

/** Scans every version of every file in the history, written out under their paths. */
export function scanHistory(cwd: string): ScanResult {
  const dir = mkdtempSync(join(tmpdir(), 'secret-scan-history-'));
  try {
    const blobs = historyBlobs(cwd);
    // One `git cat-file --batch` for all: "<id> blob <size>\n<bytes>\n" per blob, in order.
    const batch = git(cwd, ['cat-file', '--batch'], blobs.map((b) => b.blob).join('\n') + '\n');
    const files: string[] = [];
    let at = 0;
    for (const { blob, path } of blobs) {
      const headerEnd = batch.indexOf(0x0a, at);
      const size = Number(batch.subarray(at, headerEnd).toString('utf8').split(' ')[2]);
      const content = batch.subarray(headerEnd + 1, headerEnd + 1 + size);
      at = headerEnd + 1 + size + 1;
      // The blob id keeps two versions of one path apart and names the version in a finding.
      const file = join(blob.slice(0, 2), blob.slice(2), path);
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), content);
      files.push(file);
    }
    return scanFiles(dir, files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { cwd: { type: 'string' }, history: { type: 'boolean' } }, strict: true });
  const cwd = resolve(values.cwd ?? ROOT);
  const result = values.history ? scanHistory(cwd) : scanFiles(cwd, repositoryFiles(cwd));
  if (result.output) console.log(result.output);
  console.log(
    `secret scan: ${result.files} file(s), ${result.code === 0 ? 'no secrets found' : result.code === 1 ? 'SECRETS FOUND' : `secretlint failed (exit ${result.code})`}`,
  );
  process.exit(result.code === 0 ? 0 : 1);
}
