// Bring your own keys: a credential in the env file makes `npm start` hand the functions that
// service's real base URL and key (the rest stay on the fakes), the banner says which is which,
// and `npm run doctor` checks each real credential with one call and explains failures. A fake
// placed at a "real" base URL (a second fakes server on 127.0.0.1, with keys and an OAuth client
// registered) stands in for the services: nothing here leaves 127.0.0.1.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createFakesServer, type FakesServer } from '../../local/fakes/server.ts';
import { profile, ROOT } from '../../local/profile.ts';
import { byokFile, integrationBanner, parseDotenv, planIntegrations } from '../../local/stack/byok.ts';
import { stackEnv } from '../../local/stack/env.ts';
import type { StackKeys } from '../../local/stack/keys.ts';
import { authErrorCode } from '../../tools/doctor/google-oauth.ts';
import { failed, formatReport, runDoctor, type ServiceReport } from '../../tools/doctor/run.ts';

const run = promisify(execFile);
const GEMINI_KEY = 'gemini-test-only-key';
const REVID_KEY = 'revid-test-only-key-1111';
const CLIENT_ID = 'byok-test.apps.googleusercontent.com';
const CLIENT_SECRET = 'byok-test-only-secret';
const PORT_BASE = 18000; // this helper's own range; the test starts nothing on it
const STACK_FAKES = 'https://127.0.0.1:18012';
const SUPABASE_URL = 'http://127.0.0.1:18000';
const REDIRECT_URI = `${SUPABASE_URL}/functions/v1/youtube-oauth/callback`;

let fakes: FakesServer;
let dir: string;

