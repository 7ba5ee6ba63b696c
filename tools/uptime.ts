// `npm run uptime -- --url <project url> --state <file>`: one run of the external uptime monitor.
// It asks the project what the post-deploy smoke test asks (health, sign-in with the smoke user,
// an authenticated function, security headers, an anonymous call refused, sign-out;
// tools/smoke/checks.ts), appends the result to the state file, and after --threshold failed
// runs in a row posts one alert to the webhook, and one recovery notice when it answers again
// (tools/uptime/state.ts). Nothing here depends on the monitored project: the scheduled
// workflow .github/workflows/uptime.yml keeps the state file on a branch of its own.
//
//   --state <file>       the state file (created when missing)          required
//   --name <name>        what the messages call the target               default: the URL's host
//   --threshold <n>      failed runs in a row before the alert           default 2
//   --webhook <url>      Slack-compatible webhook ({"text": …})          env UPTIME_WEBHOOK_URL (none: printed only)
//   plus the smoke test's --url, --anon-key, --email, --password, --web-url (tools/smoke.ts)
//
// Exit code: 0 when the target is up, 1 when a check failed, 2 for bad options or a state or
// webhook problem that needs a person.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { postMessage } from './deploy/notify.mjs';
import { SMOKE_FLAGS, smokeTarget } from './smoke.ts';
import { runSmoke } from './smoke/checks.ts';
import { afterRun, loadState, notified, type RunRecord, type UptimeState } from './uptime/state.ts';

const UPTIME_FLAGS = {
  state: { type: 'string' },
  name: { type: 'string' },
  threshold: { type: 'string' },
  webhook: { type: 'string' },
} as const;

const Options = z.object({
  state: z.string({ error: 'give --state <file>: where the monitor keeps what it saw' }).min(1),
  name: z.string().trim().min(1).max(100).optional(),
  threshold: z.coerce.number().int().min(1).max(100).default(2),
  webhook: z.url({ protocol: /^https?$/, error: '--webhook (or UPTIME_WEBHOOK_URL) must be an http(s) URL' }).optional(),
});

/** The monitor's own flags and the smoke test's, parsed together. */
export function parseUptimeArgs(argv: string[], env: Record<string, string | undefined>) {
  const { values } = parseArgs({ args: argv, options: { ...UPTIME_FLAGS, ...SMOKE_FLAGS }, strict: true });
  const set = (name: string) => (env[name] === '' ? undefined : env[name]);
  const parsed = Options.safeParse({
    state: values.state,
    name: values.name,
    threshold: values.threshold,
    webhook: values.webhook ?? set('UPTIME_WEBHOOK_URL'),
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  return { ...parsed.data, target: smokeTarget(values, env) };
}

function readState(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

/** Written whole, then renamed: a run killed mid-write leaves the previous state. */
function writeState(file: string, state: UptimeState) {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

async function main() {
  let o;
  try {
    o = parseUptimeArgs(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`uptime: ${(err as Error).message}`);
    process.exit(2);
  }
  const name = o.name ?? new URL(o.target.url).host;
  const started = Date.now();
  const results = await runSmoke({ ...o.target, waitMs: 0 });
  const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
  const run: RunRecord = { at: new Date(started).toISOString(), ok: failed.length === 0, ms: Date.now() - started, failed };
  const { state, notify } = afterRun(loadState(readState(o.state), name), run, o.threshold);
  let saved = state;
  let exit = run.ok ? 0 : 1;
  if (notify) {
    if (o.webhook) {
      try {
        await postMessage(o.webhook, { text: notify.text });
        saved = notified(state, notify);
        console.log(`uptime: ${notify.kind} sent`);
      } catch (err) {
        // Not recorded as sent: the next run tries again.
        console.error(`uptime: the ${notify.kind} could not be delivered (${(err as Error).message}); the next run sends it again`);
        exit = 2;
      }
    } else {
      console.log(`uptime: ${notify.kind} (no webhook configured): ${notify.text}`);
      saved = notified(state, notify);
    }
  }
  writeState(o.state, saved);
  console.log(
    `uptime: ${name} ${run.ok ? 'up' : 'DOWN'} (${run.ms} ms${run.ok ? '' : `; ${failed.join('; ')}`}); ${saved.consecutive_failures} failed run(s) in a row${saved.alerting ? ', alerting' : ''}`,
  );
  process.exit(exit);
}

if (import.meta.filename === process.argv[1]) await main();
