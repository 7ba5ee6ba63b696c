// `npm start`: the whole local stack in the foreground, until Ctrl-C or SIGTERM.
import { profile } from '../profile.ts';
import { integrationBanner } from '../stack/byok.ts';
import { alive, readState, startStack } from '../stack/lifecycle.ts';
import { startDemoLoopOnce } from '../demo/once.ts';

const p = profile();
const existing = readState(p);
if (existing && alive(existing.supervisor)) {
  console.error(`The ${p.name} stack is already running (pid ${existing.supervisor}). Stop it with: npm run stop`);
  process.exit(1);
}

const t0 = performance.now();
let stack: Awaited<ReturnType<typeof startStack>> | undefined;
let shuttingDown = false;

async function shutdown(code: number, reason?: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (reason) console.error(`\n✖ ${reason}`);
  console.log('Stopping the local stack…');
  await stack?.stop();
  console.log('Stopped.');
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void shutdown(0));

try {
  stack = await startStack(p, { onFatal: (reason) => void shutdown(1, reason) });
} catch (err) {
  console.error(`✖ the stack did not start: ${(err as Error).message}`);
  process.exit(1);
}
const e = stack.env;
const seconds = ((performance.now() - t0) / 1000).toFixed(1);
console.log(`
Content Catalyst Engine — local stack "${p.name}" is up (${seconds} s)

  Web app       ${e.WEB_URL}
  API gateway   ${e.SUPABASE_URL}        (auth: /auth/v1, functions: /functions/v1/<name>)
  Health        ${e.SUPABASE_URL}/functions/v1/health
  Mail inbox    ${e.LOCAL_MAIL_URL}        (every email the stack sends; SMTP on ${e.LOCAL_SMTP_HOST}:${e.LOCAL_SMTP_PORT})
  Postgres      ${e.SUPABASE_DB_URL}
  Fakes         ${e.LOCAL_FAKES_URL}       (YouTube, Google OAuth, Gemini, RevID; faults at /_control)
  Fakes' CA     ${e.NODE_EXTRA_CA_CERTS}  (HTTPS; trust it with NODE_EXTRA_CA_CERTS / DENO_CERT / curl --cacert)
  Edge runtime  ${e.LOCAL_FUNCTIONS_URL}        (${process.env.CCE_EDGE_LIMITS === 'off' ? 'hosted limits OFF: measured only' : 'hosted limits on: 2 s CPU, 256 MB, 150 s'}; costs at /_runtime/invocations)

${apiKeyLines(e)}

${integrationBanner(e)}

  Demo login    demo@example.com / demo-password
  Env file      ${p.envFile}${p.name === 'dev' ? ' (also .env.local)' : ''}
  Logs          ${p.dataRoot}/logs/

Ctrl-C stops everything.`);
startDemoLoopOnce(p, e);

/** The keys this stack's project has (CCE_API_KEYS), new ones first. */
function apiKeyLines(env: Record<string, string>): string {
  const lines = [
    ['publishable key', env.SUPABASE_PUBLISHABLE_KEY],
    ['secret key', env.SUPABASE_SECRET_KEY],
    ['anon key (legacy)', env.SUPABASE_ANON_KEY],
    ['service_role key (legacy)', env.SUPABASE_SERVICE_ROLE_KEY],
  ].filter(([, v]) => v);
  return lines.map(([k, v]) => `  ${k.padEnd(26)}${v}`).join('\n');
}

if (process.env.CCE_READY_FILE) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.CCE_READY_FILE, JSON.stringify({ env: e, timings: stack.timings, seconds: Number(seconds) }));
}
