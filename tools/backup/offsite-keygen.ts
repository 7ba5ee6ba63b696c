// `npm run backup:keygen -- <identity file>`: a new age key pair for off-site backups. Writes the
// secret key in age's identity-file format (readable by `age -d -i` too) with mode 0600, refuses
// to overwrite a file, and prints the public key (the recipient the nightly backup encrypts to).
import { writeFileSync } from 'node:fs';
import { generateIdentity, identityToRecipient } from 'age-encryption';

export async function keygen(path: string): Promise<string> {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const text = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  return recipient;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2];
  if (!path || path.startsWith('--')) {
    console.error('usage: npm run backup:keygen -- <identity file>');
    process.exit(2);
  }
  keygen(path).then(
    (recipient) => console.log(recipient),
    (err: unknown) => {
      console.error(`backup:keygen failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
