// The Deno every part of the project runs on: the npm `deno` devDependency, pinned to the version
// the hosted Supabase edge runtime reports (README, "Deno version").
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { ROOT } from './profile.ts';

const EXE = process.platform === 'win32' ? 'deno.exe' : 'deno';

/** The npm package's name for this machine's binary (as the package's own installer names it). */
function platformPackage(): string {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  return process.platform === 'linux' ? `@deno/linux-${arch}-glibc` : `@deno/${process.platform}-${arch}`;
}

/**
 * The native deno executable, never `node_modules/.bin/deno`: for some versions (2.1.x) that is a
 * Node script that runs deno with spawnSync and does not pass signals on, so stopping it would
 * leave deno (and the port it holds) running.
 */
export function denoBin(): string {
  const pkg = resolve(ROOT, 'node_modules', 'deno');
  // The package's install script hard-links the binary here; without install scripts it stays in
  // the platform package.
  const linked = resolve(pkg, EXE);
  if (existsSync(linked)) return linked;
  const require = createRequire(resolve(pkg, 'package.json'));
  return resolve(dirname(require.resolve(`${platformPackage()}/package.json`)), EXE);
}

/**
 * Environment every deno process needs. Deno 2.1 trusts only its bundled Mozilla roots by default;
 * with `system` it also trusts the machine's CA store, as npm and Node do, so `npm:` imports are
 * fetched through the same TLS setup (a proxy's or a mirror's CA) that installed node_modules.
 */
export const DENO_ENV: Readonly<Record<string, string>> = {
  DENO_TLS_CA_STORE: process.env.DENO_TLS_CA_STORE ?? 'system',
};

/** V8 flags as one `deno run` argument (none when there are none). */
export function v8FlagsArg(flags: readonly string[]): string[] {
  return flags.length > 0 ? [`--v8-flags=${flags.join(',')}`] : [];
}
