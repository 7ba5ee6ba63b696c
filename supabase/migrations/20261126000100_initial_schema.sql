-- Tenancy: workspaces, members with roles, invitations, profiles, and the row level security that
-- keeps every workspace's data to its own members.
--
-- Access model (enforced here, in the database, so it holds for edge functions and for direct
-- supabase-js / PostgREST calls alike):
--   viewer  reads the workspace and its data;
--   editor  also writes content (content tables of later migrations: see the template at the end
--           of the RLS section);
--   owner   also renames and deletes the workspace, manages members, invitations and channels.
--   The last owner of a workspace can neither leave nor be demoted (trigger, holds for every
--   role including service_role); deleting the workspace itself still removes everyone.
--   Platform admins (auth.jwt() -> app_metadata ->> role = 'admin') get nothing extra here.
--
-- Conventions every later migration follows:
--   * every table in `public` has RLS enabled, policies `to authenticated` only, and is tied to a
--     workspace through a NOT NULL `workspace_id` (or to a user through a NOT NULL reference to
--     auth.users); tests/db/10-tenancy-matrix.test.sql discovers the tables and fails otherwise;
--   * policies call the security-definer helpers below and write `(select auth.uid())`, so
--     Postgres evaluates the caller once per statement, not once per row;
--   * every column through which a policy finds a tenant's rows (workspace_id, user ids) leads an
--     index (the matrix test checks it); filters such as `not personal` only narrow those rows;
--   * grants are explicit: Supabase's default privileges grant everything in `public` to anon,
--     authenticated and service_role, so each table revokes that and grants back what it needs;
--   * functions get EXECUTE for PUBLIC by default in every schema (a per-schema default cannot
--     take that away), so every function revokes it explicitly.
--
-- RLS is enabled but not forced: the tables' owner (postgres) bypasses RLS anyway (superuser
-- locally, BYPASSRLS on hosted Supabase), and the security-definer helpers run as that owner.

-- Section: schemas

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

-- Section: types

-- Declared from least to most powerful so that `role >= 'editor'` reads as "at least editor".
create type public.workspace_role as enum ('viewer', 'editor', 'owner');

-- Section: tables

create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(btrim(name)) between 1 and 100),
  slug text unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 64),
  personal boolean not null default false,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index workspaces_created_by_idx on public.workspaces (created_by);

