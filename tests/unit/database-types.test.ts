// The checked-in row types (supabase/functions/_shared/database.types.ts) are what the generator
// makes from the test database, which has every migration applied: a migration committed without
// `npm run db:types` fails here, with the difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCodegen, TYPES_FILE } from '../../tools/db-types/generate.ts';

const DB_URL = process.env.SUPABASE_DB_URL;
if (!DB_URL) throw new Error('SUPABASE_DB_URL must point at a database with every migration applied');

function verify(file: string): { ok: true } | { ok: false; output: string } {
  try {
    runCodegen(DB_URL!, file, true);
    return { ok: true };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('the checked-in database types are up to date (npm run db:types)', () => {
  const r = verify(TYPES_FILE);
  assert.ok(r.ok, r.ok ? '' : `database.types.ts differs from the schema:\n${r.output.slice(0, 4000)}`);
});

test('the check sees a difference: a copy missing its last table fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-types-'));
  try {
    const copy = join(dir, 'database.types.ts');
    copyFileSync(TYPES_FILE, copy);
    writeFileSync(copy, readFileSync(copy, 'utf8').replace(/\n {2}youtube_quota_usage: YoutubeQuotaUsage;\n/, '\n'));
    const r = verify(copy);
    assert.equal(r.ok, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
