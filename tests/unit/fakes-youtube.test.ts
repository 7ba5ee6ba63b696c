// The fake YouTube speaks the real wire format: Google OAuth with PKCE, Data API v3 lists with
// paging, Analytics v2 reports, quota. Server in-process on a free port.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createFakesServer, type FakesServer } from '../../local/fakes/server.ts';

let fakes: FakesServer;
let base: string;
const CLIENT_ID = 'test-client.apps.googleusercontent.com';
const REDIRECT = 'http://127.0.0.1:9/oauth/callback';
const SCOPE = 'https://www.googleapis.com/auth/youtube.readonly https://www.googleapis.com/auth/yt-analytics.readonly';

before(async () => {
  fakes = await createFakesServer({ port: 0 });
  base = fakes.url;
});
after(async () => {
  await fakes.close();
});
beforeEach(async () => {
  assert.equal((await fetch(`${base}/_control/reset`, { method: 'POST' })).status, 200);
});

// ---- helpers ----------------------------------------------------------------------------------

// Responses are read loosely; the assertions are what check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

async function control(path: string, body?: unknown): Promise<Json> {
  const r = await fetch(
    `${base}/_control${path}`,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const json = (await r.json()) as Json;
  assert.ok(r.ok, `${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

function pkce() {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(challenge: string, extra: Record<string, string> = {}) {
  const q = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: SCOPE,
    state: 'st-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    access_type: 'offline',
    prompt: 'consent',
    ...extra,
  });
  return `${base}/oauth/o/oauth2/v2/auth?${q}`;
}

/** Follows the consent flow like a browser would, returning the redirect's query. */
async function consent(challenge: string, extra: Record<string, string> = {}): Promise<URLSearchParams> {
  const r = await fetch(authorizeUrl(challenge, { auto: '1', ...extra }), { redirect: 'manual' });
  assert.equal(r.status, 302);
  const location = new URL(r.headers.get('location')!);
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
  return location.searchParams;
}

async function tokenRequest(fields: Record<string, string>) {
  const r = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, client_secret: 'test-secret', ...fields }),
  });
  return { status: r.status, body: (await r.json()) as Json };
}

async function exchange(code: string, verifier: string) {
  return tokenRequest({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT });
}

async function api(path: string, accessToken?: string) {
  const r = await fetch(`${base}${path}`, accessToken ? { headers: { authorization: `Bearer ${accessToken}` } } : {});
  return { status: r.status, headers: r.headers, body: (await r.json()) as Json };
}

async function newChannel(videos: number, seed: string, extra: Json = {}) {
  return control('/youtube/channels', { videos, seed, ...extra });
}

function isoDay(offsetDays: number) {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

// ---- OAuth ------------------------------------------------------------------------------------

describe('Google OAuth', () => {
  it('consent page has an Allow link that redirects with code and state', async () => {
    const { challenge } = pkce();
    const page = await fetch(authorizeUrl(challenge));
    assert.equal(page.status, 200);
    const html = await page.text();
    const href = /id="allow" href="([^"]+)"/.exec(html)?.[1]?.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
    assert.ok(href, 'Allow link present');
    assert.match(html, /Catalyst Demo Kitchen/);
    const r = await fetch(new URL(href, base), { redirect: 'manual' });
    assert.equal(r.status, 302);
    const q = new URL(r.headers.get('location')!).searchParams;
    assert.equal(q.get('state'), 'st-123');
    assert.match(q.get('code')!, /^4\/0A/);
  });

  it('rejects a malformed authorize request with an error page', async () => {
    const r = await fetch(authorizeUrl(pkce().challenge, { response_type: 'token' }));
    assert.equal(r.status, 400);
    assert.match(await r.text(), /invalid_request/);
    const missing = await fetch(`${base}/oauth/o/oauth2/v2/auth?client_id=x&response_type=code&scope=a`);
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /Missing required parameter: redirect_uri/);
  });

  it('code + PKCE flow gives tokens that read the chosen channel', async () => {
    const { verifier, challenge } = pkce();
    const q = await consent(challenge);
    const { status, body } = await exchange(q.get('code')!, verifier);
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(body.access_token, /^ya29\./);
    assert.match(body.refresh_token, /^1\/\//);
    assert.equal(body.expires_in, 3599);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, SCOPE);

    const channels = await api('/youtube/youtube/v3/channels?part=snippet,contentDetails,statistics&mine=true', body.access_token);
    assert.equal(channels.status, 200);
    assert.equal(channels.body.kind, 'youtube#channelListResponse');
    const [channel] = channels.body.items;
    assert.equal(channel.kind, 'youtube#channel');
    assert.match(channel.id, /^UC[A-Za-z0-9_-]{22}$/);
    assert.equal(channel.snippet.title, 'Catalyst Demo Kitchen');
    assert.equal(channel.contentDetails.relatedPlaylists.uploads, 'UU' + channel.id.slice(2));
    assert.equal(typeof channel.statistics.viewCount, 'string');
    assert.match(channel.statistics.videoCount, /^\d+$/);
    assert.equal(typeof channel.etag, 'string');

    // Another channel can be chosen on the consent page.
    const other = await newChannel(3, 'oauth-other');
    const p2 = pkce();
    const q2 = await consent(p2.challenge, { channel_id: other.channelId });
    const t2 = await exchange(q2.get('code')!, p2.verifier);
    const mine = await api('/youtube/youtube/v3/channels?part=id&mine=true', t2.body.access_token);
    assert.equal(mine.body.items[0].id, other.channelId);
  });

  it('a wrong or missing code_verifier is invalid_grant and does not burn the code', async () => {
    const { verifier, challenge } = pkce();
    const code = (await consent(challenge)).get('code')!;
    const wrong = await exchange(code, pkce().verifier);
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.body, { error: 'invalid_grant', error_description: 'Invalid code verifier.' });
    const missing = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_grant');
    assert.equal((await exchange(code, verifier)).status, 200);
  });

  it('a code works once', async () => {
    const { verifier, challenge } = pkce();
    const code = (await consent(challenge)).get('code')!;
    assert.equal((await exchange(code, verifier)).status, 200);
    const again = await exchange(code, verifier);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    const bogus = await exchange('4/0Anot-a-code', verifier);
    assert.equal(bogus.body.error, 'invalid_grant');
  });

  it('checks redirect_uri, client and grant type', async () => {
    const { verifier, challenge } = pkce();
    const code = (await consent(challenge)).get('code')!;
    const badRedirect = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: 'http://127.0.0.1:9/other',
    });
    assert.equal(badRedirect.body.error, 'redirect_uri_mismatch');
    const noSecret = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=authorization_code&code=${encodeURIComponent(code)}&client_id=${CLIENT_ID}`,
    });
    assert.equal(noSecret.status, 400);
    assert.equal(((await noSecret.json()) as Json).error, 'invalid_request');
    const badGrant = await tokenRequest({ grant_type: 'password' });
    assert.deepEqual(badGrant.body, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: password' });
  });

  it('refresh grant returns a new access token and no refresh_token', async () => {
    const { verifier, challenge } = pkce();
    const first = await exchange((await consent(challenge)).get('code')!, verifier);
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.refresh_token, undefined);
    assert.equal(refreshed.body.expires_in, 3599);
    assert.notEqual(refreshed.body.access_token, first.body.access_token);
    assert.equal((await api('/youtube/youtube/v3/channels?part=id&mine=true', refreshed.body.access_token)).status, 200);
  });

  it('a revoked refresh token is invalid_grant (control revoke and /oauth/revoke)', async () => {
    const a = await newChannel(2, 'revoke-a');
    await control('/youtube/tokens/revoke', { refresh_token: a.refreshToken });
    const r1 = await tokenRequest({ grant_type: 'refresh_token', refresh_token: a.refreshToken });
    assert.equal(r1.status, 400);
    assert.deepEqual(r1.body, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    // Revoking ends the access tokens of the grant too.
    assert.equal((await api('/youtube/youtube/v3/channels?part=id&mine=true', a.accessToken)).status, 401);

    const b = await control('/youtube/tokens', { channelId: a.channelId });
    const revoked = await fetch(`${base}/oauth/revoke?token=${encodeURIComponent(b.refreshToken)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(revoked.status, 200);
    const r2 = await tokenRequest({ grant_type: 'refresh_token', refresh_token: b.refreshToken });
    assert.equal(r2.body.error, 'invalid_grant');
    const again = await fetch(`${base}/oauth/revoke?token=${encodeURIComponent(b.refreshToken)}`, { method: 'POST' });
    assert.equal(again.status, 400);
  });

  it("an expired or unknown access token gets 401 with Google's authError body", async () => {
    const a = await newChannel(2, 'expire-a');
    assert.equal((await api('/youtube/youtube/v3/channels?part=id&mine=true', a.accessToken)).status, 200);
    const expired = await control('/youtube/tokens/expire-access', {});
    assert.ok(expired.expired >= 1);
    for (const token of [a.accessToken, 'ya29.unknown']) {
      const r = await api('/youtube/youtube/v3/channels?part=id&mine=true', token);
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, {
        error: {
          code: 401,
          message:
            'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          errors: [
            { message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' },
          ],
          status: 'UNAUTHENTICATED',
        },
      });
      assert.match(r.headers.get('www-authenticate')!, /invalid_token/);
    }
    // The refresh token still works and mints a fresh access token.
    const fresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: a.refreshToken });
    assert.equal((await api('/youtube/youtube/v3/channels?part=id&mine=true', fresh.body.access_token)).status, 200);
  });

  it('checks scopes: an upload-only token cannot read analytics', async () => {
    const a = await newChannel(2, 'scope-a', { scopes: ['https://www.googleapis.com/auth/youtube.upload'] });
    const r = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2020-01-01&endDate=${isoDay(0)}&metrics=views`,
      a.accessToken,
    );
    assert.equal(r.status, 403);
    assert.equal(r.body.error.errors[0].reason, 'insufficientPermissions');
  });
});