async function control(path: string, body: unknown) {
  const r = await fetch(`${fakes.url}/_control${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(r.ok, `${path}: ${r.status} ${await r.text()}`);
}

/** The env file of someone who has all three credentials, every base URL at the stand-in. */
function allReal(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const file: Record<string, string | undefined> = {
    GEMINI_API_KEY: GEMINI_KEY,
    GEMINI_API_BASE: `${fakes.url}/gemini`,
    REVID_API_KEY: REVID_KEY,
    REVID_API_BASE: `${fakes.url}/revid`,
    YOUTUBE_CLIENT_ID: CLIENT_ID,
    YOUTUBE_CLIENT_SECRET: CLIENT_SECRET,
    YOUTUBE_API_BASE: `${fakes.url}/youtube`,
    YOUTUBE_UPLOAD_BASE: `${fakes.url}/youtube`,
    YOUTUBE_ANALYTICS_BASE: `${fakes.url}/youtube-analytics`,
    YOUTUBE_OAUTH_BASE: `${fakes.url}/oauth`,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(file).filter((e): e is [string, string] => e[1] !== undefined));
}

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

const doctor = (file: Record<string, string>) => runDoctor({ fakesUrl: STACK_FAKES, supabaseUrl: SUPABASE_URL, file });
const byService = (reports: ServiceReport[], service: string) => reports.find((r) => r.service === service)!;

before(async () => {
  fakes = await createFakesServer({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'cce-byok-'));
});
after(async () => {
  await fakes.close();
});
beforeEach(async () => {
  await control('/reset', {});
  // The stand-in accepts only these credentials, as the real services would.
  await control('/gemini/settings', { apiKeys: [GEMINI_KEY] });
  await control('/revid/settings', { apiKeys: [REVID_KEY] });
  await control('/youtube/oauth-clients', {
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
  });
});

describe('npm start: the functions env per service', () => {
  const p = profile('test');
  const keys = { anonKey: 'a'.repeat(40), serviceRoleKey: 's'.repeat(40) } as StackKeys;

  function envWith(file: string | null) {
    const saved = process.env.CCE_ENV_FILE;
    if (file) process.env.CCE_ENV_FILE = file;
    else delete process.env.CCE_ENV_FILE;
    try {
      return stackEnv(p, keys);
    } finally {
      if (saved === undefined) delete process.env.CCE_ENV_FILE;
      else process.env.CCE_ENV_FILE = saved;
    }
  }

  it('without an env file every service is the fake, and the banner says so', () => {
    const env = envWith(null);
    assert.equal(env.GEMINI_API_BASE, `${p.urls.fakes}/gemini`);
    assert.equal(env.REVID_API_BASE, `${p.urls.fakes}/revid`);
    assert.equal(env.YOUTUBE_OAUTH_BASE, `${p.urls.fakes}/oauth`);
    assert.equal(env.API_FAKES_ORIGIN, new URL(p.urls.fakes).origin);
    assert.equal(env.ENABLE_API_MOCKING, 'true');
    const banner = integrationBanner(env);
    assert.match(banner, /Gemini\s+fake/);
    assert.match(banner, /RevID\s+fake/);
    assert.match(banner, /YouTube \+ Google OAuth\s+fake/);
    assert.doesNotMatch(banner, /REAL/);
  });

  it('a key in the env file: that service gets its key and base URL, reported real; the others stay fakes', () => {
    const file = join(dir, 'gemini-only.env');
    writeFileSync(
      file,
      `# mine\nGEMINI_API_KEY="${GEMINI_KEY}"\nexport GEMINI_API_BASE=${fakes.url}/gemini/\nREVID_API_KEY=your-revid-api-key\n`,
    );
    const env = envWith(file);
    assert.equal(env.GEMINI_API_KEY, GEMINI_KEY);
    assert.equal(env.GEMINI_API_BASE, `${fakes.url}/gemini`);
    // .env.example's placeholder is not a credential.
    assert.equal(env.REVID_API_BASE, `${p.urls.fakes}/revid`);
    assert.equal(env.REVID_API_KEY, 'local-revid-key');
    // The stand-in on 127.0.0.1 is let through the SSRF guard; the fakes still are.
    assert.deepEqual(env.OUTBOUND_TRUSTED_ORIGINS!.split(','), [new URL(p.urls.fakes).origin, new URL(fakes.url).origin]);
    const banner = integrationBanner(env);
    assert.match(banner, new RegExp(`Gemini\\s+REAL\\s+${fakes.url}/gemini`));
    assert.match(banner, /RevID\s+fake/);
    assert.doesNotMatch(banner, new RegExp(GEMINI_KEY));
  });

  it('a key without a base URL means the real host; a public host is never added to the trusted origins', () => {
    const plan = planIntegrations(STACK_FAKES, {
      REVID_API_KEY: REVID_KEY,
      YOUTUBE_CLIENT_ID: CLIENT_ID,
      YOUTUBE_CLIENT_SECRET: CLIENT_SECRET,
    });
    assert.equal(plan.env.REVID_API_BASE, 'https://www.revid.ai');
    assert.equal(plan.env.YOUTUBE_OAUTH_BASE, 'https://oauth2.googleapis.com');
    assert.equal(plan.env.YOUTUBE_API_BASE, 'https://www.googleapis.com');
    assert.equal(plan.services.revid.backend, 'real');
    assert.equal(plan.services.youtube.backend, 'real');
    assert.equal(plan.services.gemini.backend, 'fake');
    assert.deepEqual(plan.loopbackOrigins, []);
    const banner = integrationBanner({ ...plan.env, SUPABASE_URL, API_FAKES_ORIGIN: new URL(STACK_FAKES).origin });
    assert.match(banner, /redirect URI to register: http:\/\/127\.0\.0\.1:18000\/functions\/v1\/youtube-oauth\/callback/);
  });

  it('half an OAuth client stays on the fake and is named as missing', () => {
    const plan = planIntegrations(STACK_FAKES, { YOUTUBE_CLIENT_ID: CLIENT_ID });
    assert.equal(plan.services.youtube.backend, 'fake');
    assert.deepEqual(plan.services.youtube.missing, ['YOUTUBE_CLIENT_SECRET']);
    assert.equal(plan.env.YOUTUBE_CLIENT_ID, 'local-client-id.apps.googleusercontent.com');
  });

  it('only the dev profile reads .env by default; CCE_ENV_FILE names another file', () => {
    assert.equal(byokFile(profile('dev'), {}), resolve(ROOT, '.env'));
    assert.equal(byokFile(profile('test'), {}), null);
    assert.equal(byokFile(profile('test'), { CCE_ENV_FILE: '/tmp/x.env' }), '/tmp/x.env');
    assert.deepEqual(parseDotenv("A=1\n# c\nexport B='two words'\nC=3 # note\n\nbad line\n"), { A: '1', B: 'two words', C: '3' });
  });
});

