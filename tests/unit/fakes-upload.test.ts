// The fake YouTube's resumable upload speaks Google's protocol (Location, 308 + Range, status
// queries, the final video resource), hashes what arrives without keeping it, and fails on
// demand: dropped connections, 5xx, quotaExceeded, uploadLimitExceeded. Also videos.update,
// scheduled publishing and thumbnails.set.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createFakesServer, type FakesServer } from '../../local/fakes/server.ts';

// Responses are read loosely; the assertions are what check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let fakes: FakesServer;
let base: string;
const UPLOAD = '/youtube/upload/youtube/v3/videos';
const UNIT = 256 * 1024;
const MiB = 1024 * 1024;

before(async () => {
  fakes = await createFakesServer({ port: 0 });
  base = fakes.url;
});
after(async () => {
  await fakes.close();
});
beforeEach(async () => {
  assert.equal((await fetch(`${base}/_control/reset`, { method: 'POST' })).status, 200);
  await control('/youtube/quota', { dailyLimit: 1_000_000 });
});

async function control(path: string, body?: unknown): Promise<Json> {
  const r = await fetch(
    `${base}/_control${path}`,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const json = (await r.json()) as Json;
  assert.ok(r.ok, `${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

let seedCounter = 0;
async function newChannel(): Promise<{ channelId: string; token: string; uploadsPlaylistId: string }> {
  const c = await control('/youtube/channels', { videos: 3, seed: `uploader-${++seedCounter}` });
  return { channelId: c.channelId, token: c.accessToken, uploadsPlaylistId: c.uploadsPlaylistId };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): Json;
}

/** One HTTP exchange with node:http, so tests control Content-Length and see dropped sockets. */
function exchange(method: string, url: string, headers: Record<string, string | number>, body?: Buffer | Readable): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) as Json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body instanceof Readable) {
      req.on('close', () => body.destroy());
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

function metadata(extra: Json = {}) {
  return {
    snippet: {
      title: 'Sourdough in 60 seconds',
      description: 'Feed the starter twice a day.',
      tags: ['sourdough', 'baking tips'],
      categoryId: '26',
    },
    status: { privacyStatus: 'public', selfDeclaredMadeForKids: false },
    ...extra,
  };
}

async function startSession(
  token: string | null,
  body: unknown,
  opts: { length?: number; type?: string; query?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=UTF-8' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.length !== undefined) headers['x-upload-content-length'] = opts.length;
  headers['x-upload-content-type'] = opts.type ?? 'video/mp4';
  const payload = Buffer.from(JSON.stringify(body));
  headers['content-length'] = payload.length;
  return exchange('POST', `${base}${UPLOAD}?uploadType=resumable&part=snippet,status${opts.query ?? ''}`, headers, payload);
}

async function sessionFor(token: string, total: number, body: unknown = metadata()): Promise<string> {
  const r = await startSession(token, body, { length: total });
  assert.equal(r.status, 200, r.text);
  return r.headers.location!;
}

function put(session: string, range: string, body: Buffer | Readable, length: number): Promise<Reply> {
  return exchange('PUT', session, { 'content-length': length, 'content-range': range, 'content-type': 'video/mp4' }, body);
}

function statusQuery(session: string, total: number): Promise<Reply> {
  return exchange('PUT', session, { 'content-length': 0, 'content-range': `bytes */${total}` });
}

/** The offset to resume from after a 308 (no Range: nothing stored yet). */
function nextOffset(r: Reply): number {
  if (!r.headers.range) return 0;
  const m = /^bytes=0-(\d+)$/.exec(r.headers.range);
  assert.ok(m, `odd Range ${r.headers.range}`);
  return Number(m[1]) + 1;
}

/** A RevID render of `size` bytes: the source of the videos uploaded here. */
async function renderedVideo(size: number): Promise<{ url: string; sha256: string }> {
  const job = await control('/revid/jobs', { videoBytes: size });
  const { sha256 } = await control(`/revid/media/${job.pid}/sha256`);
  return { url: job.videoUrl, sha256 };
}

function download(url: string, start: number, end: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { range: `bytes=${start}-${end}` } }, (res) => {
      if (res.statusCode !== 206) reject(new Error(`source answered ${res.statusCode}`));
      else resolve(res);
    })
      .on('error', reject)
      .end();
  });
}

/**
 * What a resumable client does: chunks streamed from the source, resuming from the server's Range
 * after a 308, and asking the session where it stands after a broken connection or a 5xx.
 */
async function resumableUpload(session: string, source: string, total: number, chunkSize: number) {
  let offset = 0;
  let failures = 0;
  for (;;) {
    const end = Math.min(offset + chunkSize, total) - 1;
    let reply: Reply | undefined;
    try {
      reply = await put(session, `bytes ${offset}-${end}/${total}`, await download(source, offset, end), end - offset + 1);
    } catch {
      reply = undefined;
    }
    if (reply && (reply.status === 200 || reply.status === 201)) return { video: reply.json(), failures };
    if (reply && reply.status === 308) {
      offset = nextOffset(reply);
      continue;
    }
    assert.ok(!reply || reply.status >= 500, `unexpected ${reply?.status}: ${reply?.text}`);
    failures++;
    assert.ok(failures < 40, 'too many failures');
    const status = await statusQuery(session, total);
    if (status.status === 200) return { video: status.json(), failures };
    assert.equal(status.status, 308, status.text);
    offset = nextOffset(status);
  }
}

function googleReason(r: Reply): { code: number; reason: string; domain: string; message: string } {
  const e = r.json().error;
  assert.equal(e.code, r.status);
  return { code: e.code, reason: e.errors[0].reason, domain: e.errors[0].domain, message: e.message };
}

async function videosList(token: string, id: string): Promise<Json[]> {
  const r = await fetch(`${base}/youtube/youtube/v3/videos?part=snippet,status&id=${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(r.status, 200);
  return ((await r.json()) as Json).items;
}

describe('a 200 MB upload with the connection dropped every ~50 MB', () => {
  it('arrives whole (size and sha256) as exactly one video, without the fake holding it', async () => {
    const total = 200 * MiB;
    const { channelId, token, uploadsPlaylistId } = await newChannel();
    const source = await renderedVideo(total);
    // Not a multiple of 256 KiB: each drop leaves a partial unit the fake must not count.
    await control('/youtube/upload-behaviour', { dropEveryBytes: 50 * MiB + 12_345 });
    const session = await sessionFor(token, total);

    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const { video, failures } = await resumableUpload(session, source.url, total, 16 * MiB);
    clearInterval(sampler);

    assert.equal(video.kind, 'youtube#video');
    assert.equal(video.snippet.title, 'Sourdough in 60 seconds');
    assert.equal(video.snippet.channelId, channelId);
    assert.equal(video.status.uploadStatus, 'uploaded');
    assert.ok(failures >= 3, `only ${failures} drops`);

    const record = await control(`/youtube/uploads/${video.id}`);
    assert.equal(record.size, total);
    assert.equal(record.sha256, source.sha256);
    assert.equal(record.drops, failures);
    assert.ok(record.statusQueries >= failures);
    assert.ok(record.bytesReceived > total, 'the dropped parts were sent again');
    const all = await control('/youtube/uploads');
    assert.equal(all.sessionCount, 1);
    assert.equal(all.completedCount, 1);

    // The new video is in the channel: videos.list and the uploads playlist (newest first) show it.
    assert.equal((await videosList(token, video.id)).length, 1);
    const items = (await (
      await fetch(`${base}/youtube/youtube/v3/playlistItems?part=contentDetails&playlistId=${uploadsPlaylistId}&maxResults=1`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as Json;
    assert.equal(items.items[0].contentDetails.videoId, video.id);
    // Server and client share this process: holding the file anywhere would add 200 MB.
    assert.ok(peak - rssBefore < 120 * MiB, `rss grew by ${Math.round((peak - rssBefore) / MiB)} MiB`);
  });
});

describe('the resumable protocol', () => {
  it('answers each step like Google: Location, 308 without and with Range, 256 KiB units, the final resource', async () => {
    const { token } = await newChannel();
    const total = 4 * UNIT + 1000;
    const bytes = Buffer.alloc(total);
    for (let i = 0; i < total; i++) bytes[i] = (i * 7 + 3) & 0xff;

    const start = await startSession(token, metadata(), { length: total, query: '&notifySubscribers=false' });
    assert.equal(start.status, 200);
    const location = start.headers.location!;
    assert.ok(location.startsWith(`${base}${UPLOAD}?`), location);
    assert.match(location, /upload_id=/);
    assert.equal(start.headers['x-guploader-uploadid'], new URL(location).searchParams.get('upload_id'));

    const fresh = await statusQuery(location, total);
    assert.equal(fresh.status, 308);
    assert.equal(fresh.headers.range, undefined);

    // Not the last chunk and under 256 KiB: refused.
    assert.equal((await put(location, `bytes 0-99999/${total}`, bytes.subarray(0, 100_000), 100_000)).status, 400);
    // 300 KiB: only the whole first unit counts.
    const partial = await put(location, `bytes 0-${300 * 1024 - 1}/${total}`, bytes.subarray(0, 300 * 1024), 300 * 1024);
    assert.equal(partial.status, 308);
    assert.equal(partial.headers.range, `bytes=0-${UNIT - 1}`);
    // A gap after what is stored: refused.
    const gap = await put(location, `bytes ${2 * UNIT}-${3 * UNIT - 1}/${total}`, bytes.subarray(2 * UNIT, 3 * UNIT), UNIT);
    assert.equal(gap.status, 400);
    assert.match(googleReason(gap).message, /exceeds already uploaded size/);
    // Resending from 0 overlaps what is stored: the overlap is skipped.
    const overlap = await put(location, `bytes 0-${2 * UNIT - 1}/${total}`, bytes.subarray(0, 2 * UNIT), 2 * UNIT);
    assert.equal(overlap.status, 308);
    assert.equal(overlap.headers.range, `bytes=0-${2 * UNIT - 1}`);
    assert.equal((await statusQuery(location, total)).headers.range, `bytes=0-${2 * UNIT - 1}`);
    // A different total than the session's: refused.
    assert.equal((await statusQuery(location, total + 1)).status, 400);

    const last = await put(location, `bytes ${2 * UNIT}-${total - 1}/${total}`, bytes.subarray(2 * UNIT), total - 2 * UNIT);
    assert.equal(last.status, 200, last.text);
    const video = last.json();
    assert.equal(video.kind, 'youtube#video');
    assert.match(video.id, /^[A-Za-z0-9_-]{11}$/);
    assert.deepEqual(video.snippet.tags, ['sourdough', 'baking tips']);
    assert.equal(video.status.privacyStatus, 'public');

    // Asking again after the end gives the same video, never a second one.
    const again = await statusQuery(location, total);
    assert.equal(again.status, 200);
    assert.equal(again.json().id, video.id);

    const record = await control(`/youtube/uploads/${video.id}`);
    assert.equal(record.size, total);
    assert.equal(record.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(record.notifySubscribers, false);
    // Every PUT counts; status queries are the ones answered with the session's state.
    assert.equal(record.puts, 9);
    assert.equal(record.statusQueries, 2);
    assert.equal(record.received.snippet.title, 'Sourdough in 60 seconds');

    // The request log sees streamed bodies by size only.
    const log = (await (await fetch(`${base}/_control/requests?pathPrefix=${UPLOAD}&method=PUT`)).json()) as Json;
    const lastPut = log.requests.find((r: Json) => r.headers['content-range'] === `bytes ${2 * UNIT}-${total - 1}/${total}`);
    assert.equal(lastPut.bodyBytes, total - 2 * UNIT);
    assert.equal(lastPut.body, `<streamed ${total - 2 * UNIT} bytes of video/mp4>`);
  });

  it('refuses a chunk sent without Content-Length (a chunked body), as the protocol gives every chunk its length', async () => {
    const { token } = await newChannel();
    const bytes = Buffer.alloc(2 * UNIT, 7);
    const session = await sessionFor(token, bytes.length);
    const chunked = await exchange(
      'PUT',
      session,
      { 'transfer-encoding': 'chunked', 'content-range': `bytes 0-${bytes.length - 1}/${bytes.length}`, 'content-type': 'video/mp4' },
      Readable.from([bytes.subarray(0, UNIT), bytes.subarray(UNIT)]),
    );
    assert.equal(chunked.status, 400, chunked.text);
    assert.match(googleReason(chunked).message, /must give Content-Length/);
    assert.equal((await statusQuery(session, bytes.length)).headers.range, undefined, 'nothing is stored');
    const whole = await put(session, `bytes 0-${bytes.length - 1}/${bytes.length}`, bytes, bytes.length);
    assert.equal(whole.status, 200, whole.text);
  });

  it('takes a whole file in one request without Content-Range', async () => {
    const { token } = await newChannel();
    const bytes = Buffer.from('a tiny but complete video file');
    const session = await sessionFor(token, bytes.length);
    const r = await exchange('PUT', session, { 'content-length': bytes.length, 'content-type': 'video/mp4' }, bytes);
    assert.equal(r.status, 200, r.text);
    assert.equal((await control(`/youtube/uploads/${r.json().id}`)).sha256, createHash('sha256').update(bytes).digest('hex'));
  });

  it('survives injected 5xx on the chunks', async () => {
    const { token } = await newChannel();
    const total = 3 * MiB + 5;
    const source = await renderedVideo(total);
    const session = await sessionFor(token, total);
    await control('/faults', { match: { method: 'PUT', pathPrefix: UPLOAD }, status: 503, failRate: 0.5, times: 3 });
    const { video, failures } = await resumableUpload(session, source.url, total, UNIT * 2);
    assert.equal(failures, 3);
    const record = await control(`/youtube/uploads/${video.id}`);
    assert.equal(record.sha256, source.sha256);
  });

  it('answers 404 for an unknown or expired session', async () => {
    const { token } = await newChannel();
    const session = await sessionFor(token, 10);
    await control('/youtube/upload-behaviour', { expireSessions: true });
    assert.equal((await statusQuery(session, 10)).status, 404);
    assert.equal((await statusQuery(`${base}${UPLOAD}?uploadType=resumable&upload_id=nope`, 10)).status, 404);
  });
});

describe('starting a session', () => {
  it('checks the token and its scopes', async () => {
    const { channelId } = await newChannel();
    const none = await startSession(null, metadata());
    assert.equal(none.status, 401);
    const bad = await startSession('ya29.not-a-token', metadata());
    assert.equal(bad.status, 401);
    assert.equal(googleReason(bad).reason, 'authError');
    const readonly = await control('/youtube/tokens', { channelId, scopes: ['https://www.googleapis.com/auth/youtube.readonly'] });
    assert.equal((await startSession(readonly.accessToken, metadata())).status, 403);
  });

  it('validates the metadata with YouTube reasons', async () => {
    const { token } = await newChannel();
    const snippet = metadata().snippet;
    const cases: Array<[Json, string]> = [
      [{ snippet: { ...snippet, title: 'x'.repeat(101) } }, 'invalidTitle'],
      [{ snippet: { ...snippet, title: 'Best <b>bread</b>' } }, 'invalidTitle'],
      [{ snippet: { ...snippet, title: '' } }, 'invalidTitle'],
      [{ snippet: { ...snippet, description: 'é'.repeat(2501) } }, 'invalidDescription'],
      [{ snippet: { ...snippet, description: 'a > b' } }, 'invalidDescription'],
      // 45 tags of 10 characters with a space: 45 * 12 + 44 commas = 584 > 500, though the letters are 450.
      [{ snippet: { ...snippet, tags: Array.from({ length: 45 }, (_, i) => `tag ${String(i).padStart(6, '0')}`) } }, 'invalidTags'],
      [{ snippet: { ...snippet, categoryId: '99' } }, 'invalidCategoryId'],
      [{ snippet, status: { privacyStatus: 'public', publishAt: new Date(Date.now() + 86_400_000).toISOString() } }, 'invalidPublishAt'],
      [{ snippet, status: { privacyStatus: 'private', publishAt: new Date(Date.now() - 60_000).toISOString() } }, 'invalidPublishAt'],
      [{ snippet, status: { privacyStatus: 'friends' } }, 'invalidValue'],
    ];
    for (const [body, reason] of cases) {
      const r = await startSession(token, body, { length: 10 });
      assert.equal(r.status, 400, `${reason}: ${r.text}`);
      const e = googleReason(r);
      assert.equal(e.reason, reason);
      assert.equal(e.domain, 'youtube.video');
    }
    // The limits themselves pass: 100 characters, 5,000 bytes, tags at 500 counted YouTube's way.
    const edge = { snippet: { ...snippet, title: 'é'.repeat(100), description: 'é'.repeat(2500), tags: ['x'.repeat(498), 'y'] } };
    assert.equal((await startSession(token, edge, { length: 10 })).status, 200);
    const wrongType = await startSession(token, metadata(), { type: 'text/plain' });
    assert.equal(wrongType.status, 400);
    assert.match(googleReason(wrongType).message, /Media type 'text\/plain' is not supported/);
  });

  it('costs quota, and refuses with quotaExceeded when the day is spent', async () => {
    const { token } = await newChannel();
    await control('/youtube/quota', { dailyLimit: 2_000, resetUsage: true });
    assert.equal((await startSession(token, metadata(), { length: 1 })).status, 200);
    const usage = await control('/youtube/quota');
    assert.deepEqual(Object.values(usage.usage), [1600]);
    const over = await startSession(token, metadata(), { length: 1 });
    assert.equal(over.status, 403);
    assert.deepEqual([googleReason(over).reason, googleReason(over).domain], ['quotaExceeded', 'youtube.quota']);
  });

  it('answers quotaExceeded and uploadLimitExceeded on demand, `times` times', async () => {
    const { token } = await newChannel();
    await control('/youtube/upload-behaviour', { quotaExceeded: 1, uploadLimitExceeded: 2 });
    const quota = await startSession(token, metadata(), { length: 1 });
    assert.equal(quota.status, 403);
    assert.equal(googleReason(quota).reason, 'quotaExceeded');
    for (let i = 0; i < 2; i++) {
      const limit = await startSession(token, metadata(), { length: 1 });
      assert.equal(limit.status, 400);
      assert.deepEqual(googleReason(limit), {
        code: 400,
        reason: 'uploadLimitExceeded',
        domain: 'youtube.video',
        message: 'The user has exceeded the number of videos they may upload.',
      });
    }
    assert.equal((await startSession(token, metadata(), { length: 1 })).status, 200);
  });

  it('locks uploads private for an unaudited project', async () => {
    const { token } = await newChannel();
    await control('/youtube/upload-behaviour', { lockPrivate: true });
    const session = await sessionFor(token, 3);
    const r = await exchange('PUT', session, { 'content-length': 3, 'content-range': 'bytes 0-2/3' }, Buffer.from('abc'));
    assert.equal(r.json().status.privacyStatus, 'private');
  });
});

describe('scheduled publishing and edits', () => {
  async function uploadSmall(token: string, body: unknown): Promise<Json> {
    const session = await sessionFor(token, 4, body);
    const r = await exchange('PUT', session, { 'content-length': 4, 'content-range': 'bytes 0-3/4' }, Buffer.from('mp4!'));
    assert.equal(r.status, 200, r.text);
    return r.json();
  }

  it('keeps a video private until publishAt, then YouTube makes it public by itself', async () => {
    const { token } = await newChannel();
    // Whole seconds, as YouTube writes them, one to two seconds ahead.
    const publishAt = new Date(Math.ceil((Date.now() + 1_000) / 1_000) * 1_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const video = await uploadSmall(token, metadata({ status: { privacyStatus: 'private', publishAt } }));
    assert.equal(video.status.privacyStatus, 'private');
    assert.equal(video.status.publishAt, publishAt);
    const [before] = await videosList(token, video.id);
    assert.equal(before!.status.publishAt, publishAt);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(publishAt) - Date.now() + 100));
    const [after] = await videosList(token, video.id);
    assert.equal(after!.status.privacyStatus, 'public');
    assert.equal(after!.status.publishAt, undefined);
    assert.equal(after!.snippet.publishedAt, publishAt);
  });

  it('videos.update edits snippet and status with replace semantics; youtube.upload alone may not', async () => {
    const { channelId, token } = await newChannel();
    const video = await uploadSmall(
      token,
      metadata({ status: { privacyStatus: 'private', publishAt: new Date(Date.now() + 86_400_000).toISOString() } }),
    );
    const update = (t: string, part: string, body: Json) =>
      fetch(`${base}/youtube/youtube/v3/videos?part=${part}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const denied = await update(token, 'status', { id: video.id, status: { privacyStatus: 'public' } });
    assert.equal(denied.status, 403);
    const editor = (await control('/youtube/tokens', { channelId, scopes: ['https://www.googleapis.com/auth/youtube'] })).accessToken;

    const later = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const moved = await update(editor, 'status', { id: video.id, status: { privacyStatus: 'private', publishAt: later } });
    assert.equal(moved.status, 200);
    assert.equal(((await moved.json()) as Json).status.publishAt, later);
    assert.equal((await videosList(token, video.id))[0]!.status.publishAt, later);

    const noCategory = await update(editor, 'snippet', { id: video.id, snippet: { title: 'New title' } });
    assert.equal(noCategory.status, 400);
    const retitled = await update(editor, 'snippet', { id: video.id, snippet: { title: 'New title', categoryId: '26' } });
    assert.equal(retitled.status, 200);
    const [listed] = await videosList(token, video.id);
    assert.equal(listed!.snippet.title, 'New title');
    // Left out of the new snippet, the description and tags are gone.
    assert.equal(listed!.snippet.description, '');
    assert.equal(listed!.snippet.tags, undefined);

    const published = await update(editor, 'status', { id: video.id, status: { privacyStatus: 'public' } });
    assert.equal(published.status, 200);
    const [now] = await videosList(token, video.id);
    assert.equal(now!.status.privacyStatus, 'public');
    assert.equal(now!.status.publishAt, undefined);
    const reschedule = await update(editor, 'status', { id: video.id, status: { privacyStatus: 'private', publishAt: later } });
    assert.equal(reschedule.status, 400);

    assert.equal((await update(editor, 'status', { id: 'AAAAAAAAAAA', status: { privacyStatus: 'public' } })).status, 404);
  });

  it('thumbnails.set takes an image of the channel owner, at most 2 MB', async () => {
    const { token } = await newChannel();
    const video = await uploadSmall(token, metadata());
    const job = await control('/revid/jobs', {});
    const png = Buffer.from(await (await fetch(job.thumbnailUrl)).arrayBuffer());
    const set = (t: string, id: string, body: Buffer, type = 'image/png') =>
      exchange(
        'POST',
        `${base}/youtube/upload/youtube/v3/thumbnails/set?videoId=${id}&uploadType=media`,
        { authorization: `Bearer ${t}`, 'content-type': type, 'content-length': body.length },
        body,
      );

    const ok = await set(token, video.id, png);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json().kind, 'youtube#thumbnailSetResponse');
    assert.ok(ok.json().items[0].default.url);
    const record = await control(`/youtube/uploads/${video.id}`);
    assert.deepEqual(record.video.thumbnail, {
      bytes: png.length,
      sha256: createHash('sha256').update(png).digest('hex'),
      mimeType: 'image/png',
    });

    assert.equal(googleReason(await set(token, video.id, Buffer.from('not an image'))).reason, 'invalidImage');
    const big = Buffer.concat([png.subarray(0, 8), Buffer.alloc(2 * MiB)]);
    assert.equal(googleReason(await set(token, video.id, big)).reason, 'imageTooLarge');
    const stranger = await newChannel();
    assert.equal((await set(stranger.token, video.id, png)).status, 403);
  });
});
