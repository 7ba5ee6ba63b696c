// How cost grows: each hot path at three sizes (issue 18), JSON plus an SVG chart in
// bench/results/ (scaling.json, scaling.svg). Every size is measured next to a fixed-work
// baseline of the same moment and the load average (the machine is shared).
//
//   npm run bench -- scaling                       every path at its default sizes
//   SCALING_PATHS=insights,rls npm run bench -- scaling
//   SCALING_INSIGHTS_SIZES=100,1000 …              sizes of a path (SCALING_<PATH>_SIZES)
//   SCALING_OUT=name                               results as bench/results/<name>.{json,svg}
//   SCALING_KEEP=1                                 keep the fixtures (large ones take minutes)
//   SCALING_ADMIN_CHUNK=1000000                    tracked calls per load transaction (each rolled up in it)
// Paths run in the order below; a path that was not run keeps its earlier result in the JSON, and
// the JSON and chart are rewritten after every size.
// The database is the one SUPABASE_DB_URL names, else the bench profile's (bench/lib.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { ROOT } from '../local/profile.ts';
import { benchDatabase, writeResult } from './lib.ts';
import { measureAdmin, dropAdmin } from './scaling/admin.ts';
import { measureBackup, dropBackup } from './scaling/backup.ts';
import { scalingSvg } from './scaling/chart.ts';
import { load, sizes, type PathResult, type Point, type Sql } from './scaling/common.ts';
import { dropDispatch, measureDispatch } from './scaling/dispatch.ts';
import { dropInsights, measureInsights } from './scaling/insights.ts';
import { dropRls, measureRls } from './scaling/rls.ts';
import { measureSync } from './scaling/sync.ts';

interface PathSpec {
  meta: Omit<PathResult, 'points'>;
  defaults: number[];
  measure: (sql: Sql, size: number) => Promise<Point> | Point;
  drop?: (sql: Sql, all: number[]) => Promise<void>;
}

const PATHS: Record<string, PathSpec> = {
  insights: {
    meta: { path: 'insights', size_unit: 'videos in the workspace (365 days each)', value_label: 'p95 ms', kind: 'read' },
    defaults: [1_000, 10_000, 100_000],
    measure: measureInsights,
    drop: dropInsights,
  },
  rls: {
    meta: { path: 'rls', size_unit: 'workspaces of the user', value_label: 'p95 ms (videos page)', kind: 'read' },
    defaults: [1, 100, 1_000],
    measure: measureRls,
    drop: dropRls,
  },
  dispatch: {
    meta: { path: 'dispatch', size_unit: 'schedules due in one minute', value_label: 'p99 lag s', kind: 'worker' },
    defaults: [1_000, 10_000],
    measure: measureDispatch,
    drop: dropDispatch,
  },
  admin: {
    meta: { path: 'admin', size_unit: 'tracked calls (30 days)', value_label: 'p95 ms (24h, 30d)', kind: 'read' },
    defaults: [1_000_000, 10_000_000, 100_000_000],
    measure: measureAdmin,
    drop: (sql) => dropAdmin(sql),
  },
  backup: {
    meta: { path: 'backup', size_unit: 'tenant rows', value_label: 'snapshot + restore ms', kind: 'worker' },
    defaults: [100_000, 1_000_000, 10_000_000],
    measure: measureBackup,
    drop: (sql) => dropBackup(sql),
  },
  sync: {
    meta: { path: 'sync', size_unit: 'videos of the channel', value_label: 'full sync wall ms', kind: 'worker' },
    defaults: [500, 5_000, 50_000],
    measure: (_sql, n) => measureSync(n),
  },
};

const chosen = (process.env.SCALING_PATHS ?? Object.keys(PATHS).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = chosen.filter((c) => !PATHS[c]);
if (unknown.length) throw new Error(`SCALING_PATHS: unknown ${unknown.join(', ')}; known: ${Object.keys(PATHS).join(', ')}`);
const OUT = process.env.SCALING_OUT ?? 'scaling';
// The sync starts a stack of its own (bench/youtube-sync.bench.ts); the other paths need only the database.
const needsDb = chosen.some((c) => c !== 'sync');
const dbUrl = process.env.SUPABASE_DB_URL ?? (needsDb ? (await benchDatabase()).dbUrl : undefined);
// One connection per dispatcher chain, as each chain's invocation holds its own.
const sql = postgres(dbUrl ?? 'postgres://unused@127.0.0.1:1/unused', { max: 40, onnotice: () => {} });

/** Growth of the figure against growth of the data, from the smallest to the largest size. */
function verdict(r: PathResult) {
  const [first, last] = [r.points[0], r.points[r.points.length - 1]];
  if (!first || !last || first === last) return { growth: null, data_growth: null, within_acceptance: null };
  const growth = last.value / first.value;
  const dataGrowth = last.size / first.size;
  // Normalised by the baseline of each moment, so a busier machine at one size does not bend the curve.
  const normalised = Number.isFinite(first.baseline_p95_ms)
    ? last.value / last.baseline_p95_ms / (first.value / first.baseline_p95_ms)
    : null;
  const limit = r.kind === 'read' ? 2 : dataGrowth;
  return {
    growth: Math.round(growth * 100) / 100,
    growth_over_baseline: normalised === null ? null : Math.round(normalised * 100) / 100,
    data_growth: dataGrowth,
    limit,
    within_acceptance: growth <= limit * 1.0001,
  };
}

function save(all: Record<string, PathResult & { verdict?: unknown }>) {
  const ordered = Object.keys(PATHS)
    .filter((k) => all[k])
    .map((k) => all[k]);
  const loads = { ...previousLoads, [`${chosen.join('/')} run, ${startedAt}`]: runLoad };
  writeResult(OUT, { load_average: loads, paths: Object.fromEntries(ordered.map((r) => [r.path, r])) });
  writeFileSync(resolve(ROOT, 'bench', 'results', `${OUT}.svg`), scalingSvg(ordered, 'Content Catalyst Engine: cost against size'));
}

const file = resolve(ROOT, 'bench', 'results', `${OUT}.json`);
const earlier = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
const previous: Record<string, PathResult> = earlier.paths ?? {};
// The load averages of each run whose paths the file keeps, one entry per run (an older file's
// single run, a bare {start, <path>} of arrays, has no run name to keep it under).
const previousLoads: Record<string, unknown> = Object.fromEntries(
  Object.entries(earlier.load_average ?? {}).filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v)),
);
const startedAt = new Date().toISOString().slice(0, 16);
const results: Record<string, PathResult & { verdict?: unknown }> = { ...previous };
const runLoad: Record<string, number[]> = { start: load() };
try {
  for (const name of chosen) {
    const spec = PATHS[name];
    const all = sizes(name, spec.defaults);
    const points: Point[] = [];
    console.log(`\n── ${name}: ${all.join(' / ')}`);
    try {
      for (const size of all) {
        const point = await spec.measure(sql, size);
        console.log(`  ${size}: ${point.value} (baseline p95 ${point.baseline_p95_ms} ms, load ${point.load_average.join(' ')})`);
        points.push(point);
        // Written after every size, so a run stopped during a long size keeps the ones it measured.
        save({ ...results, [name]: { ...spec.meta, points } });
      }
    } finally {
      if (process.env.SCALING_KEEP !== '1' && spec.drop) await spec.drop(sql, all);
    }
    const r: PathResult = { ...spec.meta, points };
    results[name] = { ...r, verdict: verdict(r) };
    runLoad[name] = load();
  }
} finally {
  await sql.end();
}
save(results);
