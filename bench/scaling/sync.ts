// A YouTube sync of N videos: bench/youtube-sync.bench.ts (the real worker against the fake
// YouTube, on a stack of its own) at each size, its result read back. Quota units and wall time.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../../local/profile.ts';
import { load, type Point } from './common.ts';

export function measureSync(videos: number): Point {
  const name = `scaling-youtube-sync-${videos}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'bench', 'youtube-sync.bench.ts')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, BENCH_VIDEOS: String(videos), BENCH_RESULT_NAME: name },
  });
  if (r.status !== 0) throw new Error(`youtube-sync bench of ${videos} videos exited ${r.status}`);
  const out = JSON.parse(readFileSync(resolve(ROOT, 'bench', 'results', `${name}.json`), 'utf8'));
  return {
    size: videos,
    value: out.full_sync.wall_ms,
    // The sync's own yardstick: the fewest Data API calls the channel allows.
    baseline_p95_ms: NaN,
    load_average: load(),
    details: {
      full_sync: out.full_sync,
      incremental_resync: out.incremental_resync,
      minimum_quota_units: out.minimum_quota_units,
      metric_rows_stored: out.metric_rows_stored,
    },
  };
}
