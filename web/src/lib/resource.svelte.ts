// The two shapes of asynchronous state the pages show, written once:
//   - Resource: something read from the API (loading → ready | error), kept on screen while it is
//     read again quietly (polling, after a change), its last error shown with a retry;
//   - Action: something the user does (save, delete, publish), pending while it runs, its error
//     shown until the next attempt.
// Every failure becomes an ApiError (message, code, request id), whatever threw it.
import { toApiError, type ApiError } from './api-error.ts';

export type ResourceStatus = 'loading' | 'ready' | 'error';

export interface LoadOptions {
  /** Keep showing the current value while reading (polling, a refresh after a change). */
  quiet?: boolean;
}

export class Resource<T> {
  status = $state<ResourceStatus>('loading');
  value: T = $state() as T;
  error = $state<ApiError | null>(null);

  readonly #initial: T;
  // Each read takes a number; an answer to a read that a newer one overtook (another workspace,
  // another range) is dropped, so a slow old answer never replaces the current one.
  #generation = 0;

  constructor(initial: T) {
    this.#initial = initial;
    this.value = initial;
  }

  get loading(): boolean {
    return this.status === 'loading';
  }

  get ready(): boolean {
    return this.status === 'ready';
  }

  /**
   * Reads the value with `fetch`. Resolves true when this read's answer (or error) was applied,
   * false when a newer read or a reset overtook it.
   */
  async load(fetch: () => Promise<T>, options: LoadOptions = {}): Promise<boolean> {
    const mine = ++this.#generation;
    if (!options.quiet) this.status = 'loading';
    try {
      const value = await fetch();
      if (mine !== this.#generation) return false;
      this.value = value;
      this.error = null;
      this.status = 'ready';
    } catch (err) {
      if (mine !== this.#generation) return false;
      this.error = toApiError(err);
      this.status = 'error';
    }
    return true;
  }

  /** Replaces the value after a change made here (the answer of a save), without a read. */
  set(value: T): void {
    this.value = value;
  }

  /** Back to the initial value, loading; a read still under way is dropped when it answers. */
  reset(): void {
    this.#generation++;
    this.value = this.#initial;
    this.error = null;
    this.status = 'loading';
  }
}

export class Action<Label extends string = string> {
  /** The label of the run under way (for "Saving…" on the right button), null when idle. */
  busy = $state<Label | null>(null);
  error = $state<ApiError | null>(null);

  get pending(): boolean {
    return this.busy !== null;
  }

  /**
   * Runs `work`, clearing the previous error first. Resolves true when it succeeded, false when it
   * threw (the error is then in `error`; `onError` may adjust it, or return null to show none).
   */
  async run(work: () => Promise<unknown>, label = 'run' as Label, onError?: (error: ApiError) => ApiError | null): Promise<boolean> {
    this.busy = label;
    this.error = null;
    try {
      await work();
      return true;
    } catch (err) {
      const error = toApiError(err);
      this.error = onError ? onError(error) : error;
      return false;
    } finally {
      this.busy = null;
    }
  }

  clear(): void {
    this.error = null;
  }
}