create table public.workspace_members (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.workspace_role not null default 'viewer',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
-- The membership helpers look up (user_id, workspace_id) and read role: an index-only scan.
create index workspace_members_user_id_idx on public.workspace_members (user_id, workspace_id) include (role);

create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- Stored lower-cased (trigger below) so comparisons with the invitee's address ignore case.
  email text not null check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+$' and char_length(email) <= 320),
  role public.workspace_role not null default 'viewer',
  -- sha256 hex of the single-use token; the token itself is only ever in the invitee's link.
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  invited_by uuid references auth.users (id) on delete set null default auth.uid(),
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  check (expires_at > created_at),
  check ((accepted_at is null) = (accepted_by is null))
);
create index invitations_workspace_id_idx on public.invitations (workspace_id);
create index invitations_invited_by_idx on public.invitations (invited_by);
create index invitations_accepted_by_idx on public.invitations (accepted_by);

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text not null check (char_length(btrim(display_name)) between 1 and 100),
  avatar_url text check (avatar_url ~ '^https://' and char_length(avatar_url) <= 2048),
  locale text not null default 'en' check (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  -- Validated against pg_timezone_names by a trigger (a CHECK cannot query a catalog view).
  timezone text not null default 'UTC',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Section: functions (triggers; in `private`, so no API role can call them directly)

create function private.touch_updated_at() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create function private.normalize_invitation_email() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.email := lower(btrim(new.email));
  return new;
end
$$;

-- pg_timezone_names reads the whole zone database (~50 ms), so the default and unchanged values
-- skip it; sign-up stays fast.
create function private.validate_profile_timezone() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.timezone = 'UTC' or (tg_op = 'UPDATE' and new.timezone = old.timezone) then
    return new;
  end if;
  if not exists (select 1 from pg_catalog.pg_timezone_names where name = new.timezone) then
    raise exception 'unknown time zone "%"', new.timezone
      using errcode = '22023', hint = 'use an IANA name such as Europe/Berlin';
  end if;
  return new;
end
$$;

-- Sign-up: every new auth user gets a profile and a personal workspace they own.
create function private.handle_new_user() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  chosen_name text := left(coalesce(
    nullif(btrim(new.raw_user_meta_data ->> 'display_name'), ''),
    nullif(btrim(new.raw_user_meta_data ->> 'full_name'), ''),
    nullif(btrim(new.raw_user_meta_data ->> 'name'), ''),
    nullif(split_part(new.email, '@', 1), ''),
    'New user'), 100);
  personal_id uuid;
begin
  insert into public.profiles (id, display_name) values (new.id, chosen_name);
  insert into public.workspaces (name, personal, created_by)
    values (left(chosen_name || '''s workspace', 100), true, new.id)
    returning id into personal_id;
  insert into public.workspace_members (workspace_id, user_id, role)
    values (personal_id, new.id, 'owner');
  return new;
end
$$;

-- Deleting an auth user removes the workspaces nobody else belongs to (their personal one,
-- usually). A workspace they share and are the last owner of stops the delete (last-owner rule):
-- ownership must be transferred or the workspace deleted first, so nobody else's data vanishes
-- as a side effect.
create function private.handle_deleted_user() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  delete from public.workspaces w
  where w.id in (select m.workspace_id from public.workspace_members m where m.user_id = old.id)
    and not exists (
      select 1 from public.workspace_members other
      where other.workspace_id = w.id and other.user_id <> old.id);
  return old;
end
$$;

-- The last owner can neither leave nor be demoted, whoever asks (service_role included):
-- SQLSTATE CEW01 (the function layer answers 409). The
-- workspace row is locked so that two owners demoting each other concurrently cannot both pass;
-- when the workspace itself is being deleted its row is already gone and the cascade proceeds.
create function private.keep_last_owner() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if old.role <> 'owner' then
    return coalesce(new, old);
  end if;
  if tg_op = 'UPDATE' and new.role = 'owner' and new.workspace_id = old.workspace_id then
    return new;
  end if;
  perform 1 from public.workspaces w where w.id = old.workspace_id for no key update;
  if not found then
    return coalesce(new, old);
  end if;
  if not exists (
    select 1 from public.workspace_members m
    where m.workspace_id = old.workspace_id and m.role = 'owner' and m.user_id <> old.user_id
  ) then
    raise exception 'the last owner of a workspace cannot leave or be demoted'
      using errcode = 'CEW01',
        hint = 'make another member owner first, or delete the workspace';
  end if;
  return coalesce(new, old);
end
$$;

-- Section: functions (membership helpers used by policies and by the function layer)

-- Both helpers are plpgsql, not SQL: a security-definer SQL function is never inlined, and its
-- query is planned again on every call, while plpgsql keeps the plan for the connection. Every
-- RLS-filtered statement calls them, and with functions on a pool of long-lived connections this
-- took the members' list query from about 4,300 to 7,100 transactions/s (pgbench, this machine).

-- True when the caller is a member of the workspace with at least min_role.
create function public.has_role_on_workspace(
  workspace_id uuid, min_role public.workspace_role default 'viewer'
) returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return exists (
    select 1 from public.workspace_members m
    where m.workspace_id = has_role_on_workspace.workspace_id
      and m.user_id = (select auth.uid())
      and m.role >= coalesce(has_role_on_workspace.min_role, 'viewer')
  );
end
$$;

-- The workspaces where the caller has at least min_role; policies use it as
-- `workspace_id = any (array(select public.workspaces_of_current_user()))`, which the planner
-- evaluates once and answers from the workspace_id index.
create function public.workspaces_of_current_user(
  min_role public.workspace_role default 'viewer'
) returns setof uuid
language plpgsql stable security definer set search_path = '' as $$
begin
  return query
    select m.workspace_id from public.workspace_members m
    where m.user_id = (select auth.uid())
      and m.role >= coalesce(workspaces_of_current_user.min_role, 'viewer');
end
$$;

-- Platform admin: app_metadata can only be written with the service role. Admins read `ops`
-- through admin functions; this flag grants nothing in tenant tables.
create function public.is_platform_admin() returns boolean
language sql stable set search_path = '' as $$
  select coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role' = 'admin', false)
$$;

-- Creating a workspace goes through this function rather than a direct insert: the workspace
-- and its first owner appear together, and `workspaces` needs no insert policy at all.
-- Errors: 28000 not authenticated.
create function public.create_workspace(name text, slug text default null)
returns public.workspaces
language plpgsql volatile security definer set search_path = '' as $$
declare
  caller uuid := (select auth.uid());
  created public.workspaces;
begin
  if caller is null then
    raise exception 'not authenticated' using errcode = '28000';
  end if;
  insert into public.workspaces (name, slug, personal, created_by)
    values (btrim(create_workspace.name), create_workspace.slug, false, caller)
    returning * into created;
  insert into public.workspace_members (workspace_id, user_id, role)
    values (created.id, caller, 'owner');
  return created;
end
$$;

-- Accepts an invitation as the signed-in user whose email it was sent to. Checks run in this
-- order, each with its own SQLSTATE so the function layer can map them to HTTP statuses:
--   28000  not authenticated                       -> 401
--   CEI01  invitation not found (unknown token)    -> 404
--   CEI05  invitation is for another email         -> 403
--   CEI04  invitation was revoked                  -> 410
--   CEI03  invitation was already accepted         -> 409
--   CEI02  invitation has expired                  -> 410
-- The email is checked before the invitation's state so that only its addressee learns it.
-- A member who accepts keeps the higher of their current and the invited role.
create function public.accept_invitation(token text)
returns table (workspace_id uuid, role public.workspace_role)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  caller uuid := (select auth.uid());
  caller_email text;
  inv public.invitations;
begin
  if caller is null then
    raise exception 'not authenticated' using errcode = '28000';
  end if;

  select * into inv from public.invitations i
  where i.token_hash = encode(pg_catalog.sha256(convert_to(coalesce(accept_invitation.token, ''), 'UTF8')), 'hex')
  for update;
  if not found then
    raise exception 'invitation not found' using errcode = 'CEI01';
  end if;

  select lower(u.email) into caller_email from auth.users u where u.id = caller;
  if caller_email is distinct from inv.email then
    raise exception 'this invitation was sent to another email address' using errcode = 'CEI05';
  end if;
  if inv.revoked_at is not null then
    raise exception 'invitation has been revoked' using errcode = 'CEI04';
  end if;
  if inv.accepted_at is not null then
    raise exception 'invitation has already been used' using errcode = 'CEI03';
  end if;
  if inv.expires_at <= now() then
    raise exception 'invitation has expired' using errcode = 'CEI02';
  end if;

  insert into public.workspace_members as m (workspace_id, user_id, role)
    values (inv.workspace_id, caller, inv.role)
    on conflict on constraint workspace_members_pkey do update set role = greatest(m.role, excluded.role);
  update public.invitations set accepted_at = now(), accepted_by = caller where id = inv.id;

  return query
    select m.workspace_id, m.role from public.workspace_members m
    where m.workspace_id = inv.workspace_id and m.user_id = caller;
end
$$;

-- Section: triggers

create trigger workspaces_touch_updated_at before update on public.workspaces
  for each row execute function private.touch_updated_at();
create trigger workspace_members_touch_updated_at before update on public.workspace_members
  for each row execute function private.touch_updated_at();
create trigger profiles_touch_updated_at before update on public.profiles
  for each row execute function private.touch_updated_at();

create trigger workspace_members_keep_last_owner before update of role, workspace_id or delete
  on public.workspace_members
  for each row execute function private.keep_last_owner();

create trigger invitations_normalize_email before insert or update of email on public.invitations
  for each row execute function private.normalize_invitation_email();

create trigger profiles_validate_timezone before insert or update of timezone on public.profiles
  for each row execute function private.validate_profile_timezone();

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();
create trigger on_auth_user_deleted before delete on auth.users
  for each row execute function private.handle_deleted_user();

-- Section: RLS policies

alter table public.workspaces enable row level security;
alter table public.workspace_members enable row level security;
alter table public.invitations enable row level security;
alter table public.profiles enable row level security;

-- workspaces: members read; owners rename (column grants limit updates to name and slug) and
-- delete, except their personal workspace, which lives as long as the account.
-- No insert policy: public.create_workspace() creates workspaces.
create policy "members read their workspaces" on public.workspaces
  for select to authenticated
  using (id = any (array(select public.workspaces_of_current_user())));
create policy "owners rename workspaces" on public.workspaces
  for update to authenticated
  using (id = any (array(select public.workspaces_of_current_user('owner'))))
  with check (public.has_role_on_workspace(id, 'owner'));
create policy "owners delete team workspaces" on public.workspaces
  for delete to authenticated
  using (not personal and id = any (array(select public.workspaces_of_current_user('owner'))));

-- workspace_members: members see each other; owners change roles and remove members; anyone
-- may leave. Members arrive only through create_workspace() and accept_invitation(), so there is
-- no insert policy. Only owners can update, and an owner has no higher role to take, so nobody
-- can raise their own role; the last-owner trigger covers demotion and leaving.
create policy "members see co-members" on public.workspace_members
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));
create policy "owners change member roles" on public.workspace_members
  for update to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user('owner'))))
  with check (public.has_role_on_workspace(workspace_id, 'owner'));
create policy "owners remove members, members leave" on public.workspace_members
  for delete to authenticated
  using (user_id = (select auth.uid()) or workspace_id = any (array(select public.workspaces_of_current_user('owner'))));

-- invitations: owners create, list and revoke (column grants limit updates to revoked_at);
-- accepting goes through public.accept_invitation().
create policy "owners list invitations" on public.invitations
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user('owner'))));
create policy "owners invite" on public.invitations
  for insert to authenticated
  with check (
    public.has_role_on_workspace(workspace_id, 'owner')
    and invited_by = (select auth.uid())
  );
create policy "owners revoke pending invitations" on public.invitations
  for update to authenticated
  using (accepted_at is null and workspace_id = any (array(select public.workspaces_of_current_user('owner'))))
  with check (public.has_role_on_workspace(workspace_id, 'owner'));

-- profiles: a user reads their own profile and those of people who share a workspace with
-- them, and updates only their own. Rows come from the sign-up trigger and leave with the user.
create policy "users read own and co-members' profiles" on public.profiles
  for select to authenticated
  using (
    id = (select auth.uid())
    or id in (
      select m.user_id from public.workspace_members m
      where m.workspace_id = any (array(select public.workspaces_of_current_user()))
    )
  );
create policy "users update own profile" on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

-- Template for a content table of a later migration (editors write, viewers read):
--   create policy "members read" on public.<t> for select to authenticated
--     using (workspace_id = any (array(select public.workspaces_of_current_user())));
--   create policy "editors write" on public.<t> for insert to authenticated
--     with check (public.has_role_on_workspace(workspace_id, 'editor'));
--   (same for update and delete with `using (workspace_id = any (array(select
--   public.workspaces_of_current_user('editor'))))`), plus an index on workspace_id.
--   Filter rows (USING) with `workspace_id = any (array(select public.workspaces_of_current_user()))`:
--   the array is computed once (an InitPlan) and the comparison uses the workspace_id index.
--   Measured on a member's read of 1,000 of 100,000 invitations (bench/rls-select.bench.ts):
--   a per-row has_role_on_workspace() call was 270x slower than the same read without RLS, and
--   `workspace_id in (select ...)` 5x (a hashed subplan filters a sequential scan).
--   has_role_on_workspace() is for WITH CHECK on single rows and for function code.

-- Section: grants

revoke all on public.workspaces, public.workspace_members, public.invitations, public.profiles
  from anon, authenticated;
grant all on public.workspaces, public.workspace_members, public.invitations, public.profiles
  to service_role;

grant select, delete on public.workspaces to authenticated;
grant update (name, slug) on public.workspaces to authenticated;

grant select, delete on public.workspace_members to authenticated;
grant update (role) on public.workspace_members to authenticated;

grant select on public.invitations to authenticated;
grant insert (workspace_id, email, role, token_hash, invited_by, expires_at) on public.invitations to authenticated;
grant update (revoked_at) on public.invitations to authenticated;

grant select on public.profiles to authenticated;
grant update (display_name, avatar_url, locale, timezone) on public.profiles to authenticated;

revoke all on function
  private.touch_updated_at(), private.normalize_invitation_email(),
  private.validate_profile_timezone(), private.handle_new_user(), private.handle_deleted_user(),
  private.keep_last_owner()
  from public, anon, authenticated, service_role;

revoke all on function
  public.has_role_on_workspace(uuid, public.workspace_role),
  public.workspaces_of_current_user(public.workspace_role),
  public.is_platform_admin(),
  public.create_workspace(text, text),
  public.accept_invitation(text)
  from public, anon;
grant execute on function
  public.has_role_on_workspace(uuid, public.workspace_role),
  public.workspaces_of_current_user(public.workspace_role),
  public.is_platform_admin(),
  public.create_workspace(text, text),
  public.accept_invitation(text)
  to authenticated, service_role;