// ---- Data API ----------------------------------------------------------------------------------

describe('YouTube Data API v3', () => {
  it('paging over a 5,000-video uploads playlist returns every video exactly once', async () => {
    const ch = await newChannel(5000, 'paging-5000');
    const catalogue = await control(`/youtube/channels/${ch.channelId}/videos`);
    assert.equal(catalogue.videos.length, 5000);

    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const q = new URLSearchParams({ part: 'contentDetails,snippet', playlistId: ch.uploadsPlaylistId, maxResults: '50' });
      if (pageToken) q.set('pageToken', pageToken);
      const r = await api(`/youtube/youtube/v3/playlistItems?${q}`, ch.accessToken);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.kind, 'youtube#playlistItemListResponse');
      assert.deepEqual(r.body.pageInfo, { totalResults: 5000, resultsPerPage: 50 });
      for (const item of r.body.items) {
        assert.equal(item.kind, 'youtube#playlistItem');
        assert.equal(item.snippet.resourceId.videoId, item.contentDetails.videoId);
        assert.equal(item.snippet.position, seen.length);
        seen.push(item.contentDetails.videoId);
      }
      pageToken = r.body.nextPageToken;
      pages++;
    } while (pageToken);
    assert.equal(pages, 100);
    assert.equal(seen.length, 5000);
    assert.equal(new Set(seen).size, 5000);
    assert.deepEqual([...seen].sort(), catalogue.videos.map((v: Json) => v.id).sort());
  });

  it('a non-owner sees only public uploads; bad page tokens and unknown playlists are errors', async () => {
    const ch = await newChannel(300, 'visibility');
    const catalogue = await control(`/youtube/channels/${ch.channelId}/videos`);
    const publicCount = catalogue.videos.filter((v: Json) => v.privacyStatus === 'public').length;
    assert.ok(publicCount < 300, 'the catalogue has some private or unlisted videos');
    const r = await api(`/youtube/youtube/v3/playlistItems?part=id&playlistId=${ch.uploadsPlaylistId}&maxResults=50&key=some-api-key`);
    assert.equal(r.status, 200);
    assert.equal(r.body.pageInfo.totalResults, publicCount);

    const bad = await api(`/youtube/youtube/v3/playlistItems?part=id&playlistId=${ch.uploadsPlaylistId}&pageToken=garbage`, ch.accessToken);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.errors[0].reason, 'invalidPageToken');
    const missing = await api(`/youtube/youtube/v3/playlistItems?part=id&playlistId=UUnope`, ch.accessToken);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.errors[0].reason, 'playlistNotFound');
    const tooMany = await api(`/youtube/youtube/v3/playlistItems?part=id&playlistId=${ch.uploadsPlaylistId}&maxResults=51`, ch.accessToken);
    assert.equal(tooMany.status, 400);
  });

  it('videos.list returns the real resource shapes, at most 50 ids', async () => {
    const ch = await newChannel(120, 'videos-list');
    const ids: string[] = (await control(`/youtube/channels/${ch.channelId}/videos`)).videos.map((v: Json) => v.id);

    const r = await api(
      `/youtube/youtube/v3/videos?part=snippet,contentDetails,statistics,status&id=${ids.slice(0, 50).join(',')}`,
      ch.accessToken,
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.kind, 'youtube#videoListResponse');
    assert.equal(r.body.items.length, 50);
    let shorts = 0;
    for (const v of r.body.items) {
      assert.equal(v.kind, 'youtube#video');
      assert.match(v.id, /^[A-Za-z0-9_-]{11}$/);
      assert.equal(typeof v.etag, 'string');
      assert.match(v.snippet.publishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(v.snippet.channelId, ch.channelId);
      assert.ok(v.snippet.title.length > 0 && v.snippet.title.length <= 100);
      assert.equal(v.snippet.thumbnails.default.width, 120);
      assert.match(v.snippet.categoryId, /^\d+$/);
      assert.match(v.contentDetails.duration, /^PT(\d+H)?(\d+M)?(\d+S)?$/);
      for (const k of ['viewCount', 'likeCount', 'commentCount', 'favoriteCount']) assert.match(v.statistics[k], /^\d+$/);
      assert.ok(['public', 'unlisted', 'private'].includes(v.status.privacyStatus));
      if (/^PT(\d+S|1M)$/.test(v.contentDetails.duration)) shorts++;
    }
    assert.ok(shorts > 5 && shorts < 45, `a mix of Shorts and long-form (${shorts} Shorts)`);

    const tooMany = await api(`/youtube/youtube/v3/videos?part=id&id=${ids.slice(0, 51).join(',')}`, ch.accessToken);
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error.code, 400);
    assert.ok(Array.isArray(tooMany.body.error.errors));

    const unknown = await api('/youtube/youtube/v3/videos?part=id&id=doesNotExist', ch.accessToken);
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.items.length, 0);
  });

  it('validates part and filters', async () => {
    const ch = await newChannel(1, 'params');
    const noPart = await api('/youtube/youtube/v3/channels?mine=true', ch.accessToken);
    assert.equal(noPart.status, 400);
    assert.equal(noPart.body.error.errors[0].reason, 'required');
    const badPart = await api('/youtube/youtube/v3/channels?part=snippets&mine=true', ch.accessToken);
    assert.equal(badPart.body.error.errors[0].reason, 'unknownPart');
    const noFilter = await api('/youtube/youtube/v3/videos?part=id', ch.accessToken);
    assert.equal(noFilter.status, 400);
    assert.equal(noFilter.body.error.errors[0].reason, 'missingRequiredParameter');
    const noCreds = await api('/youtube/youtube/v3/videos?part=id&id=x');
    assert.equal(noCreds.status, 403);
  });
});

