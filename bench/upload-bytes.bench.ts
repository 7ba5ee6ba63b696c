// What an upload step's bytes cost on the hosted runtime's Deno, one side at a time, against an
// HTTPS server on 127.0.0.1 in this process (the stack's CA; no stack needed):
//   put   8 MiB PUTs with the chunk copied as a Uint8Array body (baseline: how chunks went out
//         before) against putBytes, which streams the chunk in place with an exact Content-Length;
//   read  the render in 64 MiB windows and 8 MiB fills, with a stall timer and a race per read
//         (baseline: how VideoSource read before) against VideoSource.fill (one timer per fill).
// Each measured process is bench/deno/upload-bytes.ts; its main-thread CPU is what the edge runtime
// counts. BENCH_BYTES_MIB (default 512, a multiple of 64) sizes each run; BENCH_BYTES_ROUNDS
// (default 3) rounds of the four runs, in an order that rotates; figures are medians.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ROOT } from '../local/profile.ts';
import { DENO_ENV, denoBin } from '../local/deno.ts';
import { ensureStackTls } from '../local/stack/tls.ts';
import { mediaBytes, parseRange } from '../local/fakes/revid/media.ts';
import { benchProfile, settingsFromEnv, stats, writeResult } from './lib.ts';

const { BENCH_BYTES_MIB: MIB, BENCH_BYTES_ROUNDS: ROUNDS } = settingsFromEnv(
  'upload-bytes',
  z.object({
    BENCH_BYTES_MIB: z.coerce.number().int().positive().multipleOf(64).default(512),
    BENCH_BYTES_ROUNDS: z.coerce.number().int().positive().default(3),
  }),
);
const MODES = ['put-copy', 'put-in-place', 'read-timer', 'read-fill'] as const;
type Mode = (typeof MODES)[number];

const tls = ensureStackTls(benchProfile());
const size = MIB * 1024 * 1024;
/** What each PUT carried: its Content-Length and Transfer-Encoding headers and the bytes that arrived. */
const puts: { length: string | undefined; encoding: string | undefined; bytes: number }[] = [];

const server = createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
  if (req.method === 'PUT' && req.url === '/sink') {
    let bytes = 0;
    req.on('data', (d: Buffer) => (bytes += d.length));
    req.on('end', () => {
      puts.push({ length: req.headers['content-length'], encoding: req.headers['transfer-encoding'], bytes });
      res.writeHead(308, { range: `bytes=0-${bytes - 1}`, 'content-length': '0' });
      res.end();
    });
    return;
  }
  if (req.method === 'GET' && req.url === '/media') {
    const range = parseRange(req.headers.range, size);
    if (range === null || range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      'content-type': 'video/mp4',
      'content-length': String(range.end - range.start + 1),
      'content-range': `bytes ${range.start}-${range.end}/${size}`,
    });
    const chunks = mediaBytes('bench-upload-bytes', range.start, range.end);
    const pump = () => {
      for (let next = chunks.next(); !next.done; next = chunks.next()) {
        if (!res.write(next.value)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  res.writeHead(404);
  res.end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function measure(mode: Mode): Promise<{ cpu_ms: number; wall_ms: number; peak_rss_mb: number }> {
  const child = spawn(
    denoBin(),
    ['run', '-A', '--config', 'supabase/functions/deno.json', 'bench/deno/upload-bytes.ts', mode, base, String(MIB)],
    { cwd: ROOT, env: { ...process.env, ...DENO_ENV, DENO_CERT: tls.caFile }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  if (code !== 0) throw new Error(`${mode} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

try {
  const runs: Record<Mode, { cpu_ms: number; wall_ms: number; peak_rss_mb: number }[]> = {
    'put-copy': [],
    'put-in-place': [],
    'read-timer': [],
    'read-fill': [],
  };
  let inPlacePutsExact = true;
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of [...MODES.slice(r % MODES.length), ...MODES.slice(0, r % MODES.length)]) {
      puts.length = 0;
      runs[mode].push(await measure(mode));
      if (mode === 'put-in-place') {
        inPlacePutsExact &&=
          puts.length === size / (8 * 1024 * 1024) && puts.every((p) => p.encoding === undefined && p.length === String(p.bytes));
      }
      console.log(`${mode} ${JSON.stringify(runs[mode].at(-1))}`);
    }
  }
  const median = (mode: Mode, key: 'cpu_ms' | 'wall_ms' | 'peak_rss_mb') => stats(runs[mode].map((x) => x[key])).p50;
  const summary = Object.fromEntries(
    MODES.map((m) => [
      m,
      { cpu_ms: median(m, 'cpu_ms'), wall_ms: median(m, 'wall_ms'), peak_rss_mb: median(m, 'peak_rss_mb'), runs: runs[m] },
    ]),
  );
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  writeResult('upload-bytes', {
    mib: MIB,
    rounds: ROUNDS,
    ...summary,
    put_in_place_vs_copy: {
      cpu: ratio(median('put-in-place', 'cpu_ms'), median('put-copy', 'cpu_ms')),
      wall: ratio(median('put-in-place', 'wall_ms'), median('put-copy', 'wall_ms')),
      peak_rss: ratio(median('put-in-place', 'peak_rss_mb'), median('put-copy', 'peak_rss_mb')),
    },
    read_fill_vs_timer_per_read: {
      cpu: ratio(median('read-fill', 'cpu_ms'), median('read-timer', 'cpu_ms')),
      wall: ratio(median('read-fill', 'wall_ms'), median('read-timer', 'wall_ms')),
    },
    in_place_puts_had_exact_content_length: inPlacePutsExact,
  });
  if (!inPlacePutsExact) process.exitCode = 1;
} finally {
  server.close();
}
