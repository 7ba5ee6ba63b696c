// Delivers an accepted email into the local mail catcher over SMTP, as Resend delivers it to the
// recipient's mail server: after answering the API call, retried a few times when the catcher is
// not there yet (the stack starts its processes in parallel).
import nodemailer from 'nodemailer';
import type { SentEmail } from './state.ts';

const TRIES = 5;

export async function deliver(email: SentEmail, smtp: { host: string; port: number }): Promise<void> {
  const transport = nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true });
  try {
    for (let attempt = 1; attempt <= TRIES; attempt++) {
      email.delivery.attempts = attempt;
      try {
        await transport.sendMail({
          from: email.from,
          to: email.to,
          cc: email.cc,
          bcc: email.bcc,
          replyTo: email.replyTo,
          subject: email.subject,
          text: email.text ?? undefined,
          html: email.html ?? undefined,
          headers: { ...email.headers, 'X-Resend-Email-Id': email.id },
          messageId: `<${email.id}@resend.fake>`,
        });
        email.delivery = { ...email.delivery, status: 'delivered', at: new Date().toISOString(), error: null };
        return;
      } catch (err) {
        email.delivery.error = (err as Error).message;
        if (attempt < TRIES) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
    email.delivery = { ...email.delivery, status: 'failed', at: new Date().toISOString() };
  } finally {
    transport.close();
  }
}
