// The insights a prompt was built from, kept for a minute per caller, workspace and channel in
// this function instance. Computing them is the slowest step of a generation before Gemini
// (public.workspace_insights: ~4-6 ms for a 120-video channel with 90 days of metrics), they
// change only when a sync runs, and users generate several things in a row (titles, then a
// description, then tags). Keyed by the caller, so a document is only ever reused for the user
// whose row level security produced it; the caller's role is still checked on every request.
// A request with `Cache-Control: no-cache` recomputes them.
import type { Insights } from '../_shared/domain/insights-document.ts';

export const INSIGHTS_TTL_MS = 60_000;
const MAX_ENTRIES = 500;

const entries = new Map<string, { expires: number; insights: Insights }>();

export function insightsKey(userId: string, workspaceId: string, channelId: string | null): string {
  return `${userId}|${workspaceId}|${channelId ?? '*'}`;
}

export function cachedInsights(key: string, now = Date.now()): Insights | undefined {
  const hit = entries.get(key);
  if (!hit) return undefined;
  if (hit.expires <= now) {
    entries.delete(key);
    return undefined;
  }
  return hit.insights;
}

export function rememberInsights(key: string, insights: Insights, now = Date.now()): void {
  entries.delete(key);
  entries.set(key, { expires: now + INSIGHTS_TTL_MS, insights });
  // Maps iterate in insertion order: the first keys are the oldest.
  for (const k of entries.keys()) {
    if (entries.size <= MAX_ENTRIES) break;
    entries.delete(k);
  }
}

/** True when the caller asked for fresh insights. */
export function bypassesCache(req: Request): boolean {
  return /\bno-(cache|store)\b/i.test(req.headers.get('cache-control') ?? '');
}
