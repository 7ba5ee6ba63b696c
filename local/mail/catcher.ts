// The mail catcher as one unit: SMTP server, web inbox and store, started and stopped together
// (by main.ts in a stack, in-process by tests).
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createInboxServer } from './server.ts';
import { createSmtpServer } from './smtp.ts';
import { MAX_MESSAGES, MessageStore } from './store.ts';

export interface MailCatcherOptions {
  /** 0 picks a free port (tests). */
  smtpPort: number;
  httpPort: number;
  dir: string;
  host?: string;
  maxMessages?: number;
  log?: (line: string) => void;
}

export interface MailCatcher {
  url: string;
  smtpHost: string;
  smtpPort: number;
  close(): Promise<void>;
}

export async function startMailCatcher(opts: MailCatcherOptions): Promise<MailCatcher> {
  const host = opts.host ?? '127.0.0.1';
  const store = new MessageStore(opts.dir, opts.maxMessages ?? MAX_MESSAGES);
  const smtp = createSmtpServer(store, opts.log ?? (() => {}));
  smtp.on('error', (err) => (opts.log ?? console.error)(`mail: SMTP error: ${err.message}`));
  // SMTP first: the inbox answering (the stack's readiness probe) means both listen.
  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.listen(opts.smtpPort, host, () => {
      smtp.server.off('error', reject);
      resolve();
    });
  });
  const inbox = createInboxServer(store);
  inbox.listen(opts.httpPort, host);
  try {
    await once(inbox, 'listening');
  } catch (err) {
    await new Promise<void>((r) => smtp.close(() => r()));
    throw err;
  }
  return {
    url: `http://${host}:${(inbox.address() as AddressInfo).port}`,
    smtpHost: host,
    smtpPort: (smtp.server.address() as AddressInfo).port,
    async close() {
      inbox.closeAllConnections();
      await Promise.all([new Promise<void>((r) => inbox.close(() => r())), new Promise<void>((r) => smtp.close(() => r()))]);
    },
  };
}
