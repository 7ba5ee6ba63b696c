// A claimed row's lease, kept alive while this worker still works on it. Leases are short (40 s by
// default) so that a step the runtime ends (546 after 2 s of CPU, 256 MB, a deploy) frees its row
// within one lease and the upload resumes at the next wake-up, instead of after a lease sized
// for the longest possible step. A live step renews every quarter of the lease, however long a
// chunk or a backoff takes. A renewal that fails (the database unreachable) is only logged: after
// one lease another worker may take the row, and this one stops at its next write ('lease_lost').
import { logEvent } from '../_shared/youtube/log.ts';
import * as store from './store.ts';

type Renew = (id: string, workerId: string, leaseSeconds: number) => Promise<store.StepOutcome>;

export interface LeaseKeeper {
  /** Stops renewing; resolves once a renewal in flight has ended. */
  stop(): Promise<void>;
}

export function keepLease(id: string, workerId: string, leaseSeconds: number, renew: Renew = store.renewLease): LeaseKeeper {
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    inFlight = renew(id, workerId, leaseSeconds).then(
      (outcome) => {
        // The next write of the step learns the same and stops it; nothing more to renew.
        if (outcome !== 'ok') clearInterval(timer);
      },
      (err) => logEvent('warn', 'upload_lease_not_renewed', { schedule_id: id, message: err instanceof Error ? err.message : String(err) }),
    );
  }, Math.max(250, (leaseSeconds * 1000) / 4));
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
