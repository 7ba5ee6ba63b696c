// A scheduled backup workflow's alarm: one Slack-compatible message ({"text": …}) to
// ALERT_WEBHOOK_URL saying which job failed, with a link to its log. Plain Node without
// dependencies (the deploy notifier's sender), so it still runs when `npm ci` was what failed.
// Usage: node tools/backup/notify-failure.mjs "<what failed>"; env ALERT_WEBHOOK_URL, RUN_URL.
import { pathToFileURL } from 'node:url';
import { postMessage } from '../deploy/notify.mjs';

/** @param {string} what @param {string | undefined} runUrl */
export function failureMessage(what, runUrl) {
  return { text: `:x: ${what} failed.${runUrl ? ` <${runUrl}|run log>` : ''}` };
}

async function main() {
  const message = failureMessage(process.argv[2] || 'A scheduled backup job', process.env.RUN_URL);
  console.log(message.text);
  const url = process.env.ALERT_WEBHOOK_URL;
  if (!url) {
    // The run is already red; a missing webhook must not hide why.
    console.log('notify: ALERT_WEBHOOK_URL is not set; nothing sent');
    return;
  }
  await postMessage(url, message);
  console.log('notify: sent');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    // The webhook URL is a secret: report the failure without it.
    console.error(`notify: ${err.message}`);
    process.exit(1);
  });
}
