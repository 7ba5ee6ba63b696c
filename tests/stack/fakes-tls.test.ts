// The stack's fakes speak HTTPS only, as Google, Gemini and RevID do, with a certificate of the
// CA made for this stack's data dir; every URL the stack hands out for them is https; and the
// functions reach them over TLS trusting that CA through their environment alone (DENO_CERT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { connect, rootCertificates, type PeerCertificate } from 'node:tls';
import postgres from 'postgres';
import { ROOT } from '../../local/profile.ts';
import { denoBin } from '../../local/stack/services.ts';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through npm test (it needs the stack's env)`);
  return v;
}

const fakes = new URL(required('LOCAL_FAKES_URL'));
const caFile = required('NODE_EXTRA_CA_CERTS');

function handshake(ca: string | Buffer | string[]): Promise<{ authorized: boolean; error?: string; cert: PeerCertificate }> {
  return new Promise((resolveHandshake, reject) => {
    const socket = connect({ host: fakes.hostname, port: Number(fakes.port), ca, rejectUnauthorized: false }, () => {
      // A code such as UNABLE_TO_VERIFY_LEAF_SIGNATURE (a string, whatever its type says).
      const error = socket.authorizationError ? String(socket.authorizationError) : undefined;
      const result = { authorized: socket.authorized, error, cert: socket.getPeerCertificate() };
      socket.end();
      resolveHandshake(result);
    });
    socket.on('error', reject);
  });
}

test('the fakes refuse plain HTTP', async () => {
  const outcome = await new Promise<string>((resolveOutcome) => {
    const req = httpGet({ host: fakes.hostname, port: fakes.port, path: '/_control/health', timeout: 5_000 }, (res) => {
      res.resume();
      resolveOutcome(`answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolveOutcome(`refused: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
  });
  assert.match(outcome, /^refused: (ECONNRESET|EPIPE)$/);
});

test("the fakes present a certificate for 127.0.0.1 signed by this data dir's CA, and no public CA", async () => {
  assert.equal(dirname(caFile), resolve(ROOT, '.local', required('CCE_PROFILE'), 'tls'), 'the CA lives in the data dir of the stack');
  const ca = readFileSync(caFile);
  const trusted = await handshake(ca);
  assert.equal(trusted.authorized, true, trusted.error ?? 'not authorized');
  const leaf = new X509Certificate(trusted.cert.raw);
  const caCert = new X509Certificate(ca);
  assert.ok(leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey), "signed by this stack's CA");
  assert.ok(leaf.checkIP('127.0.0.1') && leaf.checkHost('localhost'), 'valid for 127.0.0.1 and localhost');
  assert.equal(leaf.ca, false);

  const publicOnly = await handshake([...rootCertificates]);
  assert.equal(publicOnly.authorized, false, 'a client with the public roots only must not trust the fakes');
  assert.match(publicOnly.error ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED_CERT_IN_CHAIN/);
});

test('every fake base URL the stack hands out is https', () => {
  for (const name of [
    'LOCAL_FAKES_URL',
    'YOUTUBE_API_BASE',
    'YOUTUBE_UPLOAD_BASE',
    'YOUTUBE_OAUTH_BASE',
    'YOUTUBE_ANALYTICS_BASE',
    'GEMINI_API_BASE',
    'REVID_API_BASE',
  ]) {
    assert.ok(
      required(name).startsWith(`https://${fakes.host}/`) || required(name) === `https://${fakes.host}`,
      `${name}=${process.env[name]}`,
    );
  }
  assert.equal(process.env.DENO_CERT, caFile, 'Deno processes trust the same CA');
});

test('Deno trusts the fakes through DENO_CERT alone, for fetch and for node:https', () => {
  const script = `
    import https from 'node:https';
    const url = ${JSON.stringify(`${fakes.origin}/_control/health`)};
    const viaFetch = await fetch(url).then(async (r) => { await r.body?.cancel(); return String(r.status); }, (e) => 'error: ' + (e.cause?.message ?? e.message));
    const viaNode = await new Promise((done) => https.get(url, (r) => { r.resume(); done(String(r.statusCode)); }).on('error', (e) => done('error: ' + e.message)));
    console.log(JSON.stringify({ viaFetch, viaNode }));`;
  const run = (env: NodeJS.ProcessEnv) => {
    const r = spawnSync(denoBin(), ['eval', '--ext=ts', script], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { viaFetch: string; viaNode: string };
  };
  // Deno also reads NODE_EXTRA_CA_CERTS (for Node compatibility): left out of both runs.
  const { DENO_CERT: _cert, NODE_EXTRA_CA_CERTS: _nodeCert, ...withoutCa } = process.env;
  const untrusting = run(withoutCa);
  assert.match(untrusting.viaFetch, /^error: .*(certificate|UnknownIssuer)/i, 'without the CA in its env Deno does not trust the fakes');
  assert.match(untrusting.viaNode, /^error: /);
  assert.deepEqual(run({ ...withoutCa, DENO_CERT: caFile }), { viaFetch: '200', viaNode: '200' });
});

/** The external APIs health probes, and the path of each probe in the fakes' request log. */
const PROBED = { youtube: '/youtube/youtube/v3/videos', gemini: '/gemini/v1beta/models', revid: '/revid/api/public/v2/status' };

test("health's external API checks reach the fakes over TLS and stay healthy", async () => {
  // Taken before the lease is forgotten: another health call (the stack's own checks) may take the
  // fresh lease and probe first, and this call then reports that probe, made after `since` too.
  const since = new Date();
  const sql = postgres(required('SUPABASE_DB_URL'), { max: 1, onnotice: () => {} });
  try {
    // Forget the shared 30 s probe lease so that every service is probed again now.
    await sql`delete from ops.health_probe_leases`;
  } finally {
    await sql.end();
  }
  // An instance answers from the report it built in the last 5 s (health's ANSWER_CACHE_MS), so a
  // call soon after another one's may show that one's probes: ask until the report is newer.
  const fresh = (b: { services?: { external_apis?: Record<string, { last_checked: string }> } }) =>
    Object.keys(PROBED).every((n) => new Date(b.services?.external_apis?.[n]?.last_checked ?? 0) >= since);
  let res: Response;
  let body: { services: { external_apis: Record<string, { status: string; last_checked: string }> } };
  for (let attempt = 1; ; attempt++) {
    res = await fetch(`${required('SUPABASE_URL')}/functions/v1/health`, { signal: AbortSignal.timeout(15_000) });
    body = await res.json();
    if (fresh(body) || attempt >= 10) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  assert.equal(res.status, 200, JSON.stringify(body));
  for (const name of Object.keys(PROBED)) {
    const h = body.services.external_apis[name];
    assert.equal(h.status, 'healthy', `${name}: ${JSON.stringify(h)}`);
    assert.equal(new Date(h.last_checked) >= since, true, `${name} was probed after the lease was forgotten`);
  }
  const log = await fetch(`${fakes.origin}/_control/requests?since=${since.toISOString()}`).then((r) => r.json());
  const probes = (log.requests as { path: string; scheme: string }[]).filter((r) => Object.values(PROBED).includes(r.path));
  assert.equal(probes.length >= 3, true, JSON.stringify(log.requests.map((r: { path: string }) => r.path)));
  assert.deepEqual([...new Set(probes.map((r) => r.scheme))], ['https']);
});
