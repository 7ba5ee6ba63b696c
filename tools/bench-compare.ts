// `npm run bench:compare -- --ref <git ref> <bench names…>`: runs the same benchmarks at a past
// commit and at HEAD, each in a worktree of its own with its own stack, alternating ref and HEAD
// run by run so that the shared machine's drift hits both, and writes each figure's ratio
// HEAD / ref (medians over the rounds) to bench/results/bench-compare.json (or --out).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../local/profile.ts';
import { compareRuns, parseCompareArgs, runOrder, UsageError, USAGE, type CompareArgs, type Side } from './bench-compare/compare.ts';
import {
  benchSource,
  checkout,
  installPackages,
  needsRunningStack,
  resetDataDirs,
  resolveCommit,
  runSideBench,
  startSideStack,
  stopBenchProfile,
  type RunningStack,
  type SideCheckout,
} from './bench-compare/sides.ts';

function readArgs(): CompareArgs {
  try {
    return parseCompareArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
}

const log = (line: string) => console.log(`[bench:compare ${new Date().toISOString().slice(11, 19)}] ${line}`);

function prepare(args: CompareArgs): Record<Side, SideCheckout> {
  const sides = {
    ref: checkout(ROOT, 'ref', resolveCommit(ROOT, args.ref), args.portBase + 100),
    head: checkout(ROOT, 'head', resolveCommit(ROOT, args.head), args.portBase),
  };
  for (const side of Object.values(sides)) {
    const missing = args.names.filter((n) => !existsSync(resolve(side.dir, 'bench', `${n}.bench.ts`)));
    if (missing.length) throw new UsageError(`not a benchmark at ${side.label} (${side.commit.slice(0, 9)}): ${missing.join(', ')}`);
    installPackages(side, log);
    resetDataDirs(side);
  }
  return sides;
}

function writeReport(args: CompareArgs, sides: Record<Side, SideCheckout>, runs: Runs, failures: Failure[], out: string) {
  const benches = Object.fromEntries(args.names.map((n) => [n, compareRuns(runs[n].ref, runs[n].head)]));
  const report = {
    at: new Date().toISOString(),
    ref: { name: args.ref, commit: sides.ref.commit },
    head: { name: args.head, commit: sides.head.commit },
    rounds: args.rounds,
    order: 'ABAB: each round runs a benchmark at the ref, then at HEAD',
    failures,
    benches,
  };
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  return benches;
}

type Runs = Record<string, Record<Side, unknown[]>>;
type Failure = { bench: string; side: Side; round: number; error: string };

async function main() {
  const args = readArgs();
  let sides: Record<Side, SideCheckout>;
  try {
    sides = prepare(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const logDir = resolve(ROOT, 'bench', 'results', 'bench-compare-logs');
  mkdirSync(logDir, { recursive: true });
  const out = args.out ? resolve(args.out) : resolve(ROOT, 'bench', 'results', 'bench-compare.json');
  const stacks: Partial<Record<Side, RunningStack>> = {};
  const runs: Runs = Object.fromEntries(args.names.map((n) => [n, { ref: [], head: [] }]));
  const failures: Failure[] = [];
  // The stacks run detached, so Ctrl-C reaches only the benchmark running: stop them after it.
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      interrupted = true;
      log(`${sig}: stopping the stacks after this run`);
    });
  }
  try {
    for (const { round, bench, side } of runOrder(args.names, args.rounds)) {
      if (interrupted) break;
      const needs = needsRunningStack(benchSource(sides[side], bench));
      if (needs && !stacks[side]) {
        log(`${side}: starting the stack of ${sides[side].commit.slice(0, 9)} (port base ${sides[side].portBase + 50})`);
        stacks[side] = await startSideStack(sides[side], resolve(logDir, `${side}-stack.log`));
      }
      log(`round ${round}: ${bench} at ${side}${needs ? " (against the side's stack)" : ''}`);
      const r = runSideBench(sides[side], bench, needs ? stacks[side]! : null, resolve(logDir, `${side}-${bench}-${round}.log`));
      if (r.error) failures.push({ bench, side, round, error: r.error });
      else runs[bench][side].push(r.result);
      // Written after every run, so a comparison cut short still leaves what it measured.
      writeReport(args, sides, runs, failures, out);
    }
  } finally {
    for (const stack of Object.values(stacks)) await stack.stop();
    for (const side of Object.values(sides)) stopBenchProfile(side);
  }
  for (const [name, b] of Object.entries(writeReport(args, sides, runs, failures, out))) {
    const beyond = Object.entries(b.figures).filter(([, f]) => f.beyond_10_percent);
    const list = beyond.map(([k, f]) => `${k} ${f.ratio}`).join(', ');
    log(`${name}: ${Object.keys(b.figures).length} figures, ${beyond.length} beyond ±10 %${beyond.length ? ': ' + list : ''}`);
  }
  log(`→ ${out}`);
  process.exit(interrupted ? 130 : failures.length ? 1 : 0);
}

await main();
