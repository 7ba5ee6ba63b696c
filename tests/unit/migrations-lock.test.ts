// Committed migrations stay as they ran (tools/migrations-lock.ts): an edit, a removal or an
// unlisted file is found; listing new files never rewrites a listed hash; the repository matches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkLock, extendLock, hashMigrations, LOCK_FILE, MIGRATIONS_DIR, readLock } from '../../tools/migrations-lock.ts';

const ROOT = resolve(import.meta.dirname, '../..');

test('an edited, a removed and an unlisted migration are each found; listing adds only the new one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-lock-'));
  try {
    writeFileSync(join(dir, '20260101000100_a.sql'), 'create table a (id int);\n');
    writeFileSync(join(dir, '20260101000200_b.sql'), 'create table b (id int);\n');
    writeFileSync(join(dir, 'README.md'), 'not a migration');
    const lock = hashMigrations(dir);
    assert.deepEqual(Object.keys(lock), ['20260101000100_a.sql', '20260101000200_b.sql']);
    assert.deepEqual(checkLock(hashMigrations(dir), lock), { changed: [], missing: [], unlisted: [] });

    writeFileSync(join(dir, '20260101000100_a.sql'), 'create table a (id bigint);\n');
    unlinkSync(join(dir, '20260101000200_b.sql'));
    writeFileSync(join(dir, '20260101000300_c.sql'), 'create table c (id int);\n');
    const now = hashMigrations(dir);
    assert.deepEqual(checkLock(now, lock), {
      changed: ['20260101000100_a.sql'],
      missing: ['20260101000200_b.sql'],
      unlisted: ['20260101000300_c.sql'],
    });
    const extended = extendLock(now, lock);
    assert.equal(extended['20260101000100_a.sql'], lock['20260101000100_a.sql'], 'a listed hash is never rewritten');
    assert.equal(extended['20260101000300_c.sql'], now['20260101000300_c.sql']);
    assert.deepEqual(checkLock(now, extended).changed, ['20260101000100_a.sql']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every migration of the repository is listed in supabase/migrations.lock.json with its hash', () => {
  const problems = checkLock(hashMigrations(resolve(ROOT, MIGRATIONS_DIR)), readLock(resolve(ROOT, LOCK_FILE)));
  assert.deepEqual(problems, { changed: [], missing: [], unlisted: [] });
});
