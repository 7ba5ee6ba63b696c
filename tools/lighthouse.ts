// `npm run lighthouse`: Lighthouse CI (`lhci autorun`, config in lighthouse/lighthouserc.cjs)
// against the web app's sign-in page (signed out) and dashboard (signed in), with the budgets
// performance >= 90, accessibility >= 95, best practices >= 95. Prints the median run's scores per
// page and, for a category under budget, the audits that cost it points. Exit code is lhci's.
//
//   --web-url <url>      the web app (default: `npm start`'s, http://127.0.0.1:54323)   env LHCI_WEB_URL
//   --email/--password   the user for pages behind sign-in (default: the demo user)       env SMOKE_EMAIL / SMOKE_PASSWORD
//   --runs <n>           runs per page, the median counts (default 3)
//   --out <dir>          where reports go (default .local/lighthouse)
//
// Chrome: $CHROME_PATH, else Debian's /usr/bin/chromium. Nothing is downloaded.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';

const ROOT = resolve(import.meta.dirname, '..');
const CONFIG = resolve(ROOT, 'tools/lighthouse/lighthouserc.cjs');
const SESSION_SCRIPT = resolve(ROOT, 'tools/lighthouse/session.cjs');
const BUDGETS = { performance: 0.9, accessibility: 0.95, 'best-practices': 0.95 } as const;
type Category = keyof typeof BUDGETS;

const Options = z.object({
  webUrl: z.url({ protocol: /^https?$/, error: '--web-url must be an http(s) URL' }),
  email: z.email(),
  password: z.string().min(1),
  runs: z.coerce.number().int().min(1).max(9),
  out: z.string().min(1),
});

