// `node --import tsx local/mail/main.ts`: the local mail catcher, a real SMTP server on
// LOCAL_SMTP_PORT and its web inbox and JSON API on LOCAL_MAIL_PORT, keeping messages in
// LOCAL_MAIL_DIR. It stands in for the inbox of anyone the stack writes to.
import { z } from 'zod';
import { startMailCatcher } from './catcher.ts';

const Env = z.object({
  LOCAL_MAIL_PORT: z.coerce.number().int().min(0).max(65535),
  LOCAL_SMTP_PORT: z.coerce.number().int().min(0).max(65535),
  LOCAL_MAIL_DIR: z.string().min(1),
});
const env = Env.safeParse(process.env);
if (!env.success) {
  console.error(`mail: missing or invalid env: ${env.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  process.exit(2);
}

const catcher = await startMailCatcher({
  smtpPort: env.data.LOCAL_SMTP_PORT,
  httpPort: env.data.LOCAL_MAIL_PORT,
  dir: env.data.LOCAL_MAIL_DIR,
  log: (line) => console.log(line),
});
console.log(`mail catcher: SMTP on ${catcher.smtpHost}:${catcher.smtpPort}, inbox on ${catcher.url}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await catcher.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
