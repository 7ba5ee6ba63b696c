// The schedules worker's decisions without a stack: the streaming loop against a scripted
// session (partial commits, drops, a session that holds every byte without having made the
// video, stalls, cancel, the time budget), the source reader's reconnects, the upload plan per
// strategy and time, the check of what YouTube made, YouTube's way of counting tags, and the lease
// keeper's renewals.
import { assertEquals, assertOk } from './assert.ts';
import assert from 'node:assert/strict';
import {
  ChunkInterruptedError,
  type SessionState,
  UPLOAD_UNIT,
  type YouTubeUploader,
} from '../../supabase/functions/_shared/integrations/youtube/upload-client.ts';
import { VideoSource } from '../../supabase/functions/schedules/video-source.ts';
import {
  PUBLISH_AT_MARGIN_MS,
  retryDelaySeconds,
  type SentMetadata,
  uploadedAsAsked,
  uploadPlan,
  videoResource,
} from '../../supabase/functions/schedules/plan.ts';
import { runUpload, UploadStalledError } from '../../supabase/functions/schedules/upload-run.ts';
import { StepBudget, IsolateLedger, SCHEDULE_COST_BYTES } from '../../supabase/functions/schedules/budget.ts';
import { keepLease } from '../../supabase/functions/_shared/platform/lease-keeper.ts';
import { youtubeTagsLength } from '../../supabase/functions/schedules/validation.ts';

const KiB = 1024;

/** Byte i of the test file. */
const byteAt = (i: number) => (i * 31 + 7) % 251;

/**
 * A source of `total` bytes served by a fetch that can drop the connection after some bytes, or
 * (`stallAfter`, per connection) stop sending without closing it.
 */
function source(total: number, dropAfter: number[] = [], window?: number, stallAfter: number[] = []) {
  const opened: number[] = [];
  const ranges: (string | null)[] = [];
  const fakeFetch = (_url: string | URL | Request, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('range');
    const asked = range ? /bytes=(\d+)-(\d*)/.exec(range)! : null;
    const from = asked ? Number(asked[1]) : 0;
    const last = asked && asked[2] !== '' ? Math.min(Number(asked[2]), total - 1) : total - 1;
    opened.push(from);
    ranges.push(range);
    const cut = dropAfter.shift();
    const stall = stallAfter.shift();
    let pos = from;
    const body = new ReadableStream({
      type: 'bytes',
      pull(c: ReadableByteStreamController) {
        // Never settles: the stream waits for data until its reader cancels it.
        if (stall !== undefined && pos - from >= stall) return new Promise<void>(() => {});
        if (cut !== undefined && pos - from >= cut) {
          c.error(new Error('connection reset'));
          return;
        }
        const n = Math.min(64 * KiB, last + 1 - pos, cut !== undefined ? from + cut - pos : Infinity);
        if (n <= 0) {
          c.close();
          return;
        }
        const chunk = new Uint8Array(n);
        for (let i = 0; i < n; i++) chunk[i] = byteAt(pos + i);
        pos += n;
        c.enqueue(chunk);
      },
    });
    return Promise.resolve(
      new Response(body, {
        status: range ? 206 : 200,
        headers: range
          ? { 'content-range': `bytes ${from}-${last}/${total}`, 'content-length': String(last + 1 - from), 'content-type': 'video/mp4' }
          : { 'content-length': String(total), 'content-type': 'video/mp4' },
      }),
    );
  };
  const retry = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 1, timeoutMs: 1000 };
  return { src: new VideoSource('https://cdn.example.test/v.mp4', { fetch: fakeFetch as typeof fetch, retry, window }), opened, ranges };
}

type Script = (req: { first: number; bytes: Uint8Array; kept: number }) => SessionState | 'drop' | 'drop-after-body' | null;

/**
 * A resumable session that checks every byte it is sent against the file and keeps whole
 * units, answering each PUT as `script` says (default: keep everything sent).
 */
