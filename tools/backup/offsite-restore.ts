// `npm run restore:offsite -- --bucket B --identity-file KEY [--key latest|<stamp>] [--prefix P]
// [--target NAME] [--db-url URL]`: finds the newest complete backup (or the one named), downloads
// and decrypts the dump and manifest as streams into a private temporary folder, then runs
// `npm run restore` into a NEW database and prints its verdict. Exit 0 only on `VERDICT: OK`;
// 1 when the restored data differs from the manifest; 2 when it could not get that far (no
// backup, wrong key, altered object). Env fallbacks: S3_BUCKET, S3_PREFIX, AGE_IDENTITY.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { option, progress } from './cli.ts';
import { Bucket, Prefix } from './offsite-backup.ts';
import { decryptToFile, loadIdentities } from './offsite-crypto.ts';
import { downloadStream, latestStamp, objectKeys, s3Client } from './offsite-storage.ts';
import { reportVerdict, restore, type Verdict } from './restore.ts';

const Options = z.strictObject({
  bucket: Bucket,
  prefix: Prefix,
  key: z.union([z.literal('latest'), z.string().regex(/^\d{8}_\d{6}$/, 'latest or a backup stamp (yyyymmdd_hhmmss)')]),
});

function parseOptions(args: string[], env: NodeJS.ProcessEnv) {
  const parsed = Options.safeParse({
    bucket: option(args, '--bucket') ?? env.S3_BUCKET,
    prefix: option(args, '--prefix') ?? env.S3_PREFIX ?? 'backups/',
    key: option(args, '--key') ?? 'latest',
  });
  if (!parsed.success) throw new Error(`bad options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

async function fetchDecrypted(
  client: ReturnType<typeof s3Client>,
  bucket: string,
  key: string,
  identities: string[],
  outPath: string,
): Promise<void> {
  const body = await downloadStream(client, bucket, key);
  try {
    await decryptToFile(body, identities, outPath);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `cannot decrypt s3://${bucket}/${key}: ${why} (is the identity the secret key of the backup's recipient? was the object altered?)`,
      { cause: err },
    );
  }
}

export async function offsiteRestore(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Verdict> {
  const opts = parseOptions(args, env);
  const identities = loadIdentities(option(args, '--identity-file'), env);
  const client = s3Client(env);
  const started = Date.now();
  const stamp = opts.key === 'latest' ? await latestStamp(client, opts.bucket, opts.prefix) : opts.key;
  if (!stamp) throw new Error(`no complete backup (no *.manifest.json.age) under s3://${opts.bucket}/${opts.prefix}`);
  const keys = objectKeys(opts.prefix, stamp);
  const workDir = mkdtempSync(join(tmpdir(), 'cce-offsite-restore-'));
  try {
    const manifestPath = join(workDir, `${stamp}.manifest.json`);
    const dumpPath = join(workDir, `${stamp}.dump`);
    progress(`downloading and decrypting s3://${opts.bucket}/${keys.manifest}`);
    await fetchDecrypted(client, opts.bucket, keys.manifest, identities, manifestPath);
    progress(`downloading and decrypting s3://${opts.bucket}/${keys.dump}`);
    await fetchDecrypted(client, opts.bucket, keys.dump, identities, dumpPath);
    progress(`fetched ${statSync(dumpPath).size} dump bytes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const passOn = ['--target', '--db-url'].flatMap((name) => {
      const value = option(args, name);
      return value ? [name, value] : [];
    });
    const verdict = await restore([manifestPath, ...passOn]);
    // The verdict's time covers download and decryption too: it is the restore time an operator sees.
    return { ...verdict, seconds: (Date.now() - started) / 1000 };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  offsiteRestore(process.argv.slice(2)).then(
    (verdict) => {
      reportVerdict(verdict);
      process.exit(verdict.ok ? 0 : 1);
    },
    (err: unknown) => {
      console.error(`restore:offsite failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    },
  );
}
