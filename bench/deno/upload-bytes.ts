// The process bench/upload-bytes measures: one side of an upload step's byte path, as the worker
// runs it on the hosted runtime's Deno, against the bench's HTTPS server. Prints main-thread CPU
// (what the edge runtime counts), wall time and peak RSS as JSON.
// Usage: deno run -A --config supabase/functions/deno.json bench/deno/upload-bytes.ts <mode> <base URL> <MiB>
//   put-copy      8 MiB PUTs with the chunk as a Uint8Array body (fetch copies it whole first)
//   put-in-place  8 MiB PUTs through putBytes (the chunk streamed in place, exact Content-Length)
//   read-timer    the render read in 64 MiB windows, 8 MiB fills, a stall timer and race per read
//                 (how VideoSource read before)
//   read-fill     the same through VideoSource.fill (one stall timer per fill)
import { putBytes } from '../../supabase/functions/_shared/integrations/youtube/upload-put-bytes.ts';
import { VideoSource } from '../../supabase/functions/schedules/video-source.ts';
import { mainThreadCpuMs, statusKb } from './proc.ts';

const MiB = 1024 * 1024;
const CHUNK = 8 * MiB;
const WINDOW = 64 * MiB;
const TIMEOUT_MS = 30_000;

const [mode, base, mib] = Deno.args;
const total = Number(mib) * MiB;
if (!Number.isInteger(total) || total % WINDOW !== 0) throw new Error('the size must be a whole number of 64 MiB windows');

const chunk = new Uint8Array(CHUNK);
for (let i = 0; i < CHUNK; i++) chunk[i] = (i * 31 + 7) % 251;

async function putCopy(at: number): Promise<void> {
  const res = await fetch(`${base}/sink`, {
    method: 'PUT',
    headers: { 'Content-Range': `bytes ${at}-${at + CHUNK - 1}/${total}` },
    body: chunk,
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  await res.text();
  if (res.status !== 308) throw new Error(`PUT answered ${res.status}`);
}

async function putInPlace(at: number): Promise<void> {
  const res = await putBytes(`${base}/sink`, { 'Content-Range': `bytes ${at}-${at + CHUNK - 1}/${total}` }, chunk, TIMEOUT_MS);
  if (res.status !== 308) throw new Error(`PUT answered ${res.status}`);
}

/** One window read as VideoSource read it before: BYOB into a 1 MiB bounce buffer, a timer and a race per read. */
async function readWindowWithTimers(from: number): Promise<void> {
  const res = await fetch(`${base}/media`, { headers: { Range: `bytes=${from}-${from + WINDOW - 1}` } });
  const reader = res.body!.getReader({ mode: 'byob' });
  let bounce = new Uint8Array(MiB);
  for (let window = 0; window < WINDOW; window += CHUNK) {
    let filled = 0;
    while (filled < CHUNK) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const { done, value } = await Promise.race([
        reader.read(bounce.subarray(0, Math.min(CHUNK - filled, bounce.byteLength))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('stalled')), TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      if (done || !value) throw new Error('the window ended early');
      chunk.set(value, filled);
      bounce = new Uint8Array(value.buffer as ArrayBuffer);
      filled += value.byteLength;
    }
  }
  reader.releaseLock();
}

async function readWindowWithFill(source: VideoSource): Promise<void> {
  for (let window = 0; window < WINDOW; window += CHUNK) await source.fill(chunk, CHUNK);
}

const cpu0 = mainThreadCpuMs();
const t0 = performance.now();
if (mode === 'put-copy' || mode === 'put-in-place') {
  for (let at = 0; at < total; at += CHUNK) await (mode === 'put-copy' ? putCopy(at) : putInPlace(at));
} else if (mode === 'read-timer') {
  for (let at = 0; at < total; at += WINDOW) await readWindowWithTimers(at);
} else if (mode === 'read-fill') {
  const source = new VideoSource(`${base}/media`, { window: WINDOW });
  await source.open(0);
  for (let at = 0; at < total; at += WINDOW) await readWindowWithFill(source);
  await source.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
console.log(
  JSON.stringify({
    mode,
    cpu_ms: Math.round(mainThreadCpuMs() - cpu0),
    wall_ms: Math.round(performance.now() - t0),
    peak_rss_mb: Math.round(statusKb('VmHWM') / 1024),
  }),
);
