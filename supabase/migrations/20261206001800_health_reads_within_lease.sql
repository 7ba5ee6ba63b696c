-- Health is polled by monitors, load balancers and pg_cron as often as they like, and every call
-- wrote to the database: claim_health_probes' upsert takes a row lock on each lease row (a write,
-- recorded in the row and the WAL) even when the lease is current and nothing is claimed. Now a
-- call first looks, read-only, whether any lease has run out; only then does it take the upsert
-- path. Within the 30 s lease a health call is one read, whatever the polling rate. Same
-- signature and answers as before.
create or replace function ops.claim_health_probes(services text[], lease interval default interval '30 seconds')
returns table (service text, claimed boolean, status text, response_time_ms integer, error text, checked_at timestamptz)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
begin
  if not exists (
    select 1 from unnest(services) as s(s)
    left join ops.health_probe_leases l on l.service = s.s
    where l.leased_until is null or l.leased_until <= now()
  ) then
    return query
    select s.s, false, p.status, p.response_time_ms, p.error, p.checked_at
    from unnest(services) as s(s)
    left join lateral (
      select hp.status, hp.response_time_ms, hp.error, hp.checked_at from ops.health_probes hp
      where hp.service = s.s order by hp.checked_at desc limit 1
    ) p on true;
    return;
  end if;
  return query
  with claims as (
    insert into ops.health_probe_leases as l (service, leased_until)
    select s, now() + lease from unnest(services) as s
    on conflict (service) do update set leased_until = excluded.leased_until
      where l.leased_until <= now()
    returning l.service
  )
  select s.s, c.service is not null, p.status, p.response_time_ms, p.error, p.checked_at
  from unnest(services) as s(s)
  left join claims c on c.service = s.s
  left join lateral (
    select hp.status, hp.response_time_ms, hp.error, hp.checked_at from ops.health_probes hp
    where hp.service = s.s order by hp.checked_at desc limit 1
  ) p on true;
end
$$;