function session(total: number, script?: Script, initiallyKept = 0) {
  let kept = initiallyKept;
  let complete = false;
  const log: string[] = [];
  const uploader = {
    putChunk(_uri: string, bytes: Uint8Array, first: number, t: number): Promise<SessionState> {
      assertEquals(t, total);
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== byteAt(first + i)) throw new Error(`wrong byte at ${first + i}`);
      log.push(`put ${first}+${bytes.length}`);
      const verdict = script?.({ first, bytes, kept }) ?? null;
      if (verdict === 'drop') {
        const arrived = Math.floor(bytes.length / 2 / UPLOAD_UNIT) * UPLOAD_UNIT;
        kept = Math.max(kept, first + arrived);
        return Promise.reject(new ChunkInterruptedError('connection reset'));
      }
      if (verdict === 'drop-after-body') {
        kept = Math.max(kept, first + bytes.length);
        return Promise.reject(new ChunkInterruptedError('connection reset after the body'));
      }
      if (verdict) return Promise.resolve(verdict);
      const end = first + bytes.length;
      if (first > kept) throw new Error(`gap: sent ${first} with ${kept} kept`);
      if (end === total) {
        complete = true;
        return Promise.resolve({
          kind: 'complete',
          video: { id: 'vid1', privacyStatus: 'public', publishAt: null, uploadStatus: 'uploaded' },
        });
      }
      kept = Math.max(kept, Math.floor(end / UPLOAD_UNIT) * UPLOAD_UNIT);
      return Promise.resolve({ kind: 'incomplete', confirmed: kept });
    },
    queryStatus(): Promise<SessionState> {
      log.push(`status ${kept}`);
      return Promise.resolve(
        complete
          ? { kind: 'complete', video: { id: 'vid1', privacyStatus: 'public', publishAt: null, uploadStatus: 'uploaded' } }
          : { kind: 'incomplete', confirmed: kept },
      );
    },
  };
  return {
    uploader: uploader as unknown as YouTubeUploader,
    log,
    get kept() {
      return kept;
    },
  };
}

function progress(onSave?: (offset: number) => 'ok' | 'canceled' | 'lease_lost') {
  const saved: number[] = [];
  let finalMarked = 0;
  return {
    saved,
    get finalMarked() {
      return finalMarked;
    },
    saveOffset: (offset: number) => {
      saved.push(offset);
      return Promise.resolve(onSave?.(offset) ?? 'ok');
    },
    beginFinalChunk: () => {
      finalMarked++;
      return Promise.resolve('ok' as const);
    },
  };
}

const noSleep = () => Promise.resolve();

Deno.test('runUpload: a file of several chunks goes out chunk by chunk; each confirmed offset is saved', async () => {
  const total = 5 * 256 * KiB + 1000;
  const s = session(total);
  const p = progress();
  const { src } = source(total);
  await src.open(0);
  const r = await runUpload('uri', total, 0, {
    uploader: s.uploader,
    source: src,
    progress: p,
    budget: StepBudget.unlimited(),
    chunkBytes: 512 * KiB,
    sleep: noSleep,
  });
  assertEquals(r.kind, 'complete');
  assertEquals(s.log, [`put 0+${512 * KiB}`, `put ${512 * KiB}+${512 * KiB}`, `put ${1024 * KiB}+${256 * KiB + 1000}`]);
  assertEquals(p.saved, [512 * KiB, 1024 * KiB]);
  assertEquals(p.finalMarked, 1);
  if (r.kind === 'complete') assertEquals(r.learntFrom, 'final_chunk');
});

Deno.test('runUpload: after a dropped chunk it asks the session and resends only what was not kept, from its buffer', async () => {
  const total = 4 * 512 * KiB;
  let dropped = false;
  const s = session(total, ({ first }) => (first === 512 * KiB && !dropped ? ((dropped = true), 'drop') : null));
  const { src, opened } = source(total);
  await src.open(0);
  const r = await runUpload('uri', total, 0, {
    uploader: s.uploader,
    source: src,
    progress: progress(),
    budget: StepBudget.unlimited(),
    chunkBytes: 512 * KiB,
    sleep: noSleep,
  });
  assertEquals(r.kind, 'complete');
  assertOk(s.log.includes(`status ${768 * KiB}`), s.log.join(' | '));
  assertOk(s.log.includes(`put ${768 * KiB}+${256 * KiB}`), s.log.join(' | '));
  assertEquals(opened, [0], 'the source was read once, start to end');
});

