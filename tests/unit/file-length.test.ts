// The lint check that no code file outside tests and migrations is over 400 lines
// (tools/file-length.ts): what counts as code, how lines are counted, and that the exception list
// can only shrink.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countLines, isJudged, judgeFiles, MAX_FILE_LINES } from '../../tools/file-length/scan.ts';

describe('file length check', () => {
  assert.equal(MAX_FILE_LINES, 400);

  it('judges code everywhere but tests and migrations, and never prose or data', () => {
    for (const f of [
      'web/src/lib/content/api.ts',
      'web/src/routes/(app)/studio/+page.svelte',
      'local/bootstrap.mjs',
      'web/src/app.css',
      '.github/workflows/ci.yml',
      'supabase/seed.sql',
    ]) {
      assert.equal(isJudged(f), true, f);
    }
    for (const f of [
      'tests/e2e/web-studio.test.ts',
      'supabase/migrations/20261206001310_restore_content_only.sql',
      'README.md',
      'package-lock.json',
      'bench/results/scaling.json',
    ]) {
      assert.equal(isJudged(f), false, f);
    }
  });

  it('counts lines as an editor numbers them', () => {
    assert.equal(countLines(''), 0);
    assert.equal(countLines('a'), 1);
    assert.equal(countLines('a\n'), 1);
    assert.equal(countLines('a\nb'), 2);
    assert.equal(countLines('a\n\n'), 2);
  });

  it(`fails a file of ${MAX_FILE_LINES + 1} lines and passes one of ${MAX_FILE_LINES}`, () => {
    const file = (lines: number) => countLines('x\n'.repeat(lines));
    const none = new Map<string, string>();
    assert.deepEqual(judgeFiles([{ file: 'web/src/lib/a.ts', lines: file(MAX_FILE_LINES) }], none), { over: [], stale: [] });
    assert.deepEqual(judgeFiles([{ file: 'web/src/lib/a.ts', lines: file(MAX_FILE_LINES + 1) }], none), {
      over: [{ file: 'web/src/lib/a.ts', lines: MAX_FILE_LINES + 1 }],
      stale: [],
    });
    assert.deepEqual(judgeFiles([{ file: 'tests/unit/a.test.ts', lines: 5000 }], none), { over: [], stale: [] });
  });

  it('excuses only the listed exceptions, and reports an exception that matches no long file', () => {
    const files = [
      { file: 'supabase/functions/_shared/database.types.ts', lines: 929 },
      { file: 'local/short.ts', lines: 10 },
    ];
    const known = new Map([['supabase/functions/_shared/database.types.ts', 'generated']]);
    assert.deepEqual(judgeFiles(files, known), { over: [], stale: [] });
    assert.deepEqual(judgeFiles(files, new Map([['local/short.ts', 'was long once']])), {
      over: [{ file: 'supabase/functions/_shared/database.types.ts', lines: 929 }],
      stale: ['local/short.ts'],
    });
  });
});
