// Helpers of the quota-share tests: the share settings changed for one test and restored after
// (the suites share one quota day and one settings row), and a workspace's share spent directly
// in the ledger, as if it had uploaded all morning.
import { withDb } from './users.ts';

export interface ShareSettings {
  workspace_share_percent: number;
  borrow_from_hour: number;
}

export async function withShareSettings<T>(settings: Partial<ShareSettings>, fn: () => Promise<T>): Promise<T> {
  const [saved] = await withDb(
    (sql) => sql<ShareSettings[]>`
    select workspace_share_percent::float8 as workspace_share_percent, borrow_from_hour from private.youtube_daily_budget`,
  );
  try {
    await setShareSettings(settings);
    return await fn();
  } finally {
    await setShareSettings(saved);
  }
}

export async function setShareSettings(settings: Partial<ShareSettings>): Promise<void> {
  const s = { ...settings };
  await withDb(
    (sql) => sql`
    update private.youtube_daily_budget set
      workspace_share_percent = coalesce(${s.workspace_share_percent ?? null}::numeric, workspace_share_percent),
      borrow_from_hour = coalesce(${s.borrow_from_hour ?? null}::smallint, borrow_from_hour)`,
  );
}

/** The next whole hour in Pacific time (24 = the reset): a borrow hour that is still to come. */
export async function nextPacificHour(): Promise<number> {
  const [{ hour }] = await withDb(
    (sql) => sql<{ hour: number }[]>`
    select extract(hour from now() at time zone 'America/Los_Angeles')::int + 1 as hour`,
  );
  return hour;
}

export interface QuotaPosition {
  share_units: number;
  workspace_used: number;
  borrow_from: Date;
  resets_at: Date;
}

export async function quotaPosition(workspaceId: string): Promise<QuotaPosition> {
  const [p] = await withDb(
    (sql) => sql<QuotaPosition[]>`
    select share_units, workspace_used, least(borrow_from, resets_at) as borrow_from, resets_at
    from private.youtube_quota_position(${workspaceId}, now())`,
  );
  return p;
}

/** Spends what is left of the workspace's share today (units booked to videos.insert). */
export async function spendShare(workspaceId: string): Promise<void> {
  const p = await quotaPosition(workspaceId);
  const left = p.share_units - p.workspace_used;
  if (left <= 0) return;
  await withDb(
    (sql) => sql`
    insert into public.youtube_quota_usage as q (workspace_id, day, endpoint, units, calls)
    values (${workspaceId}, (now() at time zone 'America/Los_Angeles')::date, 'videos.insert', ${left}, 1)
    on conflict (workspace_id, day, endpoint) do update set units = q.units + excluded.units, calls = q.calls + 1`,
  );
}