Deno.test('runUpload: a session that holds every byte but made no video gets its last unit again and finishes', async () => {
  const total = 3 * 256 * KiB;
  let broke = false;
  const s = session(total, ({ first, bytes }) => (first + bytes.length === total && !broke ? ((broke = true), 'drop-after-body') : null));
  const p = progress();
  const { src } = source(total);
  await src.open(0);
  const r = await runUpload('uri', total, 0, {
    uploader: s.uploader,
    source: src,
    progress: p,
    budget: StepBudget.unlimited(),
    chunkBytes: 512 * KiB,
    sleep: noSleep,
  });
  assertEquals(r.kind, 'complete', JSON.stringify(s.log));
  assertEquals(s.log.slice(-2), [`status ${total}`, `put ${total - 256 * KiB}+${256 * KiB}`]);
  assertEquals(p.saved.at(-1), total);

  // Resumed by another worker from that state (the status query said every byte is kept): the same.
  const full = session(total, undefined, total);
  const { src: src2 } = source(total);
  await src2.open(total - 256 * KiB);
  const r2 = await runUpload('uri', total, total, {
    uploader: full.uploader,
    source: src2,
    progress: progress(),
    budget: StepBudget.unlimited(),
    chunkBytes: 512 * KiB,
    sleep: noSleep,
  });
  assertEquals(r2.kind, 'complete');
  assertEquals(full.log, [`put ${total - 256 * KiB}+${256 * KiB}`]);
});

Deno.test(
  'runUpload: a session that never keeps more gives up after the stall limit; a canceled schedule stops at the next save',
  async () => {
    const total = 2 * 512 * KiB;
    const stuck = session(total, () => 'drop');
    const { src } = source(total);
    await src.open(0);
    await assert.rejects(
      runUpload('uri', total, 0, {
        uploader: stuck.uploader,
        source: src,
        progress: progress(),
        budget: StepBudget.unlimited(),
        chunkBytes: 512 * KiB,
        sleep: noSleep,
        maxStalls: 3,
      }),
      (err: Error) => err instanceof UploadStalledError || /made no progress/.test(err.message),
    );

    const s = session(total);
    const { src: src2 } = source(total);
    await src2.open(0);
    const r = await runUpload('uri', total, 0, {
      uploader: s.uploader,
      source: src2,
      progress: progress(() => 'canceled'),
      budget: StepBudget.unlimited(),
      chunkBytes: 512 * KiB,
      sleep: noSleep,
    });
    assertEquals(r.kind, 'canceled');
    assertEquals(s.log, [`put 0+${512 * KiB}`], 'nothing after the cancel was seen');
  },
);

Deno.test('runUpload: the time budget stops it at a chunk boundary, only after some progress', async () => {
  const total = 4 * 256 * KiB;
  const s = session(total);
  const { src } = source(total);
  await src.open(0);
  const r = await runUpload('uri', total, 0, {
    uploader: s.uploader,
    source: src,
    progress: progress(),
    budget: new StepBudget({ bytes: Number.MAX_SAFE_INTEGER, deadline: 0 }),
    chunkBytes: 256 * KiB,
    sleep: noSleep,
  });
  assertEquals(r, { kind: 'yielded', offset: 256 * KiB, bytesSent: 256 * KiB });
});

Deno.test(
  'runUpload: a byte budget grants whole units, stops at a chunk boundary once spent, and always lets a fresh step progress',
  async () => {
    const total = 10 * 256 * KiB + 5;
    const s = session(total);
    const p = progress();
    const { src } = source(total);
    await src.open(0);
    // 3.5 units of budget with 2-unit chunks: one 2-unit chunk, then the 1 whole unit left.
    const budget = new StepBudget({ bytes: 3.5 * 256 * KiB, deadline: Number.MAX_SAFE_INTEGER });
    const r = await runUpload('uri', total, 0, {
      uploader: s.uploader,
      source: src,
      progress: p,
      budget,
      chunkBytes: 512 * KiB,
      sleep: noSleep,
    });
    assertEquals(r, { kind: 'yielded', offset: 3 * 256 * KiB, bytesSent: 3 * 256 * KiB });
    assertEquals(s.log, [`put 0+${512 * KiB}`, `put ${512 * KiB}+${256 * KiB}`]);
    assertEquals(p.saved, [512 * KiB, 768 * KiB]);

    // A budget already spent by other schedules of the invocation still sends one unit of this one.
    const spent = new StepBudget({ bytes: 0, deadline: Number.MAX_SAFE_INTEGER });
    const s2 = session(total, undefined, 3 * 256 * KiB);
    const { src: src2 } = source(total);
    const r2 = await runUpload('uri', total, 3 * 256 * KiB, {
      uploader: s2.uploader,
      source: src2,
      progress: progress(),
      budget: spent,
      chunkBytes: 512 * KiB,
      sleep: noSleep,
    });
    assertEquals(r2, { kind: 'yielded', offset: 4 * 256 * KiB, bytesSent: 256 * KiB });

    // The rest of the file in one grant when it fits: the last chunk need not be whole units.
    const rest = new StepBudget({ bytes: 7 * 256 * KiB + 5, deadline: Number.MAX_SAFE_INTEGER });
    const s3 = session(total, undefined, 3 * 256 * KiB);
    const { src: src3 } = source(total);
    const r3 = await runUpload('uri', total, 3 * 256 * KiB, {
      uploader: s3.uploader,
      source: src3,
      progress: progress(),
      budget: rest,
      chunkBytes: 4 * 256 * KiB,
      sleep: noSleep,
    });
    assertEquals(r3.kind, 'complete');
    assertEquals(s3.log, [`put ${3 * 256 * KiB}+${1024 * KiB}`, `put ${7 * 256 * KiB}+${3 * 256 * KiB + 5}`]);
  },
);

