// The SMTP side of the catcher, on smtp-server (nodemailer's server package) with mailparser: it
// accepts every message for any recipient, as Supabase's local inbucket does, and stores it.
import type { AddressObject, ParsedMail } from 'mailparser';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { CaughtMessage, MessageStore } from './store.ts';

/** Larger than any mail Auth or the product sends; a bigger one is refused with 552. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

function firstAddress(value: AddressObject | AddressObject[] | undefined): string {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((a) => a.value).find((a) => a.address)?.address ?? '';
}

function headerMap(parsed: ParsedMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    // The raw line is "Name: value" with folding; unfolded, the value as sent.
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return headers;
}

export function toCaught(parsed: ParsedMail, envelopeFrom: string, recipients: string[]): Omit<CaughtMessage, 'id' | 'date'> {
  return {
    from: firstAddress(parsed.from) || envelopeFrom,
    to: recipients,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    headers: headerMap(parsed),
  };
}

const address = (a: SMTPServerAddress | false) => (a ? a.address : '');

export function createSmtpServer(store: MessageStore, log: (line: string) => void): SMTPServer {
  return new SMTPServer({
    // Local only: no TLS, and any credentials (GoTrue and nodemailer may send some) are accepted.
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    size: MAX_MESSAGE_BYTES,
    logger: false,
    banner: 'local mail catcher',
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'local' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(Object.assign(new Error('Message exceeds the size limit'), { responseCode: 552 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
            const stored = store.add(toCaught(parsed, address(session.envelope.mailFrom), recipients), raw);
            // The id and size only: addresses and bodies (tokens, links) stay out of the log.
            log(`mail: caught ${stored.id} (${raw.length} bytes, ${recipients.length} recipient(s))`);
            callback(null, `Queued as ${stored.id}`);
          })
          .catch((err: Error) => callback(Object.assign(new Error(`Unreadable message: ${err.message}`), { responseCode: 554 })));
      });
      stream.on('error', (err) => callback(err));
    },
  });
}
