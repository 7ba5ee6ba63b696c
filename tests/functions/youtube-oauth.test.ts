// youtube-oauth end to end against the fake Google: start → consent → callback (hands code and
// state to the web app, stores nothing) → /complete with the user's token → channel stored with
// encrypted tokens and a queued sync; another user completing someone's state → 403 with nothing
// stored; each bad state (forged, reused, expired) → 400 with nothing stored; roles; a channel of
// another workspace → 409; reconnect keeps the refresh token when Google sends none; disconnect
// revokes at Google.
import { createHash } from 'node:crypto';
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import {
  addFault,
  assertNoSecrets,
  clearFaults,
  completeConnect,
  connectChannel,
  connectedId,
  consent,
  control,
  createFakeChannel,
  fakeRequests,
  getCallback,
  handedOver,
  runsOf,
  startConnect,
  storedTokens,
} from './helpers/youtube.ts';
import { addMember, callFunction, createWorkspace, personalWorkspace, signUp, withDb } from './helpers/users.ts';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

async function channelsWithYoutubeId(youtubeChannelId: string) {
  return await withDb(
    (sql) => sql<{ id: string; workspace_id: string }[]>`
    select id, workspace_id from public.channels where youtube_channel_id = ${youtubeChannelId}`,
  );
}

Deno.test('connect end to end: consent URL, callback, channel stored with encrypted tokens, a connect sync queued', async () => {
  const alice = await signUp('yt-alice');
  const ws = await personalWorkspace(alice);
  const fake = await createFakeChannel(3);

  const { answer: start, consentUrl } = await startConnect(alice, ws);
  const p = consentUrl.searchParams;
  assertEquals(consentUrl.pathname.endsWith('/o/oauth2/v2/auth'), true, consentUrl.pathname);
  assertEquals(p.get('response_type'), 'code');
  assertEquals(p.get('access_type'), 'offline');
  assertEquals(p.get('prompt'), 'consent');
  assertEquals(p.get('include_granted_scopes'), 'true');
  assertEquals(p.get('code_challenge_method'), 'S256');
  assertMatch(p.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assertEquals(p.get('scope')?.split(' ').sort(), [
    'https://www.googleapis.com/auth/youtube.readonly',
    'https://www.googleapis.com/auth/youtube.upload',
    'https://www.googleapis.com/auth/yt-analytics.readonly',
  ]);
  assertEquals(p.get('redirect_uri'), `${Deno.env.get('SUPABASE_URL')}/functions/v1/youtube-oauth/callback`);
  const state = p.get('state')!;
  assertMatch(state, /^[A-Za-z0-9_-]{43}$/);

  // Only the state's sha256 is stored, with the PKCE verifier encrypted.
  const [stored] = await withDb(
    (sql) => sql`
    select workspace_id, user_id, used_at, expires_at - created_at as ttl, encode(code_verifier_enc, 'escape') as verifier_raw
    from private.youtube_oauth_states where state_hash = ${sha256(state)}`,
  );
  assertEquals(stored.workspace_id, ws);
  assertEquals(stored.user_id, alice.id);
  assertEquals(stored.used_at, null);
  assertEquals(stored.ttl, '00:10:00');
  assertEquals(start.body.expires_at !== undefined, true);

  const callbackUrl = await consent(consentUrl, fake.channelId);
  const { res, body } = await getCallback(callbackUrl);
  // The callback only hands code and state to the web app, in the fragment (out of every log).
  assertEquals(res.status, 302, body);
  const location = new URL(res.headers.get('location')!);
  assertEquals(location.search, '', 'nothing in the query');
  const handed = handedOver(res);
  assertEquals(handed.state, state);
  assertEquals((await channelsWithYoutubeId(fake.channelId)).length, 0, 'the callback stores nothing');
  const [pending] = await withDb((sql) => sql`select used_at from private.youtube_oauth_states where state_hash = ${sha256(state)}`);
  assertEquals(pending.used_at, null, 'the callback does not use the state up');

  const done = await completeConnect(alice, handed);
  assertEquals(done.status, 200, JSON.stringify(done.body));
  assertEquals(done.body.workspace_id, ws);
  const channelId = done.body.channel_id;

  const [channel] = await withDb((sql) => sql`select * from public.channels where id = ${channelId}`);
  assertEquals(channel.workspace_id, ws);
  assertEquals(channel.youtube_channel_id, fake.channelId);
  assertEquals(channel.title, fake.title);
  assertEquals(channel.uploads_playlist_id, fake.uploadsPlaylistId);
  assertEquals(channel.status, 'active');
  assertEquals(channel.connected_by, alice.id);

  const tokens = (await storedTokens(channelId))!;
  assertMatch(tokens.refresh_token ?? '', /^1\/\//);
  assertMatch(tokens.access_token ?? '', /^ya29\./);
  assertOk(tokens.access_token_expires_at!.getTime() > Date.now() + 3000_000, 'access token expiry stored');
  // The raw columns hold ciphertext only.
  assertNoSecrets(`${tokens.refresh_raw}${tokens.access_raw}`, [tokens.refresh_token, tokens.access_token], 'the raw credential columns');
  assertNoSecrets(
    JSON.stringify(start.body) + body + JSON.stringify([...res.headers]) + JSON.stringify(done.body),
    [tokens.refresh_token, tokens.access_token],
    'the responses',
  );

  const [used] = await withDb((sql) => sql`select used_at from private.youtube_oauth_states where state_hash = ${sha256(state)}`);
  assertOk(used.used_at !== null, 'the state is used up');
  const runs = await runsOf(channelId);
  assertEquals(runs.length, 1);
  assertEquals(runs[0].trigger, 'connect');
});

Deno.test('forged, reused and expired states → 400 and nothing stored', async () => {
  const bob = await signUp('yt-bob');
  const ws = await personalWorkspace(bob);
  const fake = await createFakeChannel(2);

  // Forged: a state this app never issued, with a perfectly good code.
  const { authCode } = await control('POST', 'youtube/tokens', { channelId: fake.channelId });
  const forged = await completeConnect(bob, { state: crypto.randomUUID(), code: authCode });
  assertEquals(forged.status, 400);
  assertEquals(forged.body.error.code, 'invalid_state');
  assertEquals((await channelsWithYoutubeId(fake.channelId)).length, 0);

  // A callback without a usable state: JSON for API clients, back to the web app for browsers
  // (which explains the code; hosted would show an HTML page of ours as plain text).
  const none = await getCallback(`${Deno.env.get('SUPABASE_URL')}/functions/v1/youtube-oauth/callback?code=abc`);
  assertEquals(none.res.status, 400);
  assertEquals(JSON.parse(none.body).error.code, 'invalid_state');
  const page = await getCallback(`${Deno.env.get('SUPABASE_URL')}/functions/v1/youtube-oauth/callback?state=no%20pe&code=x`, 'text/html');
  assertEquals(page.res.status, 302);
  assertEquals(new URL(page.res.headers.get('location')!).searchParams.get('error'), 'invalid_state');

  // Expired: issued, but more than 10 minutes ago.
  const expiring = await startConnect(bob, ws);
  const expiredCallback = await consent(expiring.consentUrl, fake.channelId);
  await withDb(
    (sql) => sql`
    update private.youtube_oauth_states set expires_at = now() - interval '1 second', created_at = now() - interval '11 minutes'
    where state_hash = ${sha256(expiring.consentUrl.searchParams.get('state')!)}`,
  );
  const expired = await completeConnect(bob, handedOver((await getCallback(expiredCallback)).res));
  assertEquals(expired.status, 400);
  assertEquals(expired.body.error.code, 'state_expired');
  assertEquals((await channelsWithYoutubeId(fake.channelId)).length, 0);

  // Reused: the same code and state a second time (replayed from history or a log).
  const flow = await connectChannel(bob, ws, fake.channelId);
  const channelId = connectedId(flow);
  const before = (await storedTokens(channelId))!;
  const replay = await completeConnect(bob, handedOver(flow.callback));
  assertEquals(replay.status, 400);
  assertEquals(replay.body.error.code, 'state_used');
  const after = (await storedTokens(channelId))!;
  assertEquals(after.updated_at.getTime(), before.updated_at.getTime(), 'credentials untouched');
  assertEquals(after.refresh_token, before.refresh_token);
  assertEquals((await channelsWithYoutubeId(fake.channelId)).length, 1);

  // Bad bodies and anonymous callers.
  assertEquals((await bob.call('youtube-oauth/complete', { method: 'POST', body: { state: 'x' } })).status, 400);
  assertEquals((await bob.call('youtube-oauth/complete', { method: 'POST', body: { state: 'a b', code: 'c' } })).status, 400);
  assertEquals((await callFunction(null, 'youtube-oauth/complete', { method: 'POST', body: handedOver(flow.callback) })).status, 401);
});

// A consent link started by one user and completed by another (forwarded, or opened in a browser
// where someone else is signed in) must not put the second person's channel and refresh token into
// the first one's workspace. Before completion was bound to the caller, the callback alone
// finished the flow into the initiator's workspace.
Deno.test('another user completing a state someone else started → 403, nothing stored, the state spent', async () => {
  const mallory = await signUp('yt-mallory');
  const victim = await signUp('yt-victim');
  const malloryWs = await personalWorkspace(mallory);
  const victimsChannel = await createFakeChannel(2, 'victim');

  // Mallory starts a connection of her workspace and sends the consent link to the victim, who
  // consents with their own Google account and comes back to the web app signed in as themselves.
  const { consentUrl } = await startConnect(mallory, malloryWs);
  const since = new Date();
  const { res } = await getCallback(await consent(consentUrl, victimsChannel.channelId), 'text/html');
  const handed = handedOver(res);
  const refused = await completeConnect(victim, handed);
  assertEquals(refused.status, 403, JSON.stringify(refused.body));
  assertEquals(refused.body.error.code, 'state_other_user');

  assertEquals((await channelsWithYoutubeId(victimsChannel.channelId)).length, 0, 'no channel stored');
  const [{ n }] = await withDb((sql) => sql`select count(*)::int as n from public.channels where workspace_id = ${malloryWs}`);
  assertEquals(n, 0, "nothing in the initiator's workspace");
  const exchanges = (await fakeRequests(since, '/oauth/token')).filter((r) => r.method === 'POST');
  assertEquals(exchanges.length, 0, "the victim's code was never exchanged");

  // The state is spent: not even its initiator can use the victim's code now.
  const replay = await completeConnect(mallory, handed);
  assertEquals(replay.status, 400);
  assertEquals(replay.body.error.code, 'state_used');
  assertEquals((await channelsWithYoutubeId(victimsChannel.channelId)).length, 0);
  const [state] = await withDb((sql) => sql`select used_at from private.youtube_oauth_states where state_hash = ${sha256(handed.state)}`);
  assertOk(state.used_at !== null, 'the state is used up');
});

Deno.test('start: editors and owners only (viewer 403, outsider 404, anonymous 401, bad body 400)', async () => {
  const owner = await signUp('yt-owner');
  const editor = await signUp('yt-editor');
  const viewer = await signUp('yt-viewer');
  const outsider = await signUp('yt-outsider');
  const ws = await createWorkspace(owner, 'YT Team');
  await addMember(owner, ws, editor, 'editor');
  await addMember(owner, ws, viewer, 'viewer');
  const body = { workspace_id: ws };

  assertEquals((await editor.call('youtube-oauth/start', { method: 'POST', body })).status, 200);
  assertEquals((await owner.call('youtube-oauth/start', { method: 'POST', body })).status, 200);
  const asViewer = await viewer.call('youtube-oauth/start', { method: 'POST', body });
  assertEquals(asViewer.status, 403);
  assertEquals(asViewer.body.error.code, 'forbidden');
  assertEquals((await outsider.call('youtube-oauth/start', { method: 'POST', body })).status, 404);
  assertEquals((await callFunction(null, 'youtube-oauth/start', { method: 'POST', body })).status, 401);
  assertEquals((await owner.call('youtube-oauth/start', { method: 'POST', body: { workspace_id: 'nope' } })).status, 400);
  assertEquals((await owner.call('youtube-oauth/start', { method: 'GET' })).status, 405);
});

Deno.test('a channel connected to another workspace → 409, nothing changes', async () => {
  const carol = await signUp('yt-carol');
  const dave = await signUp('yt-dave');
  const fake = await createFakeChannel(2);
  const carolsChannel = connectedId(await connectChannel(carol, await personalWorkspace(carol), fake.channelId));
  const before = (await storedTokens(carolsChannel))!;

  const flow = await connectChannel(dave, await personalWorkspace(dave), fake.channelId);
  assertEquals(flow.complete.status, 409, JSON.stringify(flow.complete.body));
  const err = flow.complete.body.error;
  assertEquals(err.code, 'channel_in_other_workspace');
  assertMatch(err.message, /already connected to another workspace/);
  const rows = await channelsWithYoutubeId(fake.channelId);
  assertEquals(rows.length, 1);
  assertEquals(rows[0].id, carolsChannel);
  assertEquals((await storedTokens(carolsChannel))!.refresh_token, before.refresh_token);
});

Deno.test('reconnect keeps the stored refresh token when Google sends none', async () => {
  const erin = await signUp('yt-erin');
  const ws = await personalWorkspace(erin);
  const fake = await createFakeChannel(2);
  const channelId = connectedId(await connectChannel(erin, ws, fake.channelId));
  const first = (await storedTokens(channelId))!;

  // Google often answers a repeated consent without a refresh_token: the next token response
  // carries a valid access token only.
  const { accessToken } = await control('POST', 'youtube/tokens', { channelId: fake.channelId });
  await addFault({
    match: { method: 'POST', pathPrefix: '/oauth/token' },
    status: 200,
    body: {
      access_token: accessToken,
      expires_in: 3599,
      scope: 'https://www.googleapis.com/auth/youtube.readonly https://www.googleapis.com/auth/yt-analytics.readonly',
      token_type: 'Bearer',
    },
    times: 1,
  });
  try {
    const again = connectedId(await connectChannel(erin, ws, fake.channelId));
    assertEquals(again, channelId);
  } finally {
    await clearFaults();
  }
  const second = (await storedTokens(channelId))!;
  assertEquals(second.refresh_token, first.refresh_token, 'the refresh token is kept');
  assertEquals(second.access_token, accessToken, 'the new access token is stored');
  assertOk(second.updated_at.getTime() > first.updated_at.getTime());
});

Deno.test('disconnect: owners only; revoked at Google, tokens deleted, channel disconnected', async () => {
  const frank = await signUp('yt-frank');
  const gina = await signUp('yt-gina');
  const outsider = await signUp('yt-out2');
  const ws = await createWorkspace(frank, 'Disconnect Co');
  await addMember(frank, ws, gina, 'editor');
  const fake = await createFakeChannel(2);
  const channelId = connectedId(await connectChannel(gina, ws, fake.channelId));
  const tokens = (await storedTokens(channelId))!;
  const body = { channel_id: channelId };

  assertEquals((await gina.call('youtube-oauth/disconnect', { method: 'POST', body })).status, 403);
  assertEquals((await outsider.call('youtube-oauth/disconnect', { method: 'POST', body })).status, 404);
  assertEquals((await frank.call('youtube-oauth/disconnect', { method: 'POST', body: {} })).status, 400);

  const since = new Date();
  const res = await frank.call('youtube-oauth/disconnect', { method: 'POST', body });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assertEquals(res.body, { channel: { id: channelId, status: 'disconnected' }, revoked_at_google: true });
  assertNoSecrets(JSON.stringify(res.body), [tokens.refresh_token, tokens.access_token], 'the disconnect answer');
  assertEquals(await storedTokens(channelId), null);
  const [channel] = await withDb((sql) => sql`select status from public.channels where id = ${channelId}`);
  assertEquals(channel.status, 'disconnected');
  const revokes = (await fakeRequests(since, '/oauth/revoke')).filter((r) => r.method === 'POST');
  assertEquals(revokes.length, 1);
  // Google no longer honours the grant.
  const refresh = await fetch(`${Deno.env.get('LOCAL_FAKES_URL')}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
      client_id: Deno.env.get('YOUTUBE_CLIENT_ID')!,
      client_secret: Deno.env.get('YOUTUBE_CLIENT_SECRET')!,
    }),
  });
  assertEquals(refresh.status, 400);
  assertEquals((await refresh.json()).error, 'invalid_grant');
  // No sync of it is left open.
  for (const run of await runsOf(channelId)) assertOk(['succeeded', 'failed'].includes(run.status), run.status);
});
