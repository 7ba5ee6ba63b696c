// No OAuth token, code or verifier ever appears in a response, a log line or an error message.
// The handlers run in this process (the same modules the functions server serves) so that their
// console output can be captured; the flow covers connect, a sync with a refresh after 401, and a
// sync that ends in invalid_grant. The stack's own log file is scanned as well when it exists.
import { dirname, join } from 'node:path';
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { settleInProcess } from './helpers/in-process.ts';
import oauthHandler from '../../supabase/functions/youtube-oauth/handler.ts';
import syncHandler from '../../supabase/functions/youtube-sync/handler.ts';
import { assertNoSecrets, consent, control, createFakeChannel, handedOver, queueRun, storedTokens, syncToEnd } from './helpers/youtube.ts';
import { personalWorkspace, signUp, stack, withDb } from './helpers/users.ts';

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';

function captureConsole() {
  const lines: string[] = [];
  const originals = new Map<ConsoleMethod, (...args: unknown[]) => void>();
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as ConsoleMethod[]) {
    originals.set(m, console[m]);
    console[m] = (...args: unknown[]) => lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  }
  return {
    lines,
    restore() {
      for (const [m, fn] of originals) console[m] = fn;
    },
  };
}

/** The in-process request for a gateway URL (`.../functions/v1/<fn>/<path>`). */
function local(url: string, init?: RequestInit): Request {
  const u = new URL(url);
  return new Request(`http://in-process${u.pathname.replace(/^\/functions\/v1/, '')}${u.search}`, init);
}

async function text(res: Response): Promise<string> {
  return `${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`;
}

Deno.test({
  name: 'tokens never appear in responses, log lines or stored error messages (connect, refresh on 401, invalid_grant)',
  fn: async () => {
    const user = await signUp('yt-secrets');
    const ws = await personalWorkspace(user);
    const fake = await createFakeChannel(5, 'secrets');
    const seen: string[] = [];
    const secrets = new Set<string>();
    const capture = captureConsole();
    try {
      // start
      const startRes = await oauthHandler(
        local(`${stack.url}/functions/v1/youtube-oauth/start`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ workspace_id: ws }),
        }),
      );
      const startBody = await startRes.text();
      seen.push(startBody);
      assertEquals(startRes.status, 200, startBody);
      const consentUrl = new URL(JSON.parse(startBody).url);

      // consent (at the fake) → callback (here) → the web app's /complete with the user's token
      const callbackUrl = await consent(consentUrl, fake.channelId);
      const code = new URL(callbackUrl).searchParams.get('code')!;
      secrets.add(code);
      const callbackRes = await oauthHandler(local(callbackUrl, { headers: { Accept: 'text/html' } }));
      seen.push(await text(callbackRes));
      const completeRes = await oauthHandler(
        local(`${stack.url}/functions/v1/youtube-oauth/complete`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(handedOver(callbackRes)),
        }),
      );
      const completeBody = await completeRes.text();
      seen.push(completeBody);
      assertEquals(completeRes.status, 200, completeBody);
      const channelId = JSON.parse(completeBody).channel_id as string;
      const first = (await storedTokens(channelId))!;
      secrets.add(first.refresh_token!).add(first.access_token!);
      const [{ verifier }] = await withDb(
        (sql) => sql`
        select private.decrypt_token(code_verifier_enc) as verifier from private.youtube_oauth_states
        where workspace_id = ${ws} order by created_at desc limit 1`,
      );
      secrets.add(verifier);

      // The stack's own worker, woken by the connect, syncs the channel first.
      assertEquals((await syncToEnd(channelId)).status, 'succeeded');

      // a sync whose access token has expired at Google: 401, refresh, retry
      await control('POST', 'youtube/tokens/expire-access', { access_token: first.access_token });
      const worker = (runId: string) =>
        syncHandler(
          local(`${stack.url}/functions/v1/youtube-sync/worker`, {
            method: 'POST',
            headers: { apikey: stack.serviceKey, Authorization: `Bearer ${stack.serviceKey}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ run_id: runId }),
          }),
        );
      const runId = await queueRun(channelId);
      for (let i = 0; i < 50; i++) {
        seen.push(await text(await worker(runId)));
        const [run] = await withDb((sql) => sql`select status from public.sync_runs where id = ${runId}`);
        if (run.status === 'succeeded') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const refreshed = (await storedTokens(channelId))!;
      secrets.add(refreshed.access_token!);

      // the grant is revoked: invalid_grant on refresh
      await control('POST', 'youtube/tokens/revoke', { refresh_token: first.refresh_token });
      const doomedRun = await queueRun(channelId);
      seen.push(await text(await worker(doomedRun)));
      const [failed] = await withDb(
        (sql) => sql`select status, last_error, cursor::text, stats::text from public.sync_runs where id = ${doomedRun}`,
      );
      assertEquals(failed.status, 'failed');
      seen.push(JSON.stringify(failed));

      // runs page, as a member sees it
      const runsRes = await syncHandler(
        local(`${stack.url}/functions/v1/youtube-sync/runs?channel_id=${channelId}`, {
          headers: { Authorization: `Bearer ${user.token}` },
        }),
      );
      seen.push(await text(runsRes));

      // disconnect (revokes what is left)
      const disconnectRes = await oauthHandler(
        local(`${stack.url}/functions/v1/youtube-oauth/disconnect`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ channel_id: channelId }),
        }),
      );
      seen.push(await text(disconnectRes));
      assertEquals(disconnectRes.status, 200);
    } finally {
      capture.restore();
      await settleInProcess();
    }

    assertEquals(secrets.size >= 5, true, 'code, verifier, refresh token and two access tokens were collected');
    const logs = capture.lines.join('\n');
    assertMatch(logs, /"event":"youtube_channel_connected"/);
    // The worker's one line per invocation counts the refresh and names the channel to reconnect.
    const steps = capture.lines.filter((l) => l.includes('"event":"sync_worker_step"')).map((l) => JSON.parse(l));
    assertOk(
      steps.some((l) => l.tokens_refreshed >= 1),
      `a refresh is counted: ${JSON.stringify(steps)}`,
    );
    const reauth = steps.find((l) => l.channels_reauth_required);
    assertOk(reauth, 'invalid_grant is logged');
    assertMatch(reauth.channels_reauth_required[0], /^[0-9a-f-]{36}$/);
    assertEquals(reauth.level, 'warn');
    assertNoSecrets(logs, [...secrets], 'the captured log output');
    assertNoSecrets(seen.join('\n'), [...secrets], 'the responses and stored run rows');

    // The running stack's functions log (its own worker may have processed the connect run), and
    // the lines the edge runtime kept out of it as hosted would (past its log limits).
    const logDir = join(dirname(Deno.env.get('LOCAL_KEY_FILE') ?? '/nonexistent'), 'logs');
    const dropped = Deno.env.get('LOCAL_EDGE_DROPPED_LOG') ?? join(logDir, 'functions-dropped.log');
    for (const logFile of [join(logDir, 'stack.log'), dropped]) {
      try {
        assertNoSecrets(await Deno.readTextFile(logFile), [...secrets], logFile);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  },
});
