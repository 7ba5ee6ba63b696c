// The local mail catcher from a browser test's side: wait for the email Auth sent to an address
// and follow its link as the recipient would (LOCAL_MAIL_URL, the stack's inbox API).
import type { Page } from '../../web/node_modules/playwright-core/index.js';

export interface CaughtMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  date: string;
}

function mailUrl(): string {
  const url = process.env.LOCAL_MAIL_URL;
  if (!url) throw new Error('LOCAL_MAIL_URL is not set; run this test through the test runner (npm test) or export the stack env');
  return url.replace(/\/+$/, '');
}

/** The newest message to `to` whose subject matches, waiting up to `timeoutMs` for it to arrive. */
export async function waitForMail(to: string, subject: RegExp, opts: { timeoutMs?: number; notId?: string } = {}): Promise<CaughtMail> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const res = await fetch(`${mailUrl()}/api/messages?to=${encodeURIComponent(to)}`);
    const list = (await res.json()) as CaughtMail[];
    const found = list.find((m) => subject.test(m.subject) && m.id !== opts.notId);
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`no email "${subject}" arrived for ${to} (inbox has: ${list.map((m) => m.subject).join(', ') || 'nothing'})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The link of an Auth email (the one carrying its token). */
export function authLink(mail: CaughtMail): string {
  const link = /https?:\/\/\S+#token_hash=[0-9a-f]+&type=\w+/.exec(mail.text)?.[0];
  if (!link) throw new Error(`no token link in "${mail.subject}"`);
  return link;
}

/** After "Create account": the confirmation email arrives and its link signs the user in. */
export async function confirmSignUpFromInbox(page: Page, email: string): Promise<void> {
  await page.getByTestId('check-inbox').waitFor();
  const mail = await waitForMail(email, /Confirm your email address/);
  await page.goto(authLink(mail));
}
