// Every function fits what hosted Supabase deploys and runs: its bundle (measured from the module
// graph, an upper bound) is at most 20 MB, and it uses neither node:vm, node:worker_threads nor
// Web Workers. Each function's figure is printed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BUNDLE_LIMIT_BYTES, functionNames, measureEntry, measureFunction, megabytes } from '../../tools/deploy/function-bundle.ts';

describe('function bundles', () => {
  const names = functionNames();

  it('finds every function folder with an index.ts', () => {
    assert.ok(names.includes('health') && names.includes('schedules'), names.join(', '));
  });

  for (const name of names) {
    it(`${name}: at most 20 MB, no node:vm, node:worker_threads or Worker`, (t) => {
      const b = measureFunction(name);
      const packages = b.npmPackages.map((p) => `${p.id} ${megabytes(p.bytes)}`).join(', ');
      t.diagnostic(
        `${name}: ${megabytes(b.totalBytes)} MB = ${b.localModules} local modules ${megabytes(b.localBytes)} MB + npm ${megabytes(b.npmBytes)} MB (${packages})`,
      );
      assert.ok(b.totalBytes <= BUNDLE_LIMIT_BYTES, `${name} bundles up to ${megabytes(b.totalBytes)} MB, over the 20 MB hosted accepts`);
      assert.deepEqual(b.forbidden, [], `${name} uses what hosted does not have`);
    });
  }
});

describe('the bundle measurement', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cce-bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counts local modules and npm packages, and names node:vm, node:worker_threads and Worker', () => {
    writeFileSync(join(dir, 'dep.ts'), `export const filler = '${'x'.repeat(50_000)}';\n`);
    writeFileSync(
      join(dir, 'entry.ts'),
      [
        "import vm from 'node:vm';",
        "import { Worker as NodeWorker } from 'node:worker_threads';",
        "import { z } from 'zod';",
        "import { filler } from './dep.ts';",
        "export const all = [vm, NodeWorker, z, filler, () => new Worker('./w.js')];",
      ].join('\n'),
    );
    const b = measureEntry(join(dir, 'entry.ts'));
    assert.equal(b.localModules, 2);
    assert.ok(b.localBytes > 50_000, String(b.localBytes));
    assert.deepEqual(
      b.npmPackages.map((p) => p.id.split('@')[0]),
      ['zod'],
    );
    assert.ok(b.npmBytes > 100_000, `zod measured ${b.npmBytes} bytes`);
    assert.equal(b.totalBytes, b.localBytes + b.npmBytes);
    assert.deepEqual(b.forbidden, [`Worker (${join(dir, 'entry.ts')})`, 'node:vm', 'node:worker_threads']);
  });
});
