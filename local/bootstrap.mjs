// Entry point of `npm start`, `npm test` and friends. Plain Node with no dependencies, because it
// runs before node_modules exists: it installs what is missing (npm packages when the lock file
// changed, Debian packages that are not installed), then hands over to the TypeScript command.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COMMANDS = {
  start: 'local/commands/start.ts',
  stop: 'local/commands/stop.ts',
  'db:reset': 'local/commands/db-reset.ts',
  test: 'tests/run.ts',
};

const DEBIAN_PACKAGES = [
  'postgresql-15',
  'postgresql-contrib',
  'postgresql-15-cron',
  'postgresql-15-pgtap',
  'libtap-parser-sourcehandler-pgtap-perl',
  // Makes the per-data-dir CA and the certificate the fakes serve HTTPS with.
  'openssl',
];
// The browser is only needed where browser tests run.
const TEST_DEBIAN_PACKAGES = ['chromium'];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.status !== 0) {
    console.error(`bootstrap: "${cmd} ${args.join(' ')}" failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function missingDebianPackages(names) {
  return names.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

export function ensureDebianPackages(names) {
  const missing = missingDebianPackages(names);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`bootstrap: missing Debian packages ${missing.join(' ')}; install them as root: apt-get install ${missing.join(' ')}`);
    process.exit(1);
  }
  console.log(`bootstrap: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

// Only the lock file: it changes whenever the installed packages do (its root entry mirrors
// package.json's dependencies), while edits to scripts must not trigger a reinstall.
function lockHash(dir) {
  return createHash('sha256')
    .update(readFileSync(resolve(dir, 'package-lock.json')))
    .digest('hex');
}

// The root (stack, tests, tools) and the web app each have their own lock file.
export function ensureNodeModules() {
  for (const dir of [ROOT, resolve(ROOT, 'web')]) {
    if (!existsSync(resolve(dir, 'package-lock.json'))) continue;
    const stamp = resolve(dir, 'node_modules', '.cce-installed');
    const want = lockHash(dir);
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) continue;
    console.log(`bootstrap: installing npm packages in ${dir === ROOT ? '.' : 'web/'} (node_modules missing or stale)`);
    run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
    writeFileSync(stamp, want);
  }
}

// The stacks' ports (bench 53321, dev 54321, test 55321, restart 56321, each base + 0..24) lie in
// Linux's ephemeral range, so any client socket may get one as its local port; while it sits in
// TIME_WAIT (60 s) nobody can listen there, and a stack start fails with "port in use". Reserving
// them keeps the kernel from handing them out. Best effort: where /proc/sys is read-only the
// start still checks every port and names a busy one.
const STACK_PORT_RANGES = [53321, 54321, 55321, 56321].map((base) => [base, base + 24]);
const RESERVED_PORTS = '/proc/sys/net/ipv4/ip_local_reserved_ports';

export function reserveStackPorts() {
  let current;
  try {
    current = readFileSync(RESERVED_PORTS, 'utf8').trim();
  } catch {
    return;
  }
  const reserved = current ? current.split(',').map((r) => r.split('-').map(Number)) : [];
  const covered = ([lo, hi]) => reserved.some(([a, b = a]) => a <= lo && hi <= b);
  const missing = STACK_PORT_RANGES.filter((r) => !covered(r));
  if (missing.length === 0) return;
  const wanted = [current, ...missing.map(([lo, hi]) => `${lo}-${hi}`)].filter(Boolean).join(',');
  try {
    writeFileSync(RESERVED_PORTS, wanted);
  } catch (err) {
    console.log(
      `bootstrap: could not reserve the stack ports from the ephemeral range (${err.code ?? err.message}); a start may rarely find a port busy for up to a minute`,
    );
  }
}

const command = process.argv[2];
const entry = COMMANDS[command];
if (!entry) {
  console.error(`usage: node local/bootstrap.mjs <${Object.keys(COMMANDS).join('|')}> [args]`);
  process.exit(2);
}
ensureDebianPackages(command === 'test' ? [...DEBIAN_PACKAGES, ...TEST_DEBIAN_PACKAGES] : DEBIAN_PACKAGES);
ensureNodeModules();
reserveStackPorts();
const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, entry), ...process.argv.slice(3)], {
  stdio: 'inherit',
  cwd: ROOT,
});
// A SIGTERM sent to this pid must reach the command so that it can stop what it started.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
