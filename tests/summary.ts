// Reads the closing lines of each test runner into pass/fail/skip counts, so `npm test` can print
// one summary over all suites.
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const ANSI = /\x1b\[[0-9;]*m/g;

export function stripAnsi(s: string) {
  return s.replace(ANSI, '');
}

/** node --test --test-reporter=tap: `# pass N`, `# fail N`, `# cancelled N`, `# skipped N`, `# todo N`. */
export function parseNodeTap(output: string): Counts | null {
  const text = stripAnsi(output);
  const num = (k: string) => {
    const all = [...text.matchAll(new RegExp(`^# ${k} (\\d+)$`, 'gm'))];
    return all.length ? Number(all[all.length - 1][1]) : null;
  };
  const pass = num('pass');
  const fail = num('fail');
  if (pass === null || fail === null) return null;
  return { passed: pass, failed: fail + (num('cancelled') ?? 0), skipped: (num('skipped') ?? 0) + (num('todo') ?? 0) };
}

/** deno test: `ok | 5 passed | 0 failed | 1 ignored (2s)` or `FAILED | 3 passed (1 step) | 1 failed (…)`. */
export function parseDenoTest(output: string): Counts | null {
  const lines = stripAnsi(output)
    .split('\n')
    .filter((l) => /^(ok|FAILED) \| \d+ passed/.test(l));
  const last = lines[lines.length - 1];
  if (!last) return null;
  const get = (k: string) => Number(new RegExp(`(\\d+) ${k}`).exec(last)?.[1] ?? 0);
  return { passed: get('passed'), failed: get('failed'), skipped: get('ignored') };
}

/** pg_prove --verbose prints each file's TAP: count the `ok`/`not ok` assertion lines. */
export function parseTap(output: string): Counts {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const line of stripAnsi(output).split('\n')) {
    const m = /^\s*(not ok|ok)\s+\d+(.*)$/.exec(line);
    if (!m) continue;
    if (/#\s*skip/i.test(m[2])) skipped++;
    else if (m[1] === 'ok') passed++;
    else failed++;
  }
  return { passed, failed, skipped };
}

export function add(a: Counts, b: Counts): Counts {
  return { passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped };
}

export function summaryLine(c: Counts): string {
  return `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`;
}
