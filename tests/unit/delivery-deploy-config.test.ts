// What the deploy pushes besides code: the functions' settings (tools/deploy/function-secrets.ts),
// the packaged web app (tools/deploy/web-output.ts), the outcome message (tools/deploy/notify.mjs),
// supabase/config.toml's production settings, and the Lighthouse budgets.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { FUNCTION_ENV, functionEnvFile } from '../../tools/deploy/function-secrets.ts';
import { deploymentMessage, postMessage } from '../../tools/deploy/notify.mjs';
import { ROUTES, writeWebOutput } from '../../tools/deploy/web-output.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const jwt = (claims: object) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

describe('function secrets', () => {
  const complete = {
    YOUTUBE_CLIENT_ID: 'client.apps.googleusercontent.com',
    YOUTUBE_CLIENT_SECRET: 'secret$with#chars',
    GEMINI_API_KEY: 'gemini-key',
    REVID_API_KEY: 'revid-key',
    WEB_APP_URL: 'https://app.example.com',
    APP_VERSION: 'v1.2.0',
  };

  it('writes the required settings, single-quoted so $ and # stay literal, and forces mocking off', () => {
    const { text, names } = functionEnvFile({ ...complete, MAX_API_REQUESTS_PER_MINUTE: '200', ENABLE_DEBUG_MODE: '' });
    assert.deepEqual(names, [...Object.keys(complete), 'ENABLE_API_MOCKING', 'MAX_API_REQUESTS_PER_MINUTE']);
    assert.match(text, /^YOUTUBE_CLIENT_SECRET='secret\$with#chars'$/m);
    assert.match(text, /^ENABLE_API_MOCKING='false'$/m);
    assert.doesNotMatch(text, /ENABLE_DEBUG_MODE/);
  });

  it('refuses a deploy with missing or malformed settings and names each one, never a value', () => {
    assert.throws(
      () =>
        functionEnvFile({
          ...complete,
          GEMINI_API_KEY: '',
          WEB_APP_URL: 'http://app.example.com',
          ENABLE_ANALYTICS: 'yes',
          ENABLE_API_MOCKING: 'true',
        }),
      (err: Error) =>
        /GEMINI_API_KEY is not set/.test(err.message) &&
        /WEB_APP_URL must be an https URL/.test(err.message) &&
        /ENABLE_ANALYTICS must be true or false/.test(err.message) &&
        /ENABLE_API_MOCKING must be false/.test(err.message) &&
        !err.message.includes('secret$with#chars'),
    );
    assert.throws(() => functionEnvFile({ ...complete, REVID_API_KEY: "it's" }), /REVID_API_KEY contains a quote/);
    // Only the local stack exempts origins (its fakes) from the public-address check of fetches.
    assert.throws(
      () => functionEnvFile({ ...complete, OUTBOUND_TRUSTED_ORIGINS: 'http://10.0.0.5' }),
      (err: Error) =>
        /OUTBOUND_TRUSTED_ORIGINS must not be set in a deployed environment/.test(err.message) && !err.message.includes('10.0.0.5'),
    );
    // Only the local stack has fakes for health to report services as fake against.
    assert.throws(
      () => functionEnvFile({ ...complete, API_FAKES_ORIGIN: 'https://127.0.0.1:54333' }),
      /API_FAKES_ORIGIN must not be set in a deployed environment/,
    );
  });

  it('covers every setting the functions read, and none of the platform’s SUPABASE_* names', () => {
    const read = new Set<string>();
    const schema = readFileSync(resolve(ROOT, 'supabase/functions/_shared/platform/env.ts'), 'utf8');
    // The schema's keys: from its declaration to the type derived from it, however it is laid out.
    const block = schema.slice(schema.indexOf('export const EnvSchema'), schema.indexOf('export type Env '));
    for (const m of block.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)) read.add(m[1]);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    for (const file of walk(resolve(ROOT, 'supabase/functions'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/Deno\.env\.get\(['"]([A-Z][A-Z0-9_]+)['"]\)/g)) read.add(m[1]);
    }
    const platform = [...read].filter((n) => n.startsWith('SUPABASE_'));
    assert.ok(platform.length >= 4, `SUPABASE_* names read: ${platform.join(', ')}`);
    const pushed = new Set(Object.keys(FUNCTION_ENV));
    assert.deepEqual(
      [...read].filter((n) => !n.startsWith('SUPABASE_') && !pushed.has(n)),
      [],
      'read by functions but never deployed',
    );
    assert.deepEqual(
      [...pushed].filter((n) => n.startsWith('SUPABASE_')),
      [],
    );
  });
});

describe('web output (Vercel Build Output API v3)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'web-output-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const build = join(dir, 'build');
  mkdirSync(join(build, '_app/immutable/chunks'), { recursive: true });
  writeFileSync(join(build, 'index.html'), '<!doctype html><html></html>');
  writeFileSync(join(build, 'favicon.svg'), '<svg/>');
  writeFileSync(join(build, 'config.example.json'), '{}');
  writeFileSync(join(build, '_app/immutable/chunks/app.abc123.js'), 'export {}');
  const anonKey = jwt({ role: 'anon', iss: 'supabase' });

  it('copies the build, writes this environment’s config.json and the routing rules', () => {
    const out = join(dir, 'output');
    const config = writeWebOutput({
      buildDir: build,
      outDir: out,
      config: { supabaseUrl: 'https://abcdefghijklmnopqrst.supabase.co/', supabaseAnonKey: anonKey },
    });
    assert.deepEqual(config, { supabaseUrl: 'https://abcdefghijklmnopqrst.supabase.co', supabaseAnonKey: anonKey });
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'static/config.json'), 'utf8')), config);
    assert.ok(existsSync(join(out, 'static/index.html')) && existsSync(join(out, 'static/_app/immutable/chunks/app.abc123.js')));
    assert.ok(!existsSync(join(out, 'static/config.example.json')), 'the placeholder config is not published');
    const vercel = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(vercel.version, 3);
    assert.deepEqual(vercel.routes, JSON.parse(JSON.stringify(ROUTES)));
  });

  it('refuses a service role key, a plain-http remote URL and a URL with a query', () => {
    const out = join(dir, 'refused');
    const attempt = (supabaseUrl: string, supabaseAnonKey: string) => () =>
      writeWebOutput({ buildDir: build, outDir: out, config: { supabaseUrl, supabaseAnonKey } });
    assert.throws(attempt('https://x.supabase.co', jwt({ role: 'service_role' })), /secret \(service role\) key/);
    assert.throws(attempt('https://x.supabase.co', 'sb_secret_abcdef'), /secret \(service role\) key/);
    assert.throws(attempt('http://x.supabase.co', anonKey), /https/);
    assert.throws(attempt('https://x.supabase.co?a=1', anonKey), /query or fragment/);
    assert.throws(
      () =>
        writeWebOutput({
          buildDir: join(dir, 'nothing'),
          outDir: out,
          config: { supabaseUrl: 'https://x.supabase.co', supabaseAnonKey: anonKey },
        }),
      /index\.html is missing/,
    );
    assert.ok(!existsSync(join(out, 'static/config.json')));
  });

  // The routing rules read as Vercel applies them: header routes with `continue` add headers, the
  // filesystem serves existing files, then the fallback; nothing matched is a 404.
  function serve(path: string, files: Set<string>): { status: number; file?: string; headers: Record<string, string> } {
    const headers: Record<string, string> = {};
    let i = 0;
    for (; i < ROUTES.length; i++) {
      const route = ROUTES[i];
      if ('handle' in route) break;
      if ('headers' in route && new RegExp(route.src).test(path)) Object.assign(headers, route.headers);
    }
    if (files.has(path)) return { status: 200, file: path, headers };
    for (const route of ROUTES.slice(i + 1)) {
      if ('dest' in route && new RegExp(route.src).test(path)) return { status: 200, file: route.dest, headers };
    }
    return { status: 404, headers };
  }

  it('serves like web/scripts/serve.mjs: app routes get index.html, missing assets 404, caching per kind', () => {
    const files = new Set(['/index.html', '/favicon.svg', '/config.json', '/_app/immutable/chunks/app.abc123.js']);
    assert.deepEqual(serve('/dashboard', files).file, '/index.html');
    assert.deepEqual(serve('/workspace/members', files).file, '/index.html');
    assert.equal(serve('/_app/immutable/chunks/missing.js', files).status, 404);
    assert.equal(serve('/_app/version.json', files).status, 404);
    assert.equal(serve('/missing.png', files).status, 404);
    assert.equal(serve('/favicon.svg', files).file, '/favicon.svg');
    assert.equal(serve('/_app/immutable/chunks/app.abc123.js', files).headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(serve('/config.json', files).headers['cache-control'], 'no-store');
    assert.equal(serve('/dashboard', files).headers['cache-control'], 'no-cache');
    for (const path of ['/dashboard', '/config.json', '/_app/immutable/chunks/app.abc123.js', '/missing.png']) {
      const h = serve(path, files).headers;
      assert.equal(h['x-content-type-options'], 'nosniff', path);
      assert.equal(h['x-frame-options'], 'DENY', path);
    }
  });
});

