// The browser tests' Chromium trusts the fakes' certificate (so the fake Google consent page loads
// over HTTPS) and no other untrusted certificate: a server with a certificate of another local CA,
// made the same way for a throwaway data dir, is refused. Needs LOCAL_FAKES_URL and
// LOCAL_FAKES_TLS_CERT from the stack's env.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import playwright from '../../web/node_modules/playwright-core/index.js';
import type { Browser } from '../../web/node_modules/playwright-core/index.js';
import type { Profile } from '../../local/profile.ts';
import { ensureStackTls } from '../../local/stack/tls.ts';
import { chromiumArgs, CHROMIUM_PATH } from './chromium.ts';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run this test through the test runner (npm test) or export the stack's env`);
  return value;
}

let browser: Browser;
let stranger: Server;
let strangerUrl: string;
const scratch = mkdtempSync(join(tmpdir(), 'cce-browser-tls-'));

before(async () => {
  requiredEnv('LOCAL_FAKES_TLS_CERT');
  // Only dataRoot and name are read: a CA and certificate for 127.0.0.1 of a data dir nobody trusts.
  const other = ensureStackTls({ name: 'stranger', dataRoot: scratch } as Profile);
  stranger = createServer({ cert: readFileSync(other.certFile), key: readFileSync(other.keyFile) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('stranger');
  });
  await new Promise<void>((resolveListen) => stranger.listen(0, '127.0.0.1', resolveListen));
  strangerUrl = `https://127.0.0.1:${(stranger.address() as AddressInfo).port}/`;
  browser = await playwright.chromium.launch({ executablePath: CHROMIUM_PATH, args: chromiumArgs() });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => stranger?.close(r));
  rmSync(scratch, { recursive: true, force: true });
});

test("Chromium accepts the fakes' certificate and refuses another local CA's", async () => {
  const page = await (await browser.newContext()).newPage();
  const fakes = await page.goto(`${requiredEnv('LOCAL_FAKES_URL')}/_control/health`);
  assert.equal(fakes?.status(), 200);
  assert.match((await page.textContent('body')) ?? '', /"ok":true/);

  await assert.rejects(page.goto(strangerUrl), /ERR_CERT_AUTHORITY_INVALID/);
});
