// The quota hook of the YouTube client: before every call, the call's units (from
// private.youtube_api_costs) are spent for the current Pacific-time day in
// public.youtube_quota_usage. When the project's daily budget or the workspace's share of it
// (before the borrow hour) would be passed, nothing is spent, the call is not made, and
// QuotaExhaustedError says why and when trying again makes sense.
import { type QuotaHook } from './api-caller.ts';
import { QuotaExhaustedError } from './errors.ts';
import { asService } from '../../platform/db.ts';

export interface QuotaTally {
  units: number;
  calls: number;
}

interface Reservation {
  allowed: boolean;
  units: number;
  used_today: number;
  daily_budget: number;
  resets_at: Date;
  reason: 'budget' | 'share' | null;
  retry_at: Date | null;
  share_units: number;
  workspace_used: number;
}

export function reserveQuota(workspaceId: string, channelId: string | null, tally?: QuotaTally): QuotaHook {
  return async (endpoint: string) => {
    const [r] = await asService(
      (tx) => tx<Reservation[]>`select * from private.reserve_youtube_quota(${workspaceId}, ${channelId}, ${endpoint}, 1)`,
    );
    if (!r.allowed) {
      throw new QuotaExhaustedError(endpoint, r.reason === 'share' ? 'share' : 'budget', {
        resetsAt: r.resets_at,
        retryAt: r.retry_at ?? r.resets_at,
        usedToday: r.used_today,
        dailyBudget: r.daily_budget,
        units: r.units,
        shareUnits: r.share_units,
        workspaceUsed: r.workspace_used,
      });
    }
    if (tally) {
      tally.units += r.units;
      tally.calls += 1;
    }
  };
}