describe('npm run doctor', () => {
  it('a fake at each "real" base URL with the right credentials: reported real, every check passes', async () => {
    const reports = await doctor(allReal());
    for (const r of reports) {
      assert.equal(r.backend, 'real', r.service);
      assert.equal(r.outcome?.ok, true, `${r.service}: ${JSON.stringify(r.outcome)}`);
    }
    assert.equal(failed(reports), false);
    assert.match(byService(reports, 'youtube').outcome!.explanation, /client id and secret accepted.*redirect URI .* accepted/);
  });

  it('missing credentials are reported as fakes and not called', async () => {
    const before = (await (await fetch(`${fakes.url}/_control/requests`)).json()) as { requests: unknown[] };
    const reports = await doctor({});
    assert.deepEqual(
      reports.map((r) => [r.service, r.backend, r.outcome]),
      [
        ['youtube', 'fake', null],
        ['gemini', 'fake', null],
        ['revid', 'fake', null],
      ],
    );
    assert.equal(failed(reports), false);
    const after = (await (await fetch(`${fakes.url}/_control/requests`)).json()) as { requests: unknown[] };
    assert.equal(after.requests.length, before.requests.length);
  });

  it('a wrong Gemini key: "bad key" with Google\'s code, and a failure', async () => {
    const reports = await doctor(allReal({ GEMINI_API_KEY: 'gemini-wrong-key' }));
    const gemini = byService(reports, 'gemini');
    assert.equal(gemini.outcome?.ok, false);
    assert.match(gemini.outcome!.code, /HTTP 400 INVALID_ARGUMENT API_KEY_INVALID/);
    assert.match(gemini.outcome!.explanation, /^bad key/);
    assert.equal(failed(reports), true);
    assert.doesNotMatch(formatReport(reports), /gemini-wrong-key|gemini-test-only|byok-test-only-secret|revid-test-only-key/);
  });

  it("Gemini API not enabled in the project: said so, with Google's reason", async () => {
    await control('/faults', {
      match: { pathPrefix: '/gemini/v1beta/models' },
      status: 403,
      body: {
        error: {
          code: 403,
          status: 'PERMISSION_DENIED',
          message: 'Generative Language API has not been used in project 1234 before or it is disabled.',
          details: [{ reason: 'SERVICE_DISABLED' }],
        },
      },
    });
    const gemini = byService(await doctor(allReal()), 'gemini');
    assert.equal(gemini.outcome?.ok, false);
    assert.match(gemini.outcome!.code, /HTTP 403 PERMISSION_DENIED SERVICE_DISABLED/);
    assert.match(gemini.outcome!.explanation, /^API not enabled/);
  });

  it('a wrong RevID key: "bad key", HTTP 401', async () => {
    const revid = byService(await doctor(allReal({ REVID_API_KEY: 'revid-wrong' })), 'revid');
    assert.equal(revid.outcome?.ok, false);
    assert.equal(revid.outcome!.code, 'HTTP 401');
    assert.match(revid.outcome!.explanation, /^bad key/);
  });

  it('OAuth: wrong secret, unknown client and unregistered redirect URI are each named', async () => {
    const secret = byService(await doctor(allReal({ YOUTUBE_CLIENT_SECRET: 'wrong' })), 'youtube').outcome!;
    assert.equal(secret.ok, false);
    assert.match(secret.code, /HTTP 401 invalid_client/);
    assert.match(secret.explanation, /^bad client secret/);

    const client = byService(await doctor(allReal({ YOUTUBE_CLIENT_ID: 'nobody.apps.googleusercontent.com' })), 'youtube').outcome!;
    assert.match(client.explanation, /^bad client id/);

    await control('/youtube/oauth-clients', {
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: ['http://127.0.0.1:9/elsewhere'] }],
    });
    const redirect = byService(await doctor(allReal()), 'youtube').outcome!;
    assert.equal(redirect.ok, false);
    assert.match(redirect.code, /HTTP 302 redirect_uri_mismatch/);
    assert.match(redirect.explanation, new RegExp(`^wrong redirect URI: add ${REDIRECT_URI.replaceAll('.', '\\.')}`));
  });

  it('half a client is a failure; nothing listening is "no network" with the error code', async () => {
    const half = byService(await doctor({ YOUTUBE_CLIENT_SECRET: CLIENT_SECRET }), 'youtube');
    assert.equal(half.outcome?.ok, false);
    assert.match(half.outcome!.explanation, /YOUTUBE_CLIENT_ID missing/);

    // A loopback port that was just free: nothing listens, the connection is refused at once.
    const port = await freePort();
    const gemini = byService(await doctor({ GEMINI_API_KEY: GEMINI_KEY, GEMINI_API_BASE: `http://127.0.0.1:${port}/gemini` }), 'gemini');
    assert.equal(gemini.outcome?.ok, false);
    assert.equal(gemini.outcome!.code, 'ECONNREFUSED');
    assert.match(gemini.outcome!.explanation, new RegExp(`^no network: could not reach 127\\.0\\.0\\.1:${port}`));
  });

  it('authError: the code Google puts in its error redirect is read back', () => {
    // field 1 "redirect_uri_mismatch", field 2 a message, field 4 = 400
    const sample = Buffer.concat([
      Buffer.from([0x0a, 21]),
      Buffer.from('redirect_uri_mismatch'),
      Buffer.from([0x12, 3]),
      Buffer.from('bad'),
      Buffer.from([0x20, 0x90, 0x03]),
    ]);
    assert.equal(authErrorCode(sample.toString('base64')), 'redirect_uri_mismatch');
    assert.equal(authErrorCode(sample.toString('base64url')), 'redirect_uri_mismatch');
  });

  it('the command: exit 0 when every credential works, 1 with an explanation when one fails, never a key printed', async () => {
    const env = { ...process.env, CCE_PROFILE: 'byok-unit', CCE_PORT_BASE: String(PORT_BASE) };
    const good = join(dir, 'good.env');
    writeFileSync(
      good,
      Object.entries(allReal({ YOUTUBE_CLIENT_ID: undefined, YOUTUBE_CLIENT_SECRET: undefined }))
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    const ok = await run(process.execPath, ['--import', 'tsx', resolve(ROOT, 'tools/doctor.ts')], { env: { ...env, CCE_ENV_FILE: good } });
    assert.match(ok.stdout, /✓ Gemini: REAL ok/);
    assert.match(ok.stdout, /✓ RevID: REAL ok/);
    assert.match(ok.stdout, /· YouTube \+ Google OAuth: fake/);
    assert.doesNotMatch(ok.stdout, new RegExp(`${GEMINI_KEY}|${REVID_KEY}`));

    const bad = join(dir, 'bad.env');
    writeFileSync(bad, `GEMINI_API_KEY=gemini-not-the-key\nGEMINI_API_BASE=${fakes.url}/gemini\n`);
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', resolve(ROOT, 'tools/doctor.ts')], { env: { ...env, CCE_ENV_FILE: bad } }),
      (err: { code: number; stdout: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stdout, /✗ Gemini: REAL FAILED \[HTTP 400 INVALID_ARGUMENT API_KEY_INVALID\]/);
        assert.match(err.stdout, /bad key/);
        assert.doesNotMatch(err.stdout, /gemini-not-the-key/);
        return true;
      },
    );
  });
});