Deno.test('StepBudget: schedules count against the bytes; the deadline ends the step', () => {
  const b = new StepBudget({ bytes: 10 * 1024 * KiB, deadline: Number.MAX_SAFE_INTEGER, scheduleCostBytes: 3 * 1024 * KiB });
  assertEquals(b.schedulesThatFit(), 3);
  b.takeSchedule();
  b.spend(2 * 1024 * KiB);
  assertEquals(b.schedulesThatFit(), 1);
  assertEquals(b.grant(0, 100 * 1024 * KiB, 8 * 1024 * KiB, true), 5 * 1024 * KiB);
  const late = new StepBudget({ bytes: 10 * 1024 * KiB, deadline: Date.now() - 1 });
  assertEquals(late.schedulesThatFit(), 0);
  assertEquals(late.grant(0, 100 * 1024 * KiB, 8 * 1024 * KiB, true), 0);
  assertEquals(late.grant(0, 100 * 1024 * KiB, 8 * 1024 * KiB, false), 256 * KiB);
});

Deno.test('VideoSource: with a window each connection asks for a bounded range, and the next range follows', async () => {
  const total = 1000 * KiB;
  const { src, ranges } = source(total, [], 256 * KiB);
  assertEquals((await src.open(0)).totalBytes, total);
  const buf = new Uint8Array(600 * KiB);
  await src.fill(buf, 600 * KiB);
  for (let i = 0; i < 600 * KiB; i += 4099) assertEquals(buf[i], byteAt(i));
  assertEquals(ranges, [`bytes=0-${256 * KiB - 1}`, `bytes=${256 * KiB}-${512 * KiB - 1}`, `bytes=${512 * KiB}-${768 * KiB - 1}`]);
  await src.close();
});

Deno.test('VideoSource: a connection that drops mid-file is reopened within the chunk being read, not at the file start', async () => {
  const total = 1024 * KiB;
  const { src, opened } = source(total, [700 * KiB, 100 * KiB]);
  const info = await src.open(0);
  assertEquals(info, { totalBytes: total, contentType: 'video/mp4' });
  const buf = new Uint8Array(512 * KiB);
  for (const start of [0, 512 * KiB]) {
    await src.fill(buf, 512 * KiB);
    for (let i = 0; i < buf.length; i++) if (buf[i] !== byteAt(start + i)) throw new Error(`byte ${start + i}`);
  }
  assertEquals(opened.length, 3);
  assertEquals(opened[0], 0);
  assertOk(opened[1] >= 512 * KiB && opened[1] <= 700 * KiB, String(opened[1]));
  assertOk(opened[2] >= 512 * KiB && opened[2] <= 800 * KiB, String(opened[2]));
  await src.close();
});

Deno.test(
  'VideoSource: a chunk larger than the read buffer fills in place, across a dropped connection, and the chunk buffer stays usable',
  async () => {
    const total = 6 * 1024 * KiB;
    const { src, opened } = source(total, [2500 * KiB]);
    await src.open(0);
    // Larger than the 1 MiB bounce buffer, so one fill takes several reads and copies.
    const buf = new Uint8Array(3 * 1024 * KiB);
    const kept = buf.buffer;
    for (const start of [0, 3 * 1024 * KiB]) {
      await src.fill(buf, buf.length);
      assertOk(buf.buffer === kept && buf.byteLength === 3 * 1024 * KiB, 'the chunk buffer was detached or replaced');
      for (let i = 0; i < buf.length; i++) if (buf[i] !== byteAt(start + i)) throw new Error(`byte ${start + i}`);
    }
    assertEquals(opened.length, 2);
    assertOk(opened[1] >= 2 * 1024 * KiB && opened[1] <= 2500 * KiB, String(opened[1]));
    await src.close();
  },
);

