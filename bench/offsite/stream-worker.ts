// One side of the off-site streaming benchmark in a process of its own, so its peak resident set
// (the kernel's ru_maxrss) is that of the encrypt+upload or download+decrypt path alone.
// `up <file> <recipient> <bucket> <key>` | `down <bucket> <key> <identity file> <out file>`.
import { decryptToFile, encryptFile, loadIdentities } from '../../tools/backup/offsite-crypto.ts';
import { downloadStream, s3Client, uploadStream } from '../../tools/backup/offsite-storage.ts';

const [mode, ...rest] = process.argv.slice(2);
const client = s3Client();
const baselineKb = process.resourceUsage().maxRSS;
const started = performance.now();
if (mode === 'up') {
  const [file, recipient, bucket, key] = rest;
  await uploadStream(client, bucket, key, await encryptFile(file, [recipient]));
} else {
  const [bucket, key, identityFile, out] = rest;
  await decryptToFile(await downloadStream(client, bucket, key), loadIdentities(identityFile), out);
}
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, baselineKb, maxRssKb: process.resourceUsage().maxRSS }));
