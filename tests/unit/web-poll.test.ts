import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPoller } from '../../web/src/lib/poll.ts';

// A manual clock: timers fire only when the test says so.
function fakeTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  return {
    setTimer: (fn: () => void, ms: number) => {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimer: (id: unknown) => void pending.delete(id as number),
    /** Fires every pending timer once (what one interval does). */
    fire() {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, t] of due) t.fn();
    },
    get count() {
      return pending.size;
    },
    get intervals() {
      return [...pending.values()].map((t) => t.ms);
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

test('polls at the interval until the check says stop', async () => {
  const timers = fakeTimers();
  const answers = [true, true, false];
  let checks = 0;
  const poller = createPoller({ intervalMs: 2000, check: async () => answers[checks++] ?? false, ...timers });
  poller.start();
  assert.deepEqual(timers.intervals, [2000], 'first check after one interval');
  assert.equal(checks, 0);
  for (let i = 0; i < 3; i++) {
    timers.fire();
    await settle();
  }
  assert.equal(checks, 3);
  assert.equal(poller.running, false);
  assert.equal(timers.count, 0, 'nothing scheduled after stop');
});

test('never overlaps checks; a slow check delays the next one', async () => {
  const timers = fakeTimers();
  let release: (() => void) | null = null;
  let checks = 0;
  const poller = createPoller({
    intervalMs: 1000,
    check: () => {
      checks++;
      return new Promise<boolean>((r) => (release = () => r(true)));
    },
    ...timers,
  });
  poller.now();
  poller.now();
  await settle();
  assert.equal(checks, 1, 'a second "now" while one runs does not start another');
  assert.equal(timers.count, 0, 'the next one waits for the answer');
  release!();
  await settle();
  assert.equal(timers.count, 1);
  poller.stop();
  assert.equal(timers.count, 0);
});

test('a failing check is reported and polling goes on; stop ends it', async () => {
  const timers = fakeTimers();
  const errors: unknown[] = [];
  const poller = createPoller({
    intervalMs: 500,
    check: async () => {
      throw new Error('network');
    },
    onError: (e) => errors.push(e),
    ...timers,
  });
  poller.start();
  poller.start();
  assert.equal(timers.count, 1, 'start twice schedules once');
  timers.fire();
  await settle();
  assert.equal(errors.length, 1);
  assert.equal(poller.running, true);
  assert.equal(timers.count, 1);
  poller.stop();
  timers.fire();
  await settle();
  assert.equal(errors.length, 1);
});
