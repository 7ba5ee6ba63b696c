// GET /functions/v1/workspaces through the gateway at 50 connections, against a bare Deno.serve
// that runs one postgres.js transaction (set_config + select 1) per request, measured with wrk
// in the same run. Targets: ≥ 50 % of the bare throughput, p99 ≤ 50 ms.
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../local/profile.ts';
import { startStack } from '../local/stack/lifecycle.ts';
import { DENO_ENV, denoBin } from '../local/deno.ts';
import { benchProfile, writeResult } from './lib.ts';
import { createConfirmedUser, ROOMY_AUTH_LIMITS } from '../tests/unit/helpers/auth-users.ts';

const DURATION = process.env.BENCH_DURATION ?? '10s';
const CONNECTIONS = 50;

if (spawnSync('which', ['wrk']).status !== 0) {
  console.log('installing wrk (Debian package) for the load generator');
  spawnSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'inherit' });
}

// Rate limiting is measured by its own benchmark; here one user sends thousands of requests.
process.env.ENABLE_RATE_LIMITING = 'false';
const p = benchProfile();
const stack = await startStack(p, { echo: false, serviceEnv: ROOMY_AUTH_LIMITS, onFatal: (r) => console.error(r) });
const env = stack.env;

function wrk(url: string, headers: Record<string, string>) {
  const args = [
    '-t2',
    `-c${CONNECTIONS}`,
    `-d${DURATION}`,
    '--latency',
    ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    url,
  ];
  const out = spawnSync('wrk', args, { encoding: 'utf8' }).stdout;
  const ms = (label: string) => {
    const m = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? 'none';
  return {
    requests_per_s: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50_ms: ms('50'),
    p90_ms: ms('90'),
    p99_ms: ms('99'),
    non_2xx: non2xx,
    socket_errors: errors,
  };
}

let bare: ReturnType<typeof spawn> | undefined;
try {
  const email = `bench-${Date.now()}@example.com`;
  const user = await createConfirmedUser(
    { url: env.SUPABASE_URL, anonKey: env.SUPABASE_ANON_KEY, serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY },
    email,
    'bench-password',
  );
  const token = user.accessToken;
  const ours = `${env.SUPABASE_URL}/functions/v1/workspaces`;
  const check = await fetch(ours, { headers: { authorization: `Bearer ${token}` } });
  if (check.status !== 200) throw new Error(`workspaces answered ${check.status}: ${await check.text()}`);
  await check.body?.cancel();

  const barePort = p.ports.gateway + 20;
  bare = spawn(
    denoBin(),
    ['run', '-A', '--frozen', '--config', resolve(ROOT, 'supabase/functions/deno.json'), resolve(ROOT, 'bench/deno/bare-server.ts')],
    {
      env: { ...process.env, ...DENO_ENV, SUPABASE_DB_URL: env.SUPABASE_DB_URL, BARE_PORT: String(barePort) },
      stdio: 'ignore',
    },
  );
  const bareUrl = `http://127.0.0.1:${barePort}/`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(bareUrl).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // Warm both, then alternate bare / ours / bare so drift on the shared machine shows.
  wrk(bareUrl, {});
  wrk(ours, { authorization: `Bearer ${token}` });
  const bare1 = wrk(bareUrl, {});
  const gateway = wrk(ours, { authorization: `Bearer ${token}`, apikey: env.SUPABASE_ANON_KEY });
  const bare2 = wrk(bareUrl, {});
  const bareRps = (bare1.requests_per_s + bare2.requests_per_s) / 2;
  const ratio = Math.round((gateway.requests_per_s / bareRps) * 1000) / 1000;
  writeResult('workspaces-throughput', {
    connections: CONNECTIONS,
    duration: DURATION,
    bare_deno_postgres: { first: bare1, second: bare2 },
    workspaces_through_gateway: gateway,
    throughput_ratio: ratio,
    targets: { throughput_ratio: '>= 0.5', p99_ms: '<= 50' },
    pass: ratio >= 0.5 && gateway.p99_ms <= 50 && gateway.non_2xx === 0,
  });
} finally {
  bare?.kill('SIGTERM');
  await stack.stop();
}
