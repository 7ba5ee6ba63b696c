// WriteBatch: rows queued within the wait go out in one write; a full batch goes at once; a
// failed write is reported once for its batch and never rejects the callers' promises.
import { assertEquals, assertOk } from './assert.ts';
import { WriteBatch } from '../../supabase/functions/_shared/platform/observability/write-batch.ts';

function recorder(fail = false) {
  const writes: number[][] = [];
  const failures: { rows: number[]; err: unknown }[] = [];
  const batch = new WriteBatch<number>({
    maxRows: 3,
    maxWaitMs: 15,
    write: async (rows) => {
      writes.push(rows);
      if (fail) throw new Error('database unavailable');
    },
    onFailure: (rows, err) => failures.push({ rows, err }),
  });
  return { batch, writes, failures };
}

Deno.test('rows added within the wait are written together, once', async () => {
  const { batch, writes } = recorder();
  await Promise.all([batch.add(1), batch.add(2)]);
  assertEquals(writes, [[1, 2]]);
});

Deno.test('a full batch is written at once, without waiting for the timer', async () => {
  const { batch, writes } = recorder();
  const started = performance.now();
  await Promise.all([batch.add(1), batch.add(2), batch.add(3)]);
  assertOk(performance.now() - started < 15, 'written before the wait ran out');
  assertEquals(writes, [[1, 2, 3]]);
  await batch.add(4);
  assertEquals(writes, [[1, 2, 3], [4]], 'the next row starts a new batch');
});

Deno.test('a failed write is reported once for its rows and the callers still resolve', async () => {
  const { batch, failures } = recorder(true);
  await Promise.all([batch.add(1), batch.add(2)]);
  assertEquals(failures.length, 1);
  assertEquals(failures[0].rows, [1, 2]);
  assertEquals((failures[0].err as Error).message, 'database unavailable');
});
