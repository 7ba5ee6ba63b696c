// The pure half of `npm run bench:compare`: reading its arguments, laying out the alternating run
// order, and turning the result files of both sides into one ratio (HEAD / ref) per figure.

export const USAGE =
  'usage: npm run bench:compare -- --ref <git ref> [--head <git ref>] [--rounds N] [--out FILE] [--port-base N] <bench name>...';

export interface CompareArgs {
  ref: string;
  head: string;
  rounds: number;
  out: string | null;
  portBase: number;
  names: string[];
}

export class UsageError extends Error {}

const VALUE_OPTIONS = ['--ref', '--head', '--rounds', '--out', '--port-base'] as const;

function wholeNumber(option: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(`${option} takes a whole number from ${min} to ${max}, not "${text}"`);
  return n;
}

/** Reads `argv` (what follows `--`); throws a UsageError that says what is wrong. */
export function parseCompareArgs(argv: string[]): CompareArgs {
  const values = new Map<string, string>();
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      names.push(arg);
      continue;
    }
    const [option, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!(VALUE_OPTIONS as readonly string[]).includes(option)) throw new UsageError(`unknown option ${option}`);
    if (values.has(option)) throw new UsageError(`${option} is given twice`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError(`${option} needs a value`);
    values.set(option, value);
  }
  const ref = values.get('--ref');
  if (!ref) throw new UsageError('--ref <git ref> is required: the commit to compare HEAD with');
  if (names.length === 0) throw new UsageError('name at least one benchmark (bench/<name>.bench.ts)');
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new UsageError(`benchmark ${duplicate} is named twice`);
  return {
    ref,
    head: values.get('--head') ?? 'HEAD',
    rounds: wholeNumber('--rounds', values.get('--rounds') ?? '2', 1, 20),
    out: values.get('--out') ?? null,
    // Two stacks run at once, each taking base + 0..24 (the ref's at base + 100), clear of the
    // stacks npm start, npm test and npm run bench use (53321-56345).
    portBase: wholeNumber('--port-base', values.get('--port-base') ?? '57321', 1024, 65000),
    names,
  };
}

export type Side = 'ref' | 'head';

/** The order of the runs: each round runs every benchmark at the ref, then at HEAD (ABAB…). */
export function runOrder(names: string[], rounds: number): { round: number; bench: string; side: Side }[] {
  const order: { round: number; bench: string; side: Side }[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const bench of names) {
      order.push({ round, bench, side: 'ref' }, { round, bench, side: 'head' });
    }
  }
  return order;
}

/** Fields of a result file that describe the run, not a measurement. */
const NOT_FIGURES = new Set(['at', 'benchmark']);

/** Every number in a benchmark's result, by its dotted path (`overhead_ms.p99`, `runs.0.ms`). */
export function figuresOf(result: unknown, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof result === 'number') {
    if (Number.isFinite(result) && prefix) out[prefix] = result;
    return out;
  }
  if (result === null || typeof result !== 'object') return out;
  for (const [key, value] of Object.entries(result)) {
    if (!prefix && NOT_FIGURES.has(key)) continue;
    Object.assign(out, figuresOf(value, prefix ? `${prefix}.${key}` : key));
  }
  return out;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface FigureComparison {
  ref: number[];
  head: number[];
  ref_median: number;
  head_median: number;
  /** HEAD / ref of the medians; null when the ref's median is 0 (no ratio exists). */
  ratio: number | null;
  /** The ratio lies outside 0.9 … 1.1. */
  beyond_10_percent: boolean;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Compares the runs of one benchmark figure by figure; figures only one side has are listed apart. */
export function compareRuns(refRuns: unknown[], headRuns: unknown[]) {
  const ref = refRuns.map((r) => figuresOf(r));
  const head = headRuns.map((r) => figuresOf(r));
  const refKeys = new Set(ref.flatMap(Object.keys));
  const headKeys = new Set(head.flatMap(Object.keys));
  const figures: Record<string, FigureComparison> = {};
  for (const key of [...refKeys].filter((k) => headKeys.has(k)).sort()) {
    const a = ref.flatMap((f) => (key in f ? [f[key]] : []));
    const b = head.flatMap((f) => (key in f ? [f[key]] : []));
    const [am, bm] = [median(a), median(b)];
    const ratio = am === 0 ? (bm === 0 ? 1 : null) : round3(bm / am);
    figures[key] = {
      ref: a,
      head: b,
      ref_median: round3(am),
      head_median: round3(bm),
      ratio,
      beyond_10_percent: ratio === null || ratio < 0.9 || ratio > 1.1,
    };
  }
  return {
    figures,
    only_ref: [...refKeys].filter((k) => !headKeys.has(k)).sort(),
    only_head: [...headKeys].filter((k) => !refKeys.has(k)).sort(),
  };
}
