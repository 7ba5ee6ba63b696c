-- What the Supabase Postgres image creates before any migration runs: the API roles, the
-- `extensions` and `auth` schemas, and the default privileges that make RLS the only guard in
-- `public`. Applied by local/db-setup.ts before migrations; idempotent so every start can re-run it.

-- Section: roles
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    -- Local-only password, as in `supabase start`.
    create role authenticator login noinherit password 'postgres';
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin login superuser createdb createrole replication bypassrls;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;

-- Section: schemas
create schema if not exists extensions;
grant usage on schema extensions to public;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pg_stat_statements with schema extensions;

-- Supabase's database-level search_path: "$user", public, extensions.
alter database postgres set search_path = "$user", public, extensions;
alter role authenticator set search_path = "$user", public, extensions;
alter role postgres set search_path = "$user", public, extensions;
set search_path = "$user", public, extensions;

-- Same statement timeouts Supabase sets on the API roles.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- Section: default privileges in public (RLS is the only guard)
-- Only default privileges, never `grant ... on all tables`: this file runs again on every start,
-- after the migrations, and must not undo the grants a migration revoked.
grant usage on schema public to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on routines to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to anon, authenticated, service_role;

-- pg_cron lives in its own schema and is for postgres only, as on hosted Supabase.
create extension if not exists pg_cron;
