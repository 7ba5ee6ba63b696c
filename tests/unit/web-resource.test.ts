// The web app's resource helper (web/src/lib/resource.svelte.ts), compiled by Svelte as the app
// is: loading → ready | error, quiet reloads, dropped answers of overtaken reads, actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../web/src/lib/api-error.ts';
import { importSvelteModule } from './helpers/svelte-module.ts';

// The module's shape as used here (its own types need Svelte's rune declarations, which only the
// web app's type check has).
interface ResourceShape<T> {
  status: 'loading' | 'ready' | 'error';
  value: T;
  error: ApiError | null;
  readonly loading: boolean;
  readonly ready: boolean;
  load(fetch: () => Promise<T>, options?: { quiet?: boolean }): Promise<boolean>;
  set(value: T): void;
  reset(): void;
}
interface ActionShape<Label extends string> {
  busy: Label | null;
  error: ApiError | null;
  readonly pending: boolean;
  run(work: () => Promise<unknown>, label?: Label, onError?: (error: ApiError) => ApiError | null): Promise<boolean>;
  clear(): void;
}

const { Resource, Action } = await importSvelteModule<{
  Resource: new <T>(initial: T) => ResourceShape<T>;
  Action: new <Label extends string = string>() => ActionShape<Label>;
}>('src/lib/resource.svelte.ts');

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('a resource starts loading with its initial value, then holds the answer', async () => {
  const r = new Resource<string[]>([]);
  assert.equal(r.status, 'loading');
  assert.deepEqual(r.value, []);
  const d = deferred<string[]>();
  const done = r.load(() => d.promise);
  assert.equal(r.loading, true);
  d.resolve(['a']);
  assert.equal(await done, true);
  assert.equal(r.status, 'ready');
  assert.equal(r.ready, true);
  assert.deepEqual(r.value, ['a']);
  assert.equal(r.error, null);
});

test('a failed read keeps the last value, reports an ApiError, and the next success clears it', async () => {
  const r = new Resource<number>(0);
  await r.load(async () => 1);
  await r.load(async () => {
    throw Object.assign(new Error('Slow down'), { status: 429, code: 'rate_limited' });
  });
  assert.equal(r.status, 'error');
  assert.equal(r.value, 1);
  assert.ok(r.error instanceof ApiError);
  assert.equal(r.error?.code, 'rate_limited');
  assert.equal(r.error?.status, 429);
  await r.load(async () => 2);
  assert.equal(r.status, 'ready');
  assert.equal(r.error, null);
  assert.equal(r.value, 2);
});

test('a quiet reload keeps showing the value instead of loading', async () => {
  const r = new Resource<number>(0);
  await r.load(async () => 1);
  const d = deferred<number>();
  const done = r.load(() => d.promise, { quiet: true });
  assert.equal(r.status, 'ready');
  assert.equal(r.value, 1);
  d.resolve(2);
  await done;
  assert.equal(r.value, 2);
});

test('the answer of a read that a newer read overtook is dropped, success or failure', async () => {
  const r = new Resource<string>('');
  const slow = deferred<string>();
  const fast = deferred<string>();
  const first = r.load(() => slow.promise);
  const second = r.load(() => fast.promise);
  fast.resolve('new workspace');
  assert.equal(await second, true);
  slow.resolve('old workspace');
  assert.equal(await first, false);
  assert.equal(r.value, 'new workspace');

  const failing = deferred<string>();
  const third = r.load(() => failing.promise);
  await r.load(async () => 'newest');
  failing.reject(new Error('late failure'));
  assert.equal(await third, false);
  assert.equal(r.status, 'ready');
  assert.equal(r.error, null);
});

test('reset goes back to the initial value and drops the read under way', async () => {
  const r = new Resource<string[]>([]);
  await r.load(async () => ['a']);
  const d = deferred<string[]>();
  const pending = r.load(() => d.promise, { quiet: true });
  r.reset();
  assert.equal(r.status, 'loading');
  assert.deepEqual(r.value, []);
  d.resolve(['stale']);
  assert.equal(await pending, false);
  assert.deepEqual(r.value, []);
  r.set(['saved']);
  assert.deepEqual(r.value, ['saved']);
});

test('an action is busy with its label while it runs and keeps its error until the next attempt', async () => {
  const a = new Action<'save' | 'delete'>();
  assert.equal(a.pending, false);
  const d = deferred<void>();
  const run = a.run(() => d.promise, 'save');
  assert.equal(a.busy, 'save');
  assert.equal(a.pending, true);
  d.reject(new ApiError({ status: 409, code: 'version_conflict', message: 'Changed meanwhile' }));
  assert.equal(await run, false);
  assert.equal(a.busy, null);
  assert.equal(a.error?.code, 'version_conflict');

  const retry = deferred<void>();
  const again = a.run(() => retry.promise, 'delete');
  assert.equal(a.error, null, 'a new attempt clears the previous error');
  retry.resolve();
  assert.equal(await again, true);
  assert.equal(a.error, null);
  assert.equal(a.pending, false);
});

test('an action turns any thrown value into an ApiError, which onError may adjust or drop', async () => {
  const a = new Action();
  assert.equal(await a.run(async () => Promise.reject('plain text')), false);
  assert.ok(a.error instanceof ApiError);
  assert.equal(a.error?.message, 'plain text');
  assert.equal(a.error?.code, 'unexpected_error');

  const seen: string[] = [];
  await a.run(
    async () => Promise.reject(new ApiError({ status: 429, code: 'rate_limited', message: 'Wait' })),
    'run',
    (e) => {
      seen.push(e.code);
      return null;
    },
  );
  assert.deepEqual(seen, ['rate_limited']);
  assert.equal(a.error, null);
  a.error = new ApiError({ status: 500, code: 'x', message: 'y' });
  a.clear();
  assert.equal(a.error, null);
});
