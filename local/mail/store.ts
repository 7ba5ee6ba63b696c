// The caught messages: the newest MAX_MESSAGES in memory, each also written to disk (its JSON and
// its raw source) so a restarted stack still shows what was sent before.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface CaughtMessage {
  id: string;
  from: string;
  /** Envelope recipients (RCPT TO), lower-cased: Bcc recipients included, as a real server sees them. */
  to: string[];
  subject: string;
  /** The text part, '' when the message has none. */
  text: string;
  /** The HTML part, '' when the message has none. */
  html: string;
  /** When the catcher received it (ISO 8601). */
  date: string;
  /** Header names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
}

export const MAX_MESSAGES = 1000;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class MessageStore {
  /** Oldest first; reads reverse it. */
  private messages: CaughtMessage[] = [];

  constructor(
    private readonly dir: string,
    private readonly max = MAX_MESSAGES,
  ) {
    mkdirSync(dir, { recursive: true });
    this.messages = this.readDisk();
    this.trim();
  }

  private readDisk(): CaughtMessage[] {
    const found: CaughtMessage[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        found.push(JSON.parse(readFileSync(resolve(this.dir, name), 'utf8')) as CaughtMessage);
      } catch {
        // A file cut short by a crash mid-write: the message is lost, the inbox still starts.
        rmSync(resolve(this.dir, name), { force: true });
      }
    }
    return found.sort((a, b) => a.date.localeCompare(b.date) || a.id.localeCompare(b.id));
  }

  private trim() {
    while (this.messages.length > this.max) this.removeFiles(this.messages.shift()!.id);
  }

  private removeFiles(id: string) {
    rmSync(resolve(this.dir, `${id}.json`), { force: true });
    rmSync(resolve(this.dir, `${id}.eml`), { force: true });
  }

  add(message: Omit<CaughtMessage, 'id' | 'date'>, raw: Buffer): CaughtMessage {
    const stored: CaughtMessage = { id: randomUUID(), date: new Date().toISOString(), ...message };
    writeFileSync(resolve(this.dir, `${stored.id}.eml`), raw);
    // The JSON last: a message is listed on a restart only once both files are whole.
    writeFileSync(resolve(this.dir, `${stored.id}.json`), JSON.stringify(stored));
    this.messages.push(stored);
    this.trim();
    return stored;
  }

  /** Newest first; `to` matches any envelope recipient, case-insensitively. */
  list(to?: string): CaughtMessage[] {
    const wanted = to?.trim().toLowerCase();
    const all = [...this.messages].reverse();
    return wanted ? all.filter((m) => m.to.includes(wanted)) : all;
  }

  get(id: string): CaughtMessage | null {
    if (!ID.test(id)) return null;
    return this.messages.find((m) => m.id === id) ?? null;
  }

  raw(id: string): Buffer | null {
    if (!this.get(id)) return null;
    try {
      return readFileSync(resolve(this.dir, `${id}.eml`));
    } catch {
      return null;
    }
  }

  clear() {
    for (const m of this.messages) this.removeFiles(m.id);
    this.messages = [];
  }
}
