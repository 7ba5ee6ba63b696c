// S3-compatible storage for off-site backups (AWS SDK v3). One backup is two objects under a
// dated prefix: <prefix><yyyy>/<mm>/<dd>/<stamp>.dump.age, then <stamp>.manifest.json.age. The
// manifest is uploaded last, so its presence marks a complete backup; `latest` looks only at
// manifests. Retention is the bucket's lifecycle rule, not code that deletes.
//
// Env: AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (the SDK's own chain), S3_ENDPOINT
// for a non-AWS provider or a local server, S3_FORCE_PATH_STYLE=true for servers without
// virtual-host buckets.
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';

export const DUMP_SUFFIX = '.dump.age';
export const MANIFEST_SUFFIX = '.manifest.json.age';
const STAMP = /(\d{8}_\d{6})\.manifest\.json\.age$/;

export function s3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  if (!env.AWS_REGION) throw new Error('AWS_REGION is not set (any value for servers that ignore it, e.g. us-east-1 or auto)');
  return new S3Client({
    region: env.AWS_REGION,
    endpoint: env.S3_ENDPOINT || undefined,
    forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
    // Keys from the given env when it has them; otherwise the SDK's chain (profiles, an assumed role).
    credentials:
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
        : undefined,
    // Checksums only where S3 requires them: several S3-compatible servers reject the SDK's
    // default CRC32 trailers; the age MAC and the manifest's sha256 check integrity end to end.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function objectKeys(prefix: string, stamp: string): { dump: string; manifest: string } {
  const dir = `${prefix}${stamp.slice(0, 4)}/${stamp.slice(4, 6)}/${stamp.slice(6, 8)}/`;
  return { dump: `${dir}${stamp}${DUMP_SUFFIX}`, manifest: `${dir}${stamp}${MANIFEST_SUFFIX}` };
}

/**
 * Multipart upload of a stream of unknown length: 8 MiB parts, two in flight, so memory stays
 * near 16 MiB whatever the size. An upload that fails is aborted (its parts deleted).
 */
export async function uploadStream(client: S3Client, bucket: string, key: string, body: Readable): Promise<void> {
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' },
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
    leavePartsOnError: false,
  });
  await upload.done();
}

/** The stamp of the newest complete backup under the prefix, or null when there is none. */
export async function latestStamp(client: S3Client, bucket: string, prefix: string): Promise<string | null> {
  let newest: string | null = null;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) {
      const stamp = Key ? STAMP.exec(Key)?.[1] : undefined;
      if (stamp && (!newest || stamp > newest)) newest = stamp;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return newest;
}

export async function downloadStream(client: S3Client, bucket: string, key: string): Promise<ReadableStream<Uint8Array>> {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!Body) throw new Error(`${key}: empty answer`);
  return Body.transformToWebStream() as ReadableStream<Uint8Array>;
}

/**
 * Expire backups under the prefix after `days` days and clean up abandoned multipart uploads.
 * S3 replaces a bucket's whole lifecycle configuration with this one rule: use a bucket of its own.
 */
export function retentionRule(prefix: string, days: number): LifecycleRule {
  return {
    ID: 'cce-offsite-backup-retention',
    Status: 'Enabled',
    Filter: { Prefix: prefix },
    Expiration: { Days: days },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  };
}

export async function applyRetention(client: S3Client, bucket: string, prefix: string, days: number): Promise<void> {
  await client.send(
    new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [retentionRule(prefix, days)] } }),
  );
}
