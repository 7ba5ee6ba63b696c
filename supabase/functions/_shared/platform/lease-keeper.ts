// A claimed row's lease, kept alive while this invocation still works on it (upload schedules,
// sync runs). Leases are short (40 s) so that a step the runtime ends (546 after 2 s of CPU,
// 256 MB, a deploy) frees its row within one lease and the work resumes at the next wake-up,
// instead of after a lease sized for the longest possible step. A live step renews every quarter
// of the lease, however long a request or a backoff takes. A renewal that fails (the database
// unreachable) is only logged: after one lease another worker may take the row, and this one
// stops at its next write, which finds the lease gone.

/** 'ok' while the row is still ours; anything else ends the renewals. */
export type Renew = () => Promise<string>;

export interface LeaseKeeper {
  /** Stops renewing; resolves once a renewal in flight has ended. */
  stop(): Promise<void>;
}

export function keepLease(leaseSeconds: number, renew: Renew, onError: (err: unknown) => void): LeaseKeeper {
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      inFlight = renew().then((outcome) => {
        // The step's next write learns the same and stops it; nothing more to renew.
        if (outcome !== 'ok') clearInterval(timer);
      }, onError);
    },
    Math.max(250, (leaseSeconds * 1000) / 4),
  );
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
