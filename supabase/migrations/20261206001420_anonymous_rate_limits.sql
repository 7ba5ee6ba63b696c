-- Per-client limits for calls without a verified token.
--
-- Users are limited per account (ops.rate_limits); anonymous callers of the public routes
-- (health, youtube-oauth/callback, revid-webhook) were not limited at all, and one client sent
-- ~1,500 calls a second. They are now counted per client address and minute, with the same
-- one-statement upsert as the user counter (_shared/anonymous-limit.ts), and refused with 429
-- past MAX_ANONYMOUS_REQUESTS_PER_MINUTE. The address is the one the platform's gateway appends
-- to X-Forwarded-For, never one the caller wrote. An IPv6 client is counted per /64, the block
-- one subscriber usually gets, so that cycling through its own addresses gains nothing.
create unlogged table ops.anonymous_rate_limits (
  client cidr not null,
  window_start timestamptz not null,
  count integer not null,
  primary key (client, window_start)
);
create index anonymous_rate_limits_window_start_idx on ops.anonymous_rate_limits (window_start);
revoke all on ops.anonymous_rate_limits from public, anon, authenticated;

-- The every-minute clean-up also drops closed anonymous windows (the original, plus that).
create or replace function ops.cleanup_short_lived() returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  windows bigint;
  anonymous_windows bigint;
  entries bigint;
begin
  delete from ops.rate_limits where window_start < date_trunc('minute', now()) - interval '1 minute';
  get diagnostics windows = row_count;
  delete from ops.anonymous_rate_limits where window_start < date_trunc('minute', now()) - interval '1 minute';
  get diagnostics anonymous_windows = row_count;
  delete from ops.response_cache where expires_at < now();
  get diagnostics entries = row_count;
  return jsonb_build_object('rate_limit_windows', windows, 'anonymous_rate_limit_windows', anonymous_windows,
    'cache_entries', entries);
end
$$;

