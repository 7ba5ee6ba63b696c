-- Schemas `private` and `ops` with their grants and default privileges, pg_cron and pg_net.

-- Secrets (OAuth tokens, signing keys): reachable only by postgres and security-definer code.
create schema if not exists private;

revoke all on schema private from public, anon, authenticated, service_role;

-- System tables (logs, api calls, alerts, backups, rate limits): service_role only; admins read
-- them through functions. Default privileges make tables added later by postgres service_role's
-- without further grants, and give anon/authenticated nothing (functions still need their
-- PUBLIC execute revoked, see above; tests/db/14-private-ops-grants.test.sql checks both schemas).
create schema if not exists ops;

revoke all on schema ops from public, anon, authenticated;

grant usage on schema ops to service_role;

alter default privileges for role postgres in schema ops
  grant select, insert, update, delete on tables to service_role;

alter default privileges for role postgres in schema ops
  grant usage, select, update on sequences to service_role;

alter default privileges for role postgres in schema ops
  grant execute on functions to service_role;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    create extension pg_cron with schema pg_catalog;
  end if;
  if to_regnamespace('net') is null then
    create extension if not exists pg_net with schema extensions;
  end if;
end
$$;

-- The worker calls the private functions below as service_role (the functions' connection role
-- for trusted work); usage of the schema grants nothing else: every table in it keeps its own grants.
grant usage on schema private to service_role;

comment on schema private is
  'Secrets and everything only the service role calls (workers, webhooks, OAuth). Not exposed by PostgREST; '
  'service_role has USAGE and executes only the functions granted to it, and reads no table here directly.';
