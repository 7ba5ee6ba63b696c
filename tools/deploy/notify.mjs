// The deploy workflow's last word: one Slack-compatible message ({"text": …}, accepted by Slack,
// Mattermost, Rocket.Chat and Discord's /slack endpoint) saying what was deployed where, and
// either that every stage passed or the first stage that did not. Plain Node without
// dependencies, so it still runs when an earlier job could not install anything.
//
// Env: DEPLOY_WEBHOOK_URL (no URL: prints the message and says it was not sent), ENVIRONMENT,
// VERSION, RUN_URL, WEB_URL, and the stage results QUALITY, SECURITY, MIGRATE, DEPLOY (job
// results: success | failure | cancelled | skipped) plus FUNCTIONS, WEB, SMOKE, LIGHTHOUSE (step
// outcomes inside the deploy job; empty when the job never ran).
import { pathToFileURL } from 'node:url';

/** In pipeline order; the first one that did not succeed is the one the message names. */
export const STAGES = [
  { key: 'QUALITY', label: 'quality checks (lint, types, tests)' },
  { key: 'SECURITY', label: 'security checks (audit, secret scan, tenancy tests)' },
  { key: 'MIGRATE', label: 'database migration' },
  { key: 'FUNCTIONS', label: 'edge functions deploy' },
  { key: 'WEB', label: 'web deploy' },
  // From here on the new version is already serving: the message says so.
  { key: 'SMOKE', label: 'smoke test', live: true },
  { key: 'LIGHTHOUSE', label: 'Lighthouse budgets', live: true },
  { key: 'DEPLOY', label: 'deploy job' },
];

/**
 * @param {Record<string, string | undefined>} env
 * @returns {{ ok: boolean, text: string }}
 */
export function deploymentMessage(env) {
  const where = env.ENVIRONMENT || 'an unknown environment';
  const what = env.VERSION || 'an unknown version';
  const run = env.RUN_URL ? ` <${env.RUN_URL}|run log>` : '';
  // A step that was skipped on purpose (Lighthouse on staging) is not a failure; a stage that was
  // skipped because an earlier one failed is reported through that earlier one.
  const broken = STAGES.find(({ key }) => env[key] === 'failure' || env[key] === 'cancelled');
  if (broken) {
    const how = env[broken.key] === 'cancelled' ? 'was cancelled at' : 'failed at';
    if (broken.live)
      return {
        ok: false,
        text: `:x: ${what} is live on ${where}, but the ${broken.label} ${env[broken.key] === 'cancelled' ? 'was cancelled' : 'failed'}.${run}`,
      };
    return { ok: false, text: `:x: Deploy of ${what} to ${where} ${how} the ${broken.label}.${run}` };
  }
  const required = ['QUALITY', 'SECURITY', 'MIGRATE', 'DEPLOY'];
  const unfinished = required.filter((key) => env[key] !== 'success');
  if (unfinished.length) {
    return {
      ok: false,
      text: `:warning: Deploy of ${what} to ${where} did not finish (${unfinished.map((k) => `${k.toLowerCase()}: ${env[k] || 'not run'}`).join(', ')}).${run}`,
    };
  }
  const checks = [
    env.SMOKE === 'success' ? 'smoke test passed' : null,
    env.LIGHTHOUSE === 'success' ? 'Lighthouse within budget' : null,
  ].filter(Boolean);
  const web = env.WEB_URL ? ` ${env.WEB_URL}` : '';
  return { ok: true, text: `:white_check_mark: ${what} is live on ${where}${web}${checks.length ? ` (${checks.join(', ')})` : ''}.${run}` };
}

/**
 * @param {string} url
 * @param {{ text: string }} payload
 * @param {typeof fetch} [fetchFn]
 */
export async function postMessage(url, payload, fetchFn = fetch) {
  const res = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
  await res.body?.cancel();
}

async function main() {
  const message = deploymentMessage(process.env);
  console.log(message.text);
  const url = process.env.DEPLOY_WEBHOOK_URL;
  if (!url) {
    console.log('notify: DEPLOY_WEBHOOK_URL is not set; nothing sent');
    return;
  }
  await postMessage(url, { text: message.text });
  console.log('notify: sent');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    // The webhook URL is a secret: report the failure without it.
    console.error(`notify: ${err.message}`);
    process.exit(1);
  });
}