const ManifestEntry = z.object({
  url: z.string(),
  isRepresentativeRun: z.boolean(),
  jsonPath: z.string(),
  htmlPath: z.string(),
  summary: z.record(z.string(), z.number()),
});
const Report = z.object({
  finalDisplayedUrl: z.string().optional(),
  categories: z.record(
    z.string(),
    z.object({ score: z.number().nullable(), auditRefs: z.array(z.object({ id: z.string(), weight: z.number() })) }),
  ),
  audits: z.record(
    z.string(),
    z.object({
      title: z.string(),
      score: z.number().nullable(),
      displayValue: z.string().optional(),
      metricSavings: z.record(z.string(), z.number()).optional(),
    }),
  ),
});
type LighthouseReport = z.infer<typeof Report>;

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      'web-url': { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      runs: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  // An unset GitHub secret or variable arrives as an empty string: the same as not set.
  const set = (name: string) => (process.env[name] === '' ? undefined : process.env[name]);
  const parsed = Options.safeParse({
    webUrl: values['web-url'] ?? set('LHCI_WEB_URL') ?? 'http://127.0.0.1:54323',
    email: values.email ?? set('SMOKE_EMAIL') ?? 'demo@example.com',
    password: values.password ?? set('SMOKE_PASSWORD') ?? 'demo-password',
    runs: values.runs ?? 3,
    out: resolve(ROOT, values.out ?? '.local/lighthouse'),
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return { ...parsed.data, webUrl: parsed.data.webUrl.replace(/\/+$/, '') };
}

function chromePath(): string {
  const path = process.env.CHROME_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) throw new Error(`no Chrome at ${path}: install Debian's chromium (apt-get install chromium) or set CHROME_PATH`);
  return path;
}

/** The audits of a category that lost points in this run, worst first. */
function losingAudits(report: LighthouseReport, category: string): string[] {
  const lost = (score: number | null, weight: number) => (1 - (score ?? 0)) * weight;
  return (report.categories[category]?.auditRefs ?? [])
    .filter((ref) => ref.weight > 0)
    .map((ref) => ({ ref, audit: report.audits[ref.id] }))
    .filter(({ audit }) => audit && audit.score !== null && audit.score < 0.9)
    .sort((a, b) => lost(b.audit.score, b.ref.weight) - lost(a.audit.score, a.ref.weight))
    .map(
      ({ ref, audit }) =>
        `${ref.id} (${audit.title}${audit.displayValue ? `: ${audit.displayValue}` : ''}; score ${audit.score}, weight ${ref.weight})`,
    );
}

/** Performance opportunities: audits that estimate time the page could save, largest first. */
function opportunities(report: LighthouseReport): string[] {
  return Object.entries(report.audits)
    .map(([id, audit]) => ({ id, audit, savedMs: Math.max(0, ...Object.values(audit.metricSavings ?? {})) }))
    .filter(({ id, audit, savedMs }) => savedMs > 0 && audit.score !== null && audit.score < 1 && !id.endsWith('-insight'))
    .sort((a, b) => b.savedMs - a.savedMs)
    .map(
      ({ id, audit, savedMs }) =>
        `${id} (${audit.title}${audit.displayValue ? `: ${audit.displayValue}` : ''}; up to ${Math.round(savedMs)} ms)`,
    );
}

function summarize(reportsDir: string): void {
  const manifestPath = resolve(reportsDir, 'manifest.json');
  if (!existsSync(manifestPath)) return;
  const entries = z
    .array(ManifestEntry)
    .parse(JSON.parse(readFileSync(manifestPath, 'utf8')))
    .filter((e) => e.isRepresentativeRun);
  console.log('\nLighthouse (median run per page; budgets: performance 90, accessibility 95, best practices 95)');
  for (const entry of entries) {
    const report = Report.parse(JSON.parse(readFileSync(entry.jsonPath, 'utf8')));
    const scores = (Object.keys(BUDGETS) as Category[]).map((c) => `${c} ${Math.round((entry.summary[c] ?? 0) * 100)}`).join(', ');
    console.log(`  ${entry.url}: ${scores}`);
    if (report.finalDisplayedUrl && new URL(report.finalDisplayedUrl).pathname !== new URL(entry.url).pathname) {
      console.log(`    ! audited ${report.finalDisplayedUrl}, not the requested page (redirected)`);
    }
    for (const c of Object.keys(BUDGETS) as Category[]) {
      if ((entry.summary[c] ?? 0) >= BUDGETS[c]) continue;
      for (const line of losingAudits(report, c)) console.log(`    ${c} loses on ${line}`);
      if (c === 'performance') for (const line of opportunities(report)) console.log(`    performance opportunity: ${line}`);
    }
    console.log(`    report: ${relative(ROOT, entry.htmlPath)}`);
  }
}

async function main(): Promise<number> {
  const opts = options();
  const chrome = chromePath();
  const probe = await fetch(`${opts.webUrl}/sign-in`, { signal: AbortSignal.timeout(10_000) }).catch(() => null);
  if (!probe?.ok) throw new Error(`the web app does not answer at ${opts.webUrl} (start the stack: npm start, or pass --web-url)`);
  await probe.body?.cancel();

  // lhci writes .lighthouseci/ into its working directory: keep it under the output directory.
  rmSync(opts.out, { recursive: true, force: true });
  mkdirSync(opts.out, { recursive: true });
  const reportsDir = resolve(opts.out, 'reports');
  const code = await new Promise<number>((done) => {
    const child = spawn(resolve(ROOT, 'node_modules/.bin/lhci'), ['autorun', `--config=${CONFIG}`], {
      cwd: opts.out,
      stdio: 'inherit',
      env: {
        ...process.env,
        CHROME_PATH: chrome,
        LHCI_WEB_URL: opts.webUrl,
        LHCI_RUNS: String(opts.runs),
        LHCI_EMAIL: opts.email,
        LHCI_PASSWORD: opts.password,
        // lhci requires the script relative to its working directory.
        LHCI_SESSION_SCRIPT: relative(opts.out, SESSION_SCRIPT),
        LHCI_OUTPUT_DIR: reportsDir,
      },
    });
    child.on('close', (c) => done(c ?? 1));
  });
  summarize(reportsDir);
  console.log(code === 0 ? '\nlighthouse: every page within budget' : '\nlighthouse: over budget or failed (see above)');
  return code;
}

try {
  process.exit(await main());
} catch (err) {
  console.error(`lighthouse: ${(err as Error).message}`);
  process.exit(2);
}
