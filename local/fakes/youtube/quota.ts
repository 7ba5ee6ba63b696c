// YouTube Data API quota: units per Google Cloud project per Pacific-time day.
import { pacificDayKey } from './time.ts';

// Costs per method, from Google's quota calculator. Any call costs at least 1 unit, even an
// invalid one. videos.insert is listed at 1,600 units on the calculator page we know; the
// newer quota page describes separate upload buckets: revisit with uploads.
export const QUOTA_COSTS: Record<string, number> = {
  'channels.list': 1,
  'playlistItems.list': 1,
  'playlists.list': 1,
  'videos.list': 1,
  'search.list': 100,
  'videos.insert': 1600,
  'videos.update': 50,
  'videos.delete': 50,
  'thumbnails.set': 50,
  'playlistItems.insert': 50,
};

// Google's default project budget; a test stack whose suites share one quota day may start the
// fakes with a larger one (FAKE_YOUTUBE_DAILY_QUOTA), which `/_control/reset` then keeps.
export const DEFAULT_DAILY_LIMIT = dailyLimitFromEnv(process.env.FAKE_YOUTUBE_DAILY_QUOTA);

function dailyLimitFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 10_000;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`FAKE_YOUTUBE_DAILY_QUOTA must be a whole number of units, not "${value}"`);
  return n;
}

export class QuotaLedger {
  dailyLimit = DEFAULT_DAILY_LIMIT;
  private used = new Map<string, number>(); // `${day}|${project}` → units

  constructor(private readonly now: () => number) {}

  /** Charges the call; false (and no charge) when it would go over the project's daily limit. */
  charge(project: string, method: string): boolean {
    const cost = QUOTA_COSTS[method] ?? 1;
    const key = `${pacificDayKey(this.now())}|${project}`;
    const used = this.used.get(key) ?? 0;
    if (used + cost > this.dailyLimit) return false;
    this.used.set(key, used + cost);
    return true;
  }

  status() {
    const day = pacificDayKey(this.now());
    const usage: Record<string, number> = {};
    for (const [key, units] of this.used) {
      const [d, project] = key.split('|', 2) as [string, string];
      if (d === day) usage[project] = units;
    }
    return { day, dailyLimit: this.dailyLimit, usage };
  }

  resetUsage() {
    this.used.clear();
  }

  clear() {
    this.used.clear();
    this.dailyLimit = DEFAULT_DAILY_LIMIT;
  }
}
