// The formatter check and the migration linter of the lint suite, each shown to fail on a planted
// sample and to pass on the fixed one (tools/format.ts, tools/sql-lint.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { FORMAT_SCOPE, runPrettier } from '../../tools/format.ts';
import { LINTED_AFTER, lintNewMigrations, newMigrations } from '../../tools/sql-lint.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function withDir<T>(parent: string, fn: (dir: string) => T): T {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'lint-tools-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FORMATTED_TS = 'export const greeting = (name: string) => `hello ${name}`;\n';
const FORMATTED_SVELTE = `<script lang="ts">
  let { name }: { name: string } = $props();
</script>

<p class="greeting">Hello {name}</p>

<style>
  .greeting {
    margin: 0;
  }
</style>
`;

test('the format check passes formatted TypeScript and Svelte in the web app and names each file that is not', () => {
  assert.ok(FORMAT_SCOPE.includes('web'));
  // Inside web/ so that the repository's config (with the Svelte plugin) applies, as to the app.
  withDir(resolve(ROOT, 'web'), (dir) => {
    const ts = join(dir, 'greeting.ts');
    const svelte = join(dir, 'Greeting.svelte');
    writeFileSync(ts, FORMATTED_TS);
    writeFileSync(svelte, FORMATTED_SVELTE);
    const paths = [relative(ROOT, ts), relative(ROOT, svelte)];
    const clean = runPrettier(paths, { check: true });
    assert.equal(clean.code, 0, clean.output);

    writeFileSync(ts, 'export const greeting = (name: string) => "hello " + name\n');
    writeFileSync(svelte, FORMATTED_SVELTE.replace('<p class="greeting">', '<p   class="greeting" >').replace('margin: 0;', 'margin:0'));
    const dirty = runPrettier(paths, { check: true });
    assert.equal(dirty.code, 1);
    assert.match(dirty.output, /greeting\.ts/);
    assert.match(dirty.output, /Greeting\.svelte/);

    assert.equal(runPrettier(paths, { check: false }).code, 0);
    const fixed = runPrettier(paths, { check: true });
    assert.equal(fixed.code, 0, fixed.output);
  });
});

test('only migrations after the last committed one are linted', () => {
  withDir(tmpdir(), (dir) => {
    for (const name of [
      '20261126000100_initial.sql',
      `${LINTED_AFTER}_last_committed.sql`,
      '20991231000000_next.sql',
      'README.md',
      '2099_bad_name.sql',
    ]) {
      writeFileSync(join(dir, name), 'select 1;\n');
    }
    assert.deepEqual(newMigrations(dir), ['20991231000000_next.sql']);
  });
});

test('the migration linter fails a new migration that would lock a live table, or does not parse, and passes the safe version', () => {
  withDir(tmpdir(), (cwd) => {
    const dir = join(cwd, 'migrations');
    mkdirSync(dir);
    // A committed migration is never linted, whatever it holds.
    writeFileSync(join(dir, '20261126000100_old.sql'), 'alter table public.t add constraint t_positive check (n > 0);\n');
    const run = () => lintNewMigrations({ cwd, dir: 'migrations' });
    assert.equal(run().code, 0);
    assert.deepEqual(run().files, []);

    const next = join(dir, '20991231000000_next.sql');
    writeFileSync(next, 'alter table public.t add constraint t_positive check (n > 0);\n');
    const locking = run();
    assert.equal(locking.code, 1);
    assert.match(locking.output, /20991231000000_next\.sql.*constraint-missing-not-valid/);

    // Validating in the same transaction would block reads as long: that belongs in a later migration.
    writeFileSync(next, 'alter table public.t add constraint t_positive check (n > 0) not valid;\n');
    const safe = run();
    assert.equal(safe.code, 0, safe.output);

    writeFileSync(next, 'create tabel public.u (id uuid primary key);\n');
    const broken = run();
    assert.equal(broken.code, 1);
    assert.match(broken.output, /20991231000000_next\.sql/);
  });
});
