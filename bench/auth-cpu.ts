// Per-request CPU of caller verification in the edge runtime (its /_runtime/invocations figures):
// the same user token repeated (a client's normal traffic), a new token on every request, and
// service calls with the secret key. Against a running stack: `set -a; . .local/<profile>/stack.env`
// then `node --import tsx bench/auth-cpu.ts [label]`; prints one JSON line.
import { edgeCosts, stats } from './lib.ts';

const env = process.env;
const url = env.SUPABASE_URL!;
const publicKey = env.SUPABASE_PUBLISHABLE_KEY || env.SUPABASE_ANON_KEY!;
const serviceKey = env.SUPABASE_SECRET_KEY || env.SUPABASE_SERVICE_ROLE_KEY!;
const costs = edgeCosts(env.LOCAL_FUNCTIONS_URL!);
const N = Number(process.argv[3] ?? 60);

async function signIn(): Promise<string> {
  const res = await fetch(`${url}/auth/v1/token?grant_type=password`, {
    method: 'POST',
    headers: { apikey: publicKey, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'demo@example.com', password: 'demo-password' }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function get(path: string, headers: Record<string, string>) {
  const res = await fetch(`${url}/functions/v1/${path}`, { headers });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
}

async function measure(fn: string, op: () => Promise<void>) {
  const inv = (await costs.during(op)).filter((i) => i.fn === fn && i.isolate_request > 3);
  const cpu = stats(inv.map((i) => i.cpu_ms));
  return { n: inv.length, cpu_ms_p50: cpu.p50, cpu_ms_p95: cpu.p95, cpu_ms_mean: Math.round((inv.reduce((a, i) => a + i.cpu_ms, 0) / Math.max(1, inv.length)) * 100) / 100 };
}

const token = await signIn();
// warm every isolate the function may use
for (let i = 0; i < 20; i++) await get('workspaces', { apikey: publicKey, Authorization: `Bearer ${token}` });
const tokens: string[] = [];
for (let i = 0; i < N; i++) tokens.push(await signIn());

const sameToken = await measure('workspaces', async () => {
  for (let i = 0; i < N; i++) await get('workspaces', { apikey: publicKey, Authorization: `Bearer ${token}` });
});
const newToken = await measure('workspaces', async () => {
  for (const t of tokens) await get('workspaces', { apikey: publicKey, Authorization: `Bearer ${t}` });
});
const health = await measure('health', async () => {
  for (let i = 0; i < 20; i++) await get('health', { apikey: serviceKey });
  for (let i = 0; i < N; i++) await get('health', { apikey: serviceKey });
});
console.log(JSON.stringify({ label: process.argv[2] ?? 'run', same_token: sameToken, new_token_each_request: newToken, secret_key_health: health }));