Deno.test('VideoSource: a connection that stops sending is dropped after the read timeout and the file is read on from there', async () => {
  const total = 1024 * KiB;
  const { src, opened } = source(total, [], undefined, [256 * KiB]);
  await src.open(0);
  const buf = new Uint8Array(total);
  const started = Date.now();
  await src.fill(buf, total);
  const took = Date.now() - started;
  for (let i = 0; i < total; i += 1021) assertEquals(buf[i], byteAt(i));
  assertEquals(opened, [0, 256 * KiB]);
  // The fake's timeout is 1 s: the stalled read waited for it, and not for much more.
  assertOk(took >= 1000 && took < 4000, `took ${took} ms`);
  await src.close();
});

Deno.test('VideoSource: reads slower than the timeout in total, each within it, are not a stall', async () => {
  const total = 64 * KiB;
  let served = 0;
  const slowFetch = () => {
    const body = new ReadableStream({
      type: 'bytes',
      async pull(c: ReadableByteStreamController) {
        if (served >= total) return c.close();
        await new Promise((r) => setTimeout(r, 300));
        const chunk = new Uint8Array(16 * KiB);
        for (let i = 0; i < chunk.length; i++) chunk[i] = byteAt(served + i);
        served += chunk.length;
        c.enqueue(chunk);
      },
    });
    return Promise.resolve(new Response(body, { status: 200, headers: { 'content-length': String(total), 'content-type': 'video/mp4' } }));
  };
  const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 1, timeoutMs: 500 };
  const src = new VideoSource('https://cdn.example.test/v.mp4', { fetch: slowFetch as typeof fetch, retry });
  await src.open(0);
  const buf = new Uint8Array(total);
  // Four reads of ~300 ms: 1.2 s in all, over the 500 ms timeout, none of them alone.
  await src.fill(buf, total);
  for (let i = 0; i < total; i += 1021) assertEquals(buf[i], byteAt(i));
  await src.close();
});

Deno.test('uploadPlan: youtube_scheduled schedules at YouTube when there is time, else waits or publishes at once', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const at = (ms: number) => new Date(now + ms);
  assertEquals(uploadPlan({ strategy: 'youtube_scheduled', publish_at: at(3_600_000) }, now), {
    kind: 'publish_at',
    publishAt: at(3_600_000),
  });
  assertEquals(uploadPlan({ strategy: 'youtube_scheduled', publish_at: at(PUBLISH_AT_MARGIN_MS - 1) }, now), {
    kind: 'wait',
    until: at(PUBLISH_AT_MARGIN_MS - 1),
  });
  assertEquals(uploadPlan({ strategy: 'youtube_scheduled', publish_at: at(-1) }, now), { kind: 'immediate' });
  assertEquals(uploadPlan({ strategy: 'upload_at_time', publish_at: at(3_600_000) }, now), { kind: 'wait', until: at(3_600_000) });
  assertEquals(uploadPlan({ strategy: 'upload_at_time', publish_at: at(0) }, now), { kind: 'immediate' });
});

Deno.test('videoResource and uploadedAsAsked: what YouTube gets, and noticing an upload locked private', () => {
  const s = {
    strategy: 'youtube_scheduled' as const,
    publish_at: new Date('2026-12-01T18:00:00.123Z'),
    privacy: 'public' as const,
    title: 'T',
    description: 'D',
    tags: ['a'],
    category_id: '22',
    made_for_kids: false,
    notify_subscribers: true,
  };
  const scheduled = videoResource(s, { kind: 'publish_at', publishAt: s.publish_at });
  assertEquals(scheduled.status, { privacyStatus: 'private', publishAt: '2026-12-01T18:00:00Z', selfDeclaredMadeForKids: false });
  const now = videoResource({ ...s, privacy: 'unlisted' }, { kind: 'immediate' });
  assertEquals(now.status, { privacyStatus: 'unlisted', selfDeclaredMadeForKids: false });
  const sent: SentMetadata = { ...scheduled, notifySubscribers: true };
  assertEquals(
    uploadedAsAsked(sent, { id: 'v', privacyStatus: 'private', publishAt: '2026-12-01T18:00:00Z', uploadStatus: 'uploaded' }),
    null,
  );
  assertOk(uploadedAsAsked(sent, { id: 'v', privacyStatus: 'private', publishAt: null, uploadStatus: 'uploaded' })?.includes('audit'));
  assertOk(
    uploadedAsAsked(
      { ...now, notifySubscribers: true },
      { id: 'v', privacyStatus: 'private', publishAt: null, uploadStatus: 'uploaded' },
    )?.includes('private, not unlisted'),
  );
});

