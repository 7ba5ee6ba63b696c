// `npm run bench [-- name ...]`: runs bench/<name>.bench.ts (all of them without names), one
// process each, in sequence so they do not compete for the two cores. Results: bench/results/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../local/profile.ts';
import { ensureStackTls } from '../local/stack/tls.ts';
import { benchProfile } from './lib.ts';

const all = readdirSync(resolve(ROOT, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''));
const names = process.argv.slice(2).length ? process.argv.slice(2) : all;
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
// Benchmarks talk to the fakes over HTTPS, and Node reads the CA it trusts only at start-up: each
// one starts trusting the CA of the stack it will use (the one its env names, else its own).
const namedStack = process.env.SUPABASE_URL && process.env.LOCAL_FAKES_URL && process.env.NODE_EXTRA_CA_CERTS;
const env = { ...process.env, NODE_EXTRA_CA_CERTS: namedStack ? process.env.NODE_EXTRA_CA_CERTS : ensureStackTls(benchProfile()).caFile };
let failed = 0;
for (const name of names) {
  console.log(`\n━━ bench ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'bench', `${name}.bench.ts`)], {
    stdio: 'inherit',
    cwd: ROOT,
    env,
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
