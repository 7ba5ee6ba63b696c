// The direct database surface walk (db-surface/walk.ts), runnable by either test runner: `deno
// test` runs it directly; Node's `node --import tsx --test` (which cannot load the functions'
// Deno modules the walk judges by) runs it in the project's Deno and passes on its verdict.
// Needs SUPABASE_DB_URL: a stack's database (tests/run.ts provides it).
//   deno test --allow-all --frozen --config supabase/functions/deno.json tests/adversarial/db-surface.test.ts
if (typeof Deno !== 'undefined') {
  await import('./db-surface/walk.ts');
} else {
  const { test } = await import('node:test');
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { DENO_ENV, denoBin } = await import('../../local/deno.ts');
  const { ROOT } = await import('../../local/profile.ts');
  test('direct database surface: members cannot do what the API refuses (in Deno)', () => {
    const r = spawnSync(
      denoBin(),
      ['test', '--allow-all', '--no-prompt', '--frozen', '--config', 'supabase/functions/deno.json', fileURLToPath(import.meta.url)],
      { cwd: ROOT, env: { ...process.env, ...DENO_ENV, NO_COLOR: '1' }, encoding: 'utf8', timeout: 600_000 },
    );
    if (r.status !== 0) throw new Error(`deno test failed (exit ${r.status}):\n${r.stdout.slice(-20_000)}\n${r.stderr.slice(-5_000)}`);
  });
}