Deno.test('retry delays and YouTube tag counting', () => {
  assertEquals(
    [1, 2, 3, 10].map((n) => retryDelaySeconds(n)),
    [30, 60, 120, 1800],
  );
  assertEquals(retryDelaySeconds(1, 90_000), 90);
  assertEquals(youtubeTagsLength(['tag one', 'two']), 13);
  assertEquals(youtubeTagsLength([]), 0);
});

Deno.test(
  'lease keeper: renews every quarter of the lease until stopped, stops renewing once the row is lost, and waits for a renewal in flight',
  async () => {
    const calls: number[] = [];
    const errors: unknown[] = [];
    const started = Date.now();
    let answer = 'ok';
    const kept = keepLease(
      1,
      () => {
        calls.push(Date.now() - started);
        return Promise.resolve(answer);
      },
      (err) => errors.push(err),
    );
    await new Promise((r) => setTimeout(r, 1_150));
    assertOk(calls.length >= 2 && calls.length <= 6, `renewed ${calls.length} times in 1.15 s with a 1 s lease`);
    answer = 'lease_lost';
    await new Promise((r) => setTimeout(r, 600));
    const afterLoss = calls.length;
    await new Promise((r) => setTimeout(r, 600));
    assertEquals(calls.length, afterLoss, 'no renewal after the row was lost');
    await kept.stop();
    assertEquals(errors, []);

    let finished = false;
    const slow = keepLease(
      1,
      () => new Promise((r) => setTimeout(() => ((finished = true), r('ok')), 300)),
      (err) => errors.push(err),
    );
    await new Promise((r) => setTimeout(r, 300));
    await slow.stop();
    assertOk(finished, 'stop() returned before the renewal in flight ended');

    const failing = keepLease(
      1,
      () => Promise.reject(new Error('database unreachable')),
      (err) => errors.push(err),
    );
    await new Promise((r) => setTimeout(r, 400));
    await failing.stop();
    assertOk(errors.length >= 1 && (errors[0] as Error).message === 'database unreachable', 'a failed renewal is reported, not thrown');
  },
);

Deno.test('StepBudget: schedules taken up use at most their share of a large step', () => {
  const b = new StepBudget({
    bytes: 128 * 1024 * KiB,
    deadline: Number.MAX_SAFE_INTEGER,
    scheduleCostBytes: 3 * 1024 * KiB,
    scheduleShareBytes: 32 * 1024 * KiB,
  });
  assertEquals(b.schedulesThatFit(), 10);
  for (let i = 0; i < 10; i++) b.takeSchedule();
  assertEquals(b.schedulesThatFit(), 0);
  assertEquals(b.grant(0, 200 * 1024 * KiB, 8 * 1024 * KiB, true), 8 * 1024 * KiB, 'the rest of the step is for bytes');
});

Deno.test('IsolateLedger: an invocation in a warm isolate gets only what the earlier ones left (hosted counts CPU per worker)', () => {
  const MiB = 1024 * KiB;
  const ledger = new IsolateLedger(160 * MiB);
  assertEquals(ledger.allowance(128 * MiB), 128 * MiB, 'a fresh isolate: the whole step');
  const first = new StepBudget({ bytes: ledger.allowance(128 * MiB), deadline: Number.MAX_SAFE_INTEGER, ledger });
  first.takeSchedule();
  first.spend(first.grant(0, 1024 * MiB, 200 * MiB, false));
  assertEquals(ledger.spent, 128 * MiB);
  assertEquals(ledger.allowance(128 * MiB), 32 * MiB, 'the next invocation of this isolate: what is left');
  const second = new StepBudget({ bytes: ledger.allowance(128 * MiB), deadline: Number.MAX_SAFE_INTEGER, ledger });
  second.takeSchedule();
  second.spend(second.grant(0, 1024 * MiB, 200 * MiB, false));
  assertEquals(
    ledger.allowance(128 * MiB),
    SCHEDULE_COST_BYTES + 256 * KiB,
    'spent: still one schedule and one unit, so a call always makes progress',
  );
});
