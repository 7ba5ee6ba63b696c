// age encryption of off-site backups (age-encryption, the reference TypeScript implementation):
// files go in and out as streams, so a multi-GB dump is never held in memory. age authenticates
// every 64 KiB chunk and the end of the file, so a tampered or truncated object fails to decrypt.
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter } from 'age-encryption';
import { z } from 'zod';

export const AgeRecipient = z.string().regex(/^age1[0-9a-z]{20,}$/, 'an age public key (age1…)');
const AgeIdentity = z.string().regex(/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]{20,}$/, 'an age secret key (AGE-SECRET-KEY-1…)');

/** The secret keys of an age identity file (the format `age-keygen` writes: `#` comments, one key a line). */
export function parseIdentities(text: string): string[] {
  const keys = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (keys.length === 0) throw new Error('the identity holds no AGE-SECRET-KEY-1… line');
  return keys.map((k) => {
    const parsed = AgeIdentity.safeParse(k);
    if (!parsed.success) throw new Error('the identity holds a line that is not an age secret key');
    return parsed.data;
  });
}

/** --identity-file, else the AGE_IDENTITY env var (the key itself, as CI passes secrets). */
export function loadIdentities(identityFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  if (identityFile) return parseIdentities(readFileSync(identityFile, 'utf8'));
  if (env.AGE_IDENTITY) return parseIdentities(env.AGE_IDENTITY);
  throw new Error('no age identity: pass --identity-file <file> or set AGE_IDENTITY');
}

function webStream(path: string): ReadableStream<Uint8Array> {
  // 64 KiB reads match age's chunk size; the stream holds a few of them at a time.
  return Readable.toWeb(createReadStream(path, { highWaterMark: 64 * 1024 })) as unknown as ReadableStream<Uint8Array>;
}

/** The age ciphertext of a file as a Node stream, for an upload that reads it as it is produced. */
export async function encryptFile(path: string, recipients: string[]): Promise<Readable> {
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(AgeRecipient.parse(r));
  const encrypted = await encrypter.encrypt(webStream(path));
  return Readable.fromWeb(encrypted as unknown as WebReadableStream<Uint8Array>);
}

/** Decrypts an age stream into a file; throws (and leaves a partial file) when no identity fits or the data was altered. */
export async function decryptToFile(ciphertext: ReadableStream<Uint8Array>, identities: string[], outPath: string): Promise<void> {
  const decrypter = new Decrypter();
  for (const id of identities) decrypter.addIdentity(id);
  const plain = await decrypter.decrypt(ciphertext);
  await pipeline(Readable.fromWeb(plain as unknown as WebReadableStream<Uint8Array>), createWriteStream(outPath, { mode: 0o600 }));
}
