// `npm run backup:offsite -- --bucket B --recipient age1… [--db-url URL] [--prefix P]
// [--apply-lifecycle-days N]`: `npm run backup` into a private temporary folder, then the dump and
// its manifest encrypted to the age recipient(s) and uploaded as they are encrypted (nothing
// plaintext leaves the machine, nothing is held whole in memory), then the plaintext deleted.
// Prints the manifest's object key. Env fallbacks: S3_BUCKET, S3_PREFIX, AGE_RECIPIENT (comma-
// separated recipients allowed); storage env as in offsite-storage.ts.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { backup } from './backup.ts';
import { option, progress } from './cli.ts';
import { AgeRecipient, encryptFile } from './offsite-crypto.ts';
import { applyRetention, objectKeys, s3Client, uploadStream } from './offsite-storage.ts';

export const Bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name');
export const Prefix = z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'empty or folder names ending in /');

const Options = z.strictObject({
  bucket: Bucket,
  prefix: Prefix,
  recipients: z.array(AgeRecipient).min(1),
  lifecycleDays: z.coerce.number().int().min(1).max(3650).optional(),
});

function parseOptions(args: string[], env: NodeJS.ProcessEnv) {
  const parsed = Options.safeParse({
    bucket: option(args, '--bucket') ?? env.S3_BUCKET,
    prefix: option(args, '--prefix') ?? env.S3_PREFIX ?? 'backups/',
    recipients: (option(args, '--recipient') ?? env.AGE_RECIPIENT ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    lifecycleDays: option(args, '--apply-lifecycle-days'),
  });
  if (!parsed.success) throw new Error(`bad options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Arguments `npm run backup` understands; the off-site ones stay here. */
function backupArgs(args: string[], outDir: string): string[] {
  const dbUrl = option(args, '--db-url');
  return [...(dbUrl ? ['--db-url', dbUrl] : []), '--out', outDir];
}

async function setRetention(client: ReturnType<typeof s3Client>, bucket: string, prefix: string, days: number): Promise<void> {
  try {
    await applyRetention(client, bucket, prefix, days);
  } catch (err) {
    const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new Error(
      `could not set the lifecycle rule on bucket ${bucket} (${why}); set it with the provider's tools (docs/disaster-recovery.md)`,
      { cause: err },
    );
  }
  progress(`lifecycle: objects under ${prefix || '(whole bucket)'} expire after ${days} days`);
}

export async function offsiteBackup(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const opts = parseOptions(args, env);
  const client = s3Client(env);
  // First, so a bucket that refuses the rule fails the run before the dump is taken.
  if (opts.lifecycleDays) await setRetention(client, opts.bucket, opts.prefix, opts.lifecycleDays);
  const workDir = mkdtempSync(join(tmpdir(), 'cce-offsite-'));
  try {
    const manifestPath = await backup(backupArgs(args, workDir));
    const stamp = basename(manifestPath, '.manifest.json');
    const dumpPath = join(workDir, `${stamp}.dump`);
    const keys = objectKeys(opts.prefix, stamp);
    const started = Date.now();
    progress(`encrypting to ${opts.recipients.length} age recipient(s) and uploading to s3://${opts.bucket}/${keys.dump}`);
    await uploadStream(client, opts.bucket, keys.dump, await encryptFile(dumpPath, opts.recipients));
    // Last: a manifest in the bucket means the dump before it is complete.
    await uploadStream(client, opts.bucket, keys.manifest, await encryptFile(manifestPath, opts.recipients));
    progress(`uploaded ${statSync(dumpPath).size} dump bytes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return keys.manifest;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  offsiteBackup(process.argv.slice(2)).then(
    (key) => console.log(key),
    (err: unknown) => {
      console.error(`backup:offsite failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
