// Shared bits of `npm run backup` and `npm run restore`: arguments, database URL, progress lines.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { profile } from '../../local/profile.ts';

export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i !== -1) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

/** --db-url, else SUPABASE_DB_URL, else the dev stack's database. */
export function databaseUrl(args: string[]): string {
  return option(args, '--db-url') ?? process.env.SUPABASE_DB_URL ?? profile('dev').dbUrl;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_');
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Runs pg_dump / pg_restore with --verbose and condenses its chatter to one progress line per
 * table's data ("dumping contents of table …", "processing data for table …"); errors pass through.
 */
export function runPgTool(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; errors: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'pipe'] });
    const errors: string[] = [];
    let tables = 0;
    let buffered = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const data = /(?:dumping contents of table|processing data for table) "?([^"]+)"?/.exec(line);
        if (data) progress(`  [${String(++tables).padStart(3)}] ${data[1]}`);
        else if (/error|fatal|warning/i.test(line)) {
          errors.push(line);
          progress(`  ${line}`);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, errors }));
  });
}

/** Connection for pg_dump / pg_restore: the URL without its password (visible in `ps`), which goes in PGPASSWORD. */
export function pgToolConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env: password ? { ...process.env, PGPASSWORD: password } : { ...process.env } };
}
