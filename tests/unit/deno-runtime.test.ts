// The project runs its functions on the Deno the hosted edge runtime reports (README, "Deno
// version"): the npm package is pinned to it, the binary started is the native one (a wrapper
// script would not pass signals on), and the lock file is in a format that version reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DENO_ENV, denoBin } from '../../local/deno.ts';
import { ROOT } from '../../local/profile.ts';

const pinned = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
  .devDependencies.deno;

describe('the Deno of the functions', () => {
  it("is pinned to one exact version, the one the README names as the hosted runtime's", () => {
    assert.match(pinned, /^\d+\.\d+\.\d+$/);
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const section = /### Deno version\n([\s\S]*?)\n#/.exec(readme)?.[1] ?? '';
    assert.match(section, new RegExp(`Deno ${pinned.replaceAll('.', '\\.')}\\b`));
  });

  it('is started as the native executable, and reports that version', () => {
    const head = Buffer.alloc(4);
    const fd = openSync(denoBin(), 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    assert.notEqual(head.subarray(0, 2).toString(), '#!', `${denoBin()} is a script`);
    const r = spawnSync(denoBin(), ['--version'], { encoding: 'utf8', env: { ...process.env, ...DENO_ENV } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0].split(' ').slice(0, 2).join(' '), `deno ${pinned}`);
  });

  it('reads the lock file of the functions (format 4 for Deno 2.1)', () => {
    const lock = JSON.parse(readFileSync(resolve(ROOT, 'supabase/functions/deno.lock'), 'utf8')) as { version: string };
    assert.equal(lock.version, '4', 'Deno 2.1 reads lock files up to format 4; later versions write 5 unless told otherwise');
  });
});
