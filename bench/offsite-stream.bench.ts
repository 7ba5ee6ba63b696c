// Off-site backup streaming: a BENCH_OFFSITE_BYTES (default 1 GiB) incompressible file is
// encrypted with age and uploaded to a local S3-compatible server (s3rver on 127.0.0.1), then
// downloaded and decrypted, each side in its own process (bench/offsite/stream-worker.ts). Reports
// time and peak RSS of each side: streaming means the peak stays flat whatever the size
// (multipart parts of 8 MiB, two in flight). The round trip is checked byte for byte (sha256).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ROOT } from '../local/profile.ts';
import { keygen } from '../tools/backup/offsite-keygen.ts';
import { writeResult } from './lib.ts';

const BYTES = Number(process.env.BENCH_OFFSITE_BYTES ?? 1024 * 1024 * 1024);
const BUCKET = 'bench-offsite';
const S3rver = createRequire(import.meta.url)('s3rver') as new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

const work = mkdtempSync(join(tmpdir(), 'cce-bench-offsite-'));
const input = join(work, 'input.bin');
const out = createWriteStream(input);
for (let left = BYTES; left > 0; left -= 1024 * 1024) {
  if (!out.write(randomBytes(Math.min(left, 1024 * 1024)))) await once(out, 'drain');
}
out.end();
await once(out, 'finish');

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: join(work, 's3'),
  configureBuckets: [{ name: BUCKET }],
});
const { port } = await server.run();
const env = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  S3_ENDPOINT: `http://127.0.0.1:${port}`,
  S3_FORCE_PATH_STYLE: 'true',
};
const recipient = await keygen(join(work, 'key.txt'));

// The worker runs while this process serves S3: spawn asynchronously.
async function worker(args: string[]): Promise<{ seconds: number; baselineKb: number; maxRssKb: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/offsite/stream-worker.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`worker ${args[0]} exited ${code}`);
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

try {
  const up = await worker(['up', input, recipient, BUCKET, 'bench/input.bin.age']);
  const down = await worker(['down', BUCKET, 'bench/input.bin.age', join(work, 'key.txt'), join(work, 'output.bin')]);
  const same = (await sha256(input)) === (await sha256(join(work, 'output.bin')));
  if (!same) throw new Error('the decrypted file differs from the input');
  const mb = BYTES / 1024 / 1024;
  writeResult('offsite-stream', {
    bytes: BYTES,
    encrypt_upload: {
      seconds: +up.seconds.toFixed(1),
      mib_per_s: +(mb / up.seconds).toFixed(1),
      peak_rss_mib: Math.round(up.maxRssKb / 1024),
      rss_before_mib: Math.round(up.baselineKb / 1024),
    },
    download_decrypt: {
      seconds: +down.seconds.toFixed(1),
      mib_per_s: +(mb / down.seconds).toFixed(1),
      peak_rss_mib: Math.round(down.maxRssKb / 1024),
      rss_before_mib: Math.round(down.baselineKb / 1024),
    },
    round_trip_identical: same,
  });
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
