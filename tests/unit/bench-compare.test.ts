// `npm run bench:compare` (tools/bench-compare.ts): its arguments, its run order and the ratio of
// each figure (HEAD / ref) from the two sides' result files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRuns, figuresOf, median, parseCompareArgs, runOrder, UsageError } from '../../tools/bench-compare/compare.ts';
import { needsRunningStack, parseEnvFile } from '../../tools/bench-compare/sides.ts';

describe('bench:compare arguments', () => {
  it('reads the ref, the benchmarks and the defaults', () => {
    assert.deepEqual(parseCompareArgs(['--ref', '9a8272e', 'rls-select', 'scoring']), {
      ref: '9a8272e',
      head: 'HEAD',
      rounds: 2,
      out: null,
      portBase: 57321,
      names: ['rls-select', 'scoring'],
    });
  });

  it('takes every option in both spellings, anywhere among the names', () => {
    const args = parseCompareArgs([
      'scoring',
      '--rounds=3',
      '--ref=main~2',
      '--head',
      'h/x',
      '--out',
      'r.json',
      '--port-base',
      '18200',
      'rls-select',
    ]);
    assert.deepEqual(args, { ref: 'main~2', head: 'h/x', rounds: 3, out: 'r.json', portBase: 18200, names: ['scoring', 'rls-select'] });
  });

  const refused: [string[], RegExp][] = [
    [['rls-select'], /--ref <git ref> is required/],
    [['--ref', 'x'], /name at least one benchmark/],
    [['--ref'], /--ref needs a value/],
    [['--ref', '--rounds', '2', 'a'], /--ref needs a value/],
    [['--ref=', 'a'], /--ref needs a value/],
    [['--ref', 'x', '--ref', 'y', 'a'], /--ref is given twice/],
    [['--ref', 'x', '--fast', 'a'], /unknown option --fast/],
    [['--ref', 'x', '--rounds', '0', 'a'], /--rounds takes a whole number from 1 to 20, not "0"/],
    [['--ref', 'x', '--rounds', '2.5', 'a'], /--rounds takes a whole number/],
    [['--ref', 'x', '--rounds', '21', 'a'], /--rounds takes a whole number/],
    [['--ref', 'x', '--port-base', '80', 'a'], /--port-base takes a whole number from 1024 to 65000/],
    [['--ref', 'x', 'a', 'b', 'a'], /benchmark a is named twice/],
  ];
  for (const [argv, message] of refused) {
    it(`refuses ${JSON.stringify(argv)}`, () => {
      assert.throws(
        () => parseCompareArgs(argv),
        (err: Error) => err instanceof UsageError && message.test(err.message),
      );
    });
  }
});

describe('bench:compare run order', () => {
  it('alternates ref and HEAD run by run, round after round (ABAB…)', () => {
    assert.deepEqual(
      runOrder(['a', 'b'], 2).map((r) => `${r.round}:${r.bench}:${r.side}`),
      ['1:a:ref', '1:a:head', '1:b:ref', '1:b:head', '2:a:ref', '2:a:head', '2:b:ref', '2:b:head'],
    );
  });
});

describe('bench:compare figures and ratios', () => {
  it('finds every finite number by its path, leaving out the run description', () => {
    const result = {
      benchmark: 'x',
      at: '2026-12-07',
      rows: 100,
      p: { p50: 1.5, p99: 3 },
      runs: [{ ms: 4 }, { ms: 5 }],
      note: 'text',
      ok: true,
      none: null,
      nan: NaN,
    };
    assert.deepEqual(figuresOf(result), { rows: 100, 'p.p50': 1.5, 'p.p99': 3, 'runs.0.ms': 4, 'runs.1.ms': 5 });
    // Only the top level's `at` describes the run; a nested one is a figure.
    assert.deepEqual(figuresOf({ latency: { at: 7 } }), { 'latency.at': 7 });
  });

  it('takes the median of an odd and an even number of runs', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('divides HEAD by the ref, median by median, and flags what lies beyond ±10 %', () => {
    const ref = [
      { ms: 10, qps: 100, same: 5 },
      { ms: 12, qps: 120, same: 5 },
    ];
    const head = [
      { ms: 12.1, qps: 99, same: 5 },
      { ms: 13.1, qps: 121, same: 5 },
    ];
    const { figures } = compareRuns(ref, head);
    assert.deepEqual(figures.ms, {
      ref: [10, 12],
      head: [12.1, 13.1],
      ref_median: 11,
      head_median: 12.6,
      ratio: 1.145,
      beyond_10_percent: true,
    });
    assert.equal(figures.qps.ratio, 1);
    assert.equal(figures.qps.beyond_10_percent, false);
    assert.equal(figures.same.ratio, 1);
  });

  it('flags 0.9 and 1.1 as within, just past them as beyond', () => {
    const ratioOf = (r: number, h: number) => compareRuns([{ x: r }], [{ x: h }]).figures.x;
    assert.equal(ratioOf(100, 90).beyond_10_percent, false);
    assert.equal(ratioOf(100, 110).beyond_10_percent, false);
    assert.equal(ratioOf(100, 89.9).beyond_10_percent, true);
    assert.equal(ratioOf(100, 110.1).beyond_10_percent, true);
  });

  it('has no ratio for a ref of 0 (unless both are 0), and lists figures only one side has', () => {
    const r = compareRuns([{ a: 0, b: 0, old: 1 }], [{ a: 3, b: 0, new: 2 }]);
    assert.equal(r.figures.a.ratio, null);
    assert.equal(r.figures.a.beyond_10_percent, true);
    assert.equal(r.figures.b.ratio, 1);
    assert.deepEqual(r.only_ref, ['old']);
    assert.deepEqual(r.only_head, ['new']);
  });

  it('takes a figure a failed or shorter run lacks from the runs that have it', () => {
    const r = compareRuns([{ a: 1 }, { a: 3, b: 2 }], [{ a: 2, b: 4 }]);
    assert.deepEqual(r.figures.b.ref, [2]);
    assert.equal(r.figures.b.ratio, 2);
    assert.equal(r.figures.a.ratio, 1);
  });
});

describe('bench:compare stack env', () => {
  it('reads KEY=value lines, unquoting quoted values and skipping the rest', () => {
    assert.deepEqual(parseEnvFile('# comment\nA=1\nB=\'two words\'\nC="x=y"\n\nnot a line\n'), { A: '1', B: 'two words', C: 'x=y' });
  });
});

describe('bench:compare: which benchmarks get the running stack of their side', () => {
  it('one that starts nothing itself does; one that starts its stack or cluster does not', () => {
    assert.equal(needsRunningStack('const dbUrl = process.env.BENCH_DB_URL;'), true);
    assert.equal(needsRunningStack("const supabaseUrl = required('SUPABASE_URL');"), true);
    assert.equal(needsRunningStack('const stack = await startStack(p, { echo: false });'), false);
    assert.equal(needsRunningStack('const { env, stop } = await benchStack();'), false);
    assert.equal(needsRunningStack('const p = await benchDatabase();'), false);
  });
});
