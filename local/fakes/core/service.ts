// What a fake service contributes to the server: the path prefixes it owns (with the error shape
// faults on them should use), its routes, its control routes, and a way to forget all state.
import type { ErrorStyle } from './error-shapes.ts';
import type { Router } from './router.ts';

export interface Mount {
  prefix: string; // e.g. "/youtube"; owns the prefix itself and everything below it
  style: ErrorStyle;
  label: string; // shown in "no such route" messages
}

export interface FakeService {
  name: string;
  mounts: Mount[];
  /** Registers the service routes (full paths, prefix included). */
  register(router: Router): void;
  /** Registers routes under `/_control/<name>/...`. */
  registerControl?(router: Router): void;
  /** Forgets every request-made change (tokens, counters, created data). */
  reset(): void;
  /** Stops background work (timers) when the server closes. */
  close?(): void;
}

export function mountFor(mounts: Mount[], path: string): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    if ((path === m.prefix || path.startsWith(m.prefix + '/')) && (!best || m.prefix.length > best.prefix.length)) best = m;
  }
  return best;
}
