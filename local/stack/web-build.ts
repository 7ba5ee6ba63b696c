// The web app is served as a static build, as a CDN would in production. It is rebuilt only
// when its sources changed since the last build (hash of every source file).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../profile.ts';

const WEB = resolve(ROOT, 'web');
const INPUTS = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package-lock.json', 'tsconfig.json'];

function hashTree(h: ReturnType<typeof createHash>, path: string) {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) hashTree(h, join(path, name));
  } else {
    h.update(path.slice(WEB.length));
    h.update(readFileSync(path));
  }
}

export function webSourceHash(): string {
  const h = createHash('sha256');
  for (const input of INPUTS) hashTree(h, resolve(WEB, input));
  return h.digest('hex');
}

/** Builds web/build when missing or stale; returns whether it built now. */
export function ensureWebBuild(): boolean {
  if (!existsSync(resolve(WEB, 'package.json'))) return false;
  const stamp = resolve(WEB, 'build', '.source-hash');
  const want = webSourceHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return false;
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: WEB, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`web build failed:\n${r.stdout}\n${r.stderr}`);
  writeFileSync(stamp, want);
  return true;
}