// ---- Analytics ---------------------------------------------------------------------------------

describe('YouTube Analytics v2', () => {
  const METRICS =
    'views,estimatedMinutesWatched,averageViewDuration,averageViewPercentage,likes,comments,shares,subscribersGained,subscribersLost';

  it('daily channel report: headers, data lag, determinism', async () => {
    const ch = await newChannel(120, 'analytics-day');
    const path = `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=${isoDay(-400)}&endDate=${isoDay(0)}&metrics=${METRICS}&dimensions=day&sort=day`;
    const r = await api(path, ch.accessToken);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.kind, 'youtubeAnalytics#resultTable');
    assert.deepEqual(r.body.columnHeaders[0], { name: 'day', columnType: 'DIMENSION', dataType: 'STRING' });
    assert.deepEqual(
      r.body.columnHeaders.map((h: Json) => h.name),
      ['day', ...METRICS.split(',')],
    );
    assert.deepEqual(
      r.body.columnHeaders.find((h: Json) => h.name === 'averageViewPercentage'),
      { name: 'averageViewPercentage', columnType: 'METRIC', dataType: 'FLOAT' },
    );
    assert.equal(r.body.columnHeaders.find((h: Json) => h.name === 'views').dataType, 'INTEGER');

    const rows: Array<Array<string | number>> = r.body.rows;
    assert.ok(rows.length > 300, `${rows.length} days`);
    assert.equal(rows.at(-1)![0], isoDay(-2), 'data ends two days ago');
    const days = rows.map((row) => row[0] as string);
    assert.deepEqual(days, [...days].sort());
    for (const row of rows) {
      const [, views, , , pct] = row as [string, number, number, number, number];
      assert.ok(Number.isInteger(views) && views >= 0);
      if (views > 0) assert.ok(pct >= 20 && pct <= 70, `retention ${pct}`);
    }

    const again = await api(path, ch.accessToken);
    assert.deepEqual(again.body, r.body);
  });

  it('per-video report starts on the publish day and decays', async () => {
    const ch = await newChannel(60, 'analytics-video');
    const catalogue = (await control(`/youtube/channels/${ch.channelId}/videos`)).videos as Json[];
    const video = catalogue.find((v) => v.privacyStatus === 'public' && Date.parse(v.publishedAt) < Date.now() - 120 * 86_400_000)!;
    assert.ok(video, 'an older public video');
    const r = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2000-01-01&endDate=${isoDay(0)}&metrics=views,averageViewPercentage&dimensions=day&filters=video==${video.id}`,
      ch.accessToken,
    );
    assert.equal(r.status, 200);
    const rows = r.body.rows as Array<[string, number, number]>;
    assert.equal(rows[0]![0], video.publishedAt.slice(0, 10));
    assert.equal(rows.at(-1)![0], isoDay(-2));
    const firstWeek = rows.slice(1, 8).reduce((s, row) => s + row[1], 0);
    const lastWeek = rows.slice(-7).reduce((s, row) => s + row[1], 0);
    assert.ok(firstWeek > lastWeek * 2, `views decay (${firstWeek} then ${lastWeek})`);

    // The lifetime statistics of videos.list include everything the reports show.
    const stats = await api(`/youtube/youtube/v3/videos?part=statistics&id=${video.id}`, ch.accessToken);
    const total = rows.reduce((s, row) => s + row[1], 0);
    assert.ok(Number(stats.body.items[0].statistics.viewCount) >= total);
  });

  it('top-videos and day,video reports', async () => {
    const ch = await newChannel(40, 'analytics-top');
    const top = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2000-01-01&endDate=${isoDay(0)}&metrics=views,likes&dimensions=video&sort=-views&maxResults=10`,
      ch.accessToken,
    );
    assert.equal(top.status, 200);
    assert.equal(top.body.rows.length, 10);
    const views = top.body.rows.map((row: Json) => row[1]);
    assert.deepEqual(
      views,
      [...views].sort((a: number, b: number) => b - a),
    );
    // Top-videos reports need a descending sort and maxResults, as in the real API.
    const unsorted = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2000-01-01&endDate=${isoDay(0)}&metrics=views&dimensions=video`,
      ch.accessToken,
    );
    assert.equal(unsorted.status, 400);

    const both = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=${isoDay(-30)}&endDate=${isoDay(0)}&metrics=views&dimensions=day,video&maxResults=25&startIndex=11`,
      ch.accessToken,
    );
    assert.equal(both.status, 200);
    assert.deepEqual(
      both.body.columnHeaders.map((h: Json) => h.name),
      ['day', 'video', 'views'],
    );
    assert.equal(both.body.rows.length, 25);
  });

  it("validates parameters with Google's error shape", async () => {
    const ch = await newChannel(5, 'analytics-params');
    const missing = await api(`/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2024-01-01&endDate=2024-02-01`, ch.accessToken);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, 400);
    assert.equal(missing.body.error.message, 'Required parameter: metrics');
    assert.equal(missing.body.error.errors[0].reason, 'required');
    assert.equal(missing.body.error.status, 'INVALID_ARGUMENT');

    const unknown = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2024-01-01&endDate=2024-02-01&metrics=views,vibes`,
      ch.accessToken,
    );
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /Unknown identifier \(vibes\)/);
    const badDate = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2024-02-30&endDate=2024-03-01&metrics=views`,
      ch.accessToken,
    );
    assert.equal(badDate.status, 400);
    const reversed = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2024-03-01&endDate=2024-02-01&metrics=views`,
      ch.accessToken,
    );
    assert.equal(reversed.status, 400);
    const otherChannel = await api(
      `/youtube-analytics/v2/reports?ids=channel==UCsomeoneElse&startDate=2024-01-01&endDate=2024-02-01&metrics=views`,
      ch.accessToken,
    );
    assert.equal(otherChannel.status, 403);
    const noToken = await api(`/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2024-01-01&endDate=2024-02-01&metrics=views`);
    assert.equal(noToken.status, 401);
  });

  it('leaves rows out when there is no data yet', async () => {
    const ch = await newChannel(5, 'analytics-empty');
    const r = await api(
      `/youtube-analytics/v2/reports?ids=channel==MINE&startDate=${isoDay(-1)}&endDate=${isoDay(0)}&metrics=views&dimensions=day`,
      ch.accessToken,
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.rows, undefined);
    assert.equal(r.body.columnHeaders.length, 2);
  });
});

// ---- Quota -------------------------------------------------------------------------------------

describe('quota', () => {
  it('exhausting the daily budget gives 403 quotaExceeded', async () => {
    const ch = await newChannel(3, 'quota', { clientId: CLIENT_ID });
    await control('/youtube/quota', { dailyLimit: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await api('/youtube/youtube/v3/channels?part=id&mine=true', ch.accessToken)).status, 200);
    const r = await api('/youtube/youtube/v3/videos?part=id&id=x', ch.accessToken);
    assert.equal(r.status, 403);
    assert.equal(r.body.error.errors[0].reason, 'quotaExceeded');
    assert.equal(r.body.error.errors[0].domain, 'youtube.quota');
    const status = await control('/youtube/quota');
    assert.equal(status.usage[CLIENT_ID], 3);
    assert.equal(status.dailyLimit, 3);

    // Analytics has its own quota; another project still has budget.
    assert.equal(
      (await api(`/youtube-analytics/v2/reports?ids=channel==MINE&startDate=2024-01-01&endDate=2024-01-02&metrics=views`, ch.accessToken))
        .status,
      200,
    );
    const other = await control('/youtube/tokens', { channelId: ch.channelId, clientId: 'other-project' });
    assert.equal((await api('/youtube/youtube/v3/channels?part=id&mine=true', other.accessToken)).status, 200);

    // Invalid requests cost quota too.
    await control('/youtube/quota', { dailyLimit: 10_000, resetUsage: true });
    assert.equal((await api('/youtube/youtube/v3/videos?part=bogus&id=x', ch.accessToken)).status, 400);
    assert.equal((await control('/youtube/quota')).usage[CLIENT_ID], 1);
  });

  it('reset restores the default budget and forgets tokens', async () => {
    const ch = await newChannel(1, 'reset');
    await control('/youtube/quota', { dailyLimit: 0 });
    await control('/reset', {});
    assert.equal((await control('/youtube/quota')).dailyLimit, 10_000);
    assert.equal((await api('/youtube/youtube/v3/channels?part=id&mine=true', ch.accessToken)).status, 401);
    const channels = (await control('/youtube/channels')).channels as Json[];
    assert.deepEqual(
      channels.map((c) => c.demo),
      [true],
    );
  });
});
