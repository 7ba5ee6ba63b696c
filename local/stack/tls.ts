// The TLS material of a local stack: a certificate authority made once per data dir and a server
// certificate for 127.0.0.1 / localhost signed by it, which the fakes serve. Google, Gemini and
// RevID are only reachable over HTTPS, so the fakes are too: the CPU and memory a function spends
// on an upload or a sync include the handshakes and the encryption, as they do in production.
// Processes trust the CA through their environment only (NODE_EXTRA_CA_CERTS, DENO_CERT).
//
// The keys come from the openssl CLI; nothing here implements cryptography. Both certificates
// use ECDSA P-256, what Google's API hosts present to most clients.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Profile } from '../profile.ts';

export interface StackTls {
  dir: string;
  /** The CA certificate (PEM): what clients trust. */
  caFile: string;
  caKeyFile: string;
  /** The fakes' certificate (PEM, leaf only) and its private key. */
  certFile: string;
  keyFile: string;
}

const CA_DAYS = 3650;
// Under the 398 days browsers accept for a server certificate; renewed well before it ends.
const SERVER_DAYS = 397;
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export function tlsFiles(p: Profile): StackTls {
  const dir = resolve(p.dataRoot, 'tls');
  return {
    dir,
    caFile: resolve(dir, 'ca.pem'),
    caKeyFile: resolve(dir, 'ca.key'),
    certFile: resolve(dir, 'server.pem'),
    keyFile: resolve(dir, 'server.key'),
  };
}

/**
 * Creates what is missing, expiring or no longer matching (a server certificate is remade when
 * the CA was), and otherwise leaves the files alone, so clients that trust the CA keep working
 * across restarts.
 */
export function ensureStackTls(p: Profile): StackTls {
  const t = tlsFiles(p);
  // The data dir first, with the default mode: a recursive mkdir with 0o700 would give it that
  // mode too, and the postgres user could then not reach the cluster inside it.
  mkdirSync(p.dataRoot, { recursive: true });
  mkdirSync(t.dir, { recursive: true, mode: 0o700 });
  const ca = usableCertificate(t.caFile, t.caKeyFile);
  if (!ca) createCa(t, p.name);
  const caCert = new X509Certificate(readFileSync(t.caFile));
  const server = usableCertificate(t.certFile, t.keyFile);
  if (!server || !server.checkIssued(caCert) || !server.verify(caCert.publicKey)) createServerCertificate(t);
  return t;
}

/** base64 of the sha256 of a certificate's SubjectPublicKeyInfo (Chromium's pinning format). */
export function spkiSha256(certFile: string): string {
  const spki = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

function usableCertificate(certFile: string, keyFile: string): X509Certificate | null {
  if (!existsSync(certFile) || !existsSync(keyFile)) return null;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    return Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS ? cert : null;
  } catch {
    return null;
  }
}

function openssl(args: string[]) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`openssl is needed for the fakes' TLS certificates (apt-get install openssl): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function createCa(t: StackTls, profileName: string) {
  const config = resolve(t.dir, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = ext',
      '[dn]',
      `CN = Content Catalyst Engine local CA (${profileName})`,
      '[ext]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
    ].join('\n') + '\n',
  );
  const tmpCert = `${t.caFile}.tmp`;
  const tmpKey = `${t.caKeyFile}.tmp`;
  try {
    openssl([
      'req',
      '-x509',
      ...EC_KEY,
      '-config',
      config,
      '-days',
      String(CA_DAYS),
      '-set_serial',
      serial(),
      '-keyout',
      tmpKey,
      '-out',
      tmpCert,
    ]);
    chmodSync(tmpKey, 0o600);
    renameSync(tmpKey, t.caKeyFile);
    renameSync(tmpCert, t.caFile);
  } finally {
    rmSync(config, { force: true });
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
  }
}

function createServerCertificate(t: StackTls) {
  const config = resolve(t.dir, 'server.cnf');
  writeFileSync(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = localhost',
      '[ext]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1, DNS:localhost',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
    ].join('\n') + '\n',
  );
  const csr = resolve(t.dir, 'server.csr');
  const tmpCert = `${t.certFile}.tmp`;
  const tmpKey = `${t.keyFile}.tmp`;
  try {
    openssl(['req', '-new', ...EC_KEY, '-config', config, '-keyout', tmpKey, '-out', csr]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      t.caFile,
      '-CAkey',
      t.caKeyFile,
      '-set_serial',
      serial(),
      '-days',
      String(SERVER_DAYS),
      '-extfile',
      config,
      '-extensions',
      'ext',
      '-out',
      tmpCert,
    ]);
    chmodSync(tmpKey, 0o600);
    renameSync(tmpKey, t.keyFile);
    renameSync(tmpCert, t.certFile);
  } finally {
    for (const f of [config, csr, tmpCert, tmpKey]) rmSync(f, { force: true });
  }
}

// Positive, 128 bits: a new certificate never repeats the serial of one a client has seen.
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return `0x${bytes.toString('hex')}`;
}