describe('deploy notification', () => {
  const ok = {
    QUALITY: 'success',
    SECURITY: 'success',
    MIGRATE: 'success',
    DEPLOY: 'success',
    FUNCTIONS: 'success',
    WEB: 'success',
    SMOKE: 'success',
    ENVIRONMENT: 'production',
    VERSION: 'v1.2.0',
    WEB_URL: 'https://app.example.com',
    RUN_URL: 'https://github.com/o/r/actions/runs/1',
  };

  it('says what is live where when every stage passed', () => {
    const m = deploymentMessage({ ...ok, LIGHTHOUSE: 'success' });
    assert.equal(m.ok, true);
    assert.equal(
      m.text,
      ':white_check_mark: v1.2.0 is live on production https://app.example.com (smoke test passed, Lighthouse within budget). <https://github.com/o/r/actions/runs/1|run log>',
    );
  });

  it('names the first stage that failed, and says when the new version already serves', () => {
    assert.match(
      deploymentMessage({ ...ok, MIGRATE: 'failure', DEPLOY: 'skipped', FUNCTIONS: '', WEB: '', SMOKE: '' }).text,
      /^:x: Deploy of v1\.2\.0 to production failed at the database migration\./,
    );
    assert.match(
      deploymentMessage({ ...ok, SECURITY: 'failure', MIGRATE: 'skipped', DEPLOY: 'skipped' }).text,
      /failed at the security checks/,
    );
    assert.match(
      deploymentMessage({ ...ok, DEPLOY: 'failure', SMOKE: 'failure' }).text,
      /^:x: v1\.2\.0 is live on production, but the smoke test failed\./,
    );
    assert.match(deploymentMessage({ ...ok, DEPLOY: 'cancelled', WEB: 'cancelled', SMOKE: '' }).text, /was cancelled at the web deploy/);
    const unfinished = deploymentMessage({ ...ok, DEPLOY: '' });
    assert.equal(unfinished.ok, false);
    assert.match(unfinished.text, /did not finish \(deploy: not run\)/);
  });

  it('posts {"text": …} as JSON and fails on a non-2xx answer', async () => {
    const received: { type?: string; body: string }[] = [];
    let status = 200;
    const server = http.createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      received.push({ type: req.headers['content-type'], body });
      res.writeHead(status);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      await postMessage(url, { text: 'hello' });
      assert.deepEqual(received, [{ type: 'application/json', body: '{"text":"hello"}' }]);
      status = 500;
      await assert.rejects(postMessage(url, { text: 'again' }), /answered 500/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('supabase/config.toml for production', () => {
  const toml = readFileSync(resolve(ROOT, 'supabase/config.toml'), 'utf8');
  const section = (name: string) => {
    const start = toml.indexOf(`\n[${name}]\n`);
    assert.ok(start >= 0, `no [${name}] section`);
    const rest = toml.slice(start + name.length + 4);
    return rest.slice(0, rest.search(/\n\[|$/));
  };

  it('declares verify_jwt for every deployed function', () => {
    const functions = readdirSync(resolve(ROOT, 'supabase/functions'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('_') && existsSync(resolve(ROOT, 'supabase/functions', e.name, 'index.ts')))
      .map((e) => e.name);
    assert.ok(functions.includes('health') && functions.includes('workspaces'), functions.join(', '));
    for (const fn of functions) assert.match(section(`functions.${fn}`), /^verify_jwt = (true|false)$/m, `[functions.${fn}] verify_jwt`);
  });

  it('exposes only public through the API and takes the site URL from the environment', () => {
    assert.match(section('api'), /^schemas = \["public"\]$/m);
    const auth = section('auth');
    assert.match(auth, /^site_url = "env\(SITE_URL\)"$/m);
    assert.match(auth, /^additional_redirect_urls = \["env\(SITE_REDIRECT_URL\)"\]$/m);
    assert.match(auth, /^jwt_expiry = 3600$/m);
    assert.match(auth, /^enable_refresh_token_rotation = true$/m);
    assert.match(auth, /^minimum_password_length = 8$/m);
    assert.match(auth, /^enable_anonymous_sign_ins = false$/m);
    const workflow = readFileSync(resolve(ROOT, '.github/workflows/deploy.yml'), 'utf8');
    assert.match(workflow, /SITE_URL: \$\{\{ vars\.WEB_URL \}\}/);
    assert.match(workflow, /SITE_REDIRECT_URL: \$\{\{ vars\.WEB_URL \}\}\/\*\*/);
  });
});

describe('Lighthouse CI configuration', () => {
  const rc = createRequire(import.meta.url)(resolve(ROOT, 'tools/lighthouse/lighthouserc.cjs')) as {
    ci: { collect: { url: string[]; puppeteerScript: string }; assert: { assertions: Record<string, [string, { minScore: number }]> } };
  };

  it('audits the sign-in page and the dashboard', () => {
    assert.deepEqual(
      rc.ci.collect.url.map((u) => new URL(u).pathname),
      ['/sign-in', '/dashboard'],
    );
    assert.ok(existsSync(resolve(ROOT, 'tools/lighthouse/session.cjs')));
  });

  it('fails below the budgets: performance 90, accessibility 95, best practices 95', () => {
    const a = rc.ci.assert.assertions;
    assert.deepEqual(a['categories:performance'], ['error', { minScore: 0.9, aggregationMethod: 'median-run' }]);
    assert.deepEqual(a['categories:accessibility'], ['error', { minScore: 0.95, aggregationMethod: 'median-run' }]);
    assert.deepEqual(a['categories:best-practices'], ['error', { minScore: 0.95, aggregationMethod: 'median-run' }]);
  });
});
