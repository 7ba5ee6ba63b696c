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
--
-- What the tenancy edge functions (workspaces, members, account) need beyond the tables:
-- the caller's workspaces with their role; two security-definer readers of data that RLS
-- rightly hides from the `authenticated` role as a whole (auth.users; invitations a non-owner
-- accepted), each answering only about the caller; and a fix that lets users who accepted an
-- invitation be deleted at all.

-- Section: my workspaces
--
-- Every rule the API enforces on a write now holds in the database too. Hosted PostgREST serves
-- each table and function granted to `authenticated` to any signed-in member (supabase-js `from`
-- and `rpc`), so a rule that only the edge functions' zod schemas check can be skipped by
-- calling the database directly. Found that way: content with unbounded or malformed output
-- (one malformed row made render-video answer 500, three 20 MB outputs made a viewer's content
-- list 60 MB), schedules with a category, tags or dates the API refuses, removing a connected
-- channel with pending uploads, invitations that never expire (or revoked ones revived), and
-- members reading secret hashes (invitation tokens, render webhook secrets).
--
-- How each rule is held, for every writer:
--   * a CHECK constraint where the rule is about the row alone;
--   * a trigger where the rule needs other rows or the previous value (channel removal,
--     revocation), raising a SQLSTATE of its own that the function layer maps;
--   * no grant where the API's value is the only legitimate one (an invitation's expiry) or where
--     members must not read a column at all (hashes of secrets).
-- tests/db/70-database-surface.test.sql shows each rule as `authenticated`;
-- tests/adversarial/db-surface.test.ts walks every public table and function from the catalogue.
--
-- Rules on strings copy the API's meaning of "trimmed": zod trims with JavaScript's
-- String.prototype.trim, whose whitespace set is spelled out below (Postgres' [[:space:]] depends
-- on the locale and differs from it).

-- Section: helpers (pure). A CHECK runs its functions with the privileges of whoever writes the
-- row, and `private` stays closed to API roles (tests/db/14), so the rules that need these run in
-- security-definer triggers; the CHECKs use built-in functions only.
--
-- user_metadata has no size limit in Supabase Auth: whatever a user sends at sign-up or with
-- updateUser is stored, copied into every access token they get (so into the Authorization header
-- of each request, where proxies refuse headers over 8-16 KB) and into every daily snapshot. This
-- guard bounds what is stored. Auth answers a refused write as a database error; the local auth
-- emulator checks the same bound first and answers 400, and clients never send more than a few
-- hundred bytes, so only a hand-made request reaches the guard.
--
-- One role check for every mutation: private.require_workspace_role.
--
-- Until now the database checked a member's role three ways: private.require_schedule_role
-- (schedules and workspace settings), the membership and role check inside
-- private.lock_schedule_for_change, and private.content_for_change / create_generated_content
-- with public.has_role_on_workspace, each with its own message. One function now answers
-- "may the caller do this here", so a change to the rule (a new role, a suspended member) is made
-- once. What callers see:
--   * not signed in                 -> 28000 (401), as before;
--   * not a member of the workspace -> CEX01 "workspace not found" (404 not_found), so ids of
--     other tenants never leak. Row lookups keep their own not-found first (CES01 for a
--     schedule, CEC01 for content), so those answers are unchanged;
--   * a role below min_role         -> 42501 (403 forbidden) "only editors and owners can <action>;
--     your role here is viewer", the same sentence the functions' requireRole writes, with both
--     roles as JSON in DETAIL: the functions' SQLSTATE registry (_shared/pg-errors.ts) tells this
--     42501 from Postgres' own (a grant, a policy) by it and answers with the sentence and roles.

-- Declared from least to most powerful so that `role >= 'editor'` reads as "at least editor".
create type public.workspace_role as enum ('viewer', 'editor', 'owner');

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
  -- accepted_by is `on delete set null` and an accepted invitation may outlive its accepter, so
  -- only "accepted_by implies accepted_at" holds.
  constraint invitations_accepted_by_needs_accepted_at check (accepted_by is null or accepted_at is not null)
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

alter table public.workspaces enable row level security;

alter table public.workspace_members enable row level security;

alter table public.invitations enable row level security;

alter table public.profiles enable row level security;

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
revoke all on public.workspaces from anon, authenticated;

revoke all on public.workspace_members from anon, authenticated;

revoke all on public.invitations from anon, authenticated;

revoke all on public.profiles from anon, authenticated;

grant all on public.workspaces to service_role;

grant all on public.workspace_members to service_role;

grant all on public.invitations to service_role;

grant all on public.profiles to service_role;

grant select, delete on public.workspaces to authenticated;

grant update (name, slug) on public.workspaces to authenticated;

grant select, delete on public.workspace_members to authenticated;

grant update (role) on public.workspace_members to authenticated;

grant select on public.invitations to authenticated;

grant insert (workspace_id, email, role, token_hash, invited_by, expires_at) on public.invitations to authenticated;

grant update (revoked_at) on public.invitations to authenticated;

grant select on public.profiles to authenticated;

grant update (display_name, avatar_url, locale, timezone) on public.profiles to authenticated;

alter table public.workspaces add constraint workspaces_name_length
  check (char_length(name) between 1 and 100);

alter table public.profiles add constraint profiles_display_name_length
  check (char_length(display_name) between 1 and 100);

-- The API accepts only a parseable https URL: a host, no whitespace or control characters in it.
alter table public.profiles add constraint profiles_avatar_url_has_host
  check (avatar_url ~ '^https://[^\s/?#]+([/?#][^\u0001-\u001f\u007f]*)?$');

-- An invitation expires seven days after it was made, as the API makes them: members may no
-- longer choose expires_at (the column default applies), so none can be made that never expires.
-- Who invited is still theirs to name (the policy requires it to be themselves).
revoke insert on public.invitations from authenticated;

grant insert (workspace_id, email, role, token_hash, invited_by) on public.invitations to authenticated;

alter table public.invitations add constraint invitations_expire_within_a_week
  check (expires_at <= created_at + interval '7 days');

-- The address the API accepts (zod's email pattern, after lower-casing; the trigger on
-- invitations lower-cases and trims direct writes the same way).
alter table public.invitations add constraint invitations_email_format
  check (email ~ '^(?!\.)(?!.*\.\.)[a-z0-9_''+.-]*[a-z0-9_+-]@([a-z0-9][a-z0-9-]*\.)+[a-z]{2,}$');

-- The API never returns token_hash or webhook_secret_hash; with a table-wide SELECT grant any
-- member (owners for invitations, viewers for render jobs) could read them directly and test
-- guessed or leaked tokens offline. Members keep every other column; the functions that need a
-- hash read it as its owner (accept_invitation, video_job_webhook_secret_hash).
revoke select on public.invitations from authenticated;

grant select (id, workspace_id, email, role, invited_by, expires_at, accepted_at, accepted_by, revoked_at, created_at)
  on public.invitations to authenticated;

create function private.touch_updated_at() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_at := now();
  return new;
end
$$;

revoke all on function private.touch_updated_at() from public, anon, authenticated, service_role;

create function private.normalize_invitation_email() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.email := lower(btrim(new.email));
  return new;
end
$$;

revoke all on function private.normalize_invitation_email() from public, anon, authenticated, service_role;

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

revoke all on function private.validate_profile_timezone() from public, anon, authenticated, service_role;

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

revoke all on function private.handle_new_user() from public, anon, authenticated, service_role;

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

revoke all on function private.keep_last_owner() from public, anon, authenticated, service_role;

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

revoke all on function public.has_role_on_workspace(uuid, public.workspace_role) from public, anon;

grant execute on function public.has_role_on_workspace(uuid, public.workspace_role) to authenticated, service_role;

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

revoke all on function public.workspaces_of_current_user(public.workspace_role) from public, anon;

grant execute on function public.workspaces_of_current_user(public.workspace_role) to authenticated, service_role;

-- Platform admin: app_metadata can only be written with the service role. Admins read `ops`
-- through admin functions; this flag grants nothing in tenant tables.
create function public.is_platform_admin() returns boolean
language sql stable set search_path = '' as $$
  select coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role' = 'admin', false)
$$;

revoke all on function public.is_platform_admin() from public, anon;

grant execute on function public.is_platform_admin() to authenticated, service_role;

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

revoke all on function public.create_workspace(text, text) from public, anon;

grant execute on function public.create_workspace(text, text) to authenticated, service_role;

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

revoke all on function public.accept_invitation(text) from public, anon;

grant execute on function public.accept_invitation(text) to authenticated, service_role;

-- The caller's workspaces (or the one named) with the caller's role in each. Security invoker,
-- so RLS alone decides what is visible; it is a plpgsql function only so that its plan is kept
-- per connection: functions send statements unprepared (Supavisor's transaction mode), and
-- planning this RLS-filtered join took longer than running it. Every page of the web app asks.
create function public.my_workspaces(only_workspace uuid default null)
returns table (
  id uuid,
  name text,
  slug text,
  personal boolean,
  role public.workspace_role,
  created_at timestamptz,
  updated_at timestamptz
)
language plpgsql stable security invoker set search_path = '' as $$
begin
  return query
    select w.id, w.name, w.slug, w.personal, m.role, w.created_at, w.updated_at
    from public.workspaces w
    join public.workspace_members m on m.workspace_id = w.id and m.user_id = (select auth.uid())
    where my_workspaces.only_workspace is null or w.id = my_workspaces.only_workspace
    order by w.personal desc, w.created_at, w.id;
end
$$;

revoke all on function public.my_workspaces(uuid) from public, anon;

grant execute on function public.my_workspaces(uuid) to authenticated;

-- Co-members may see each other's email addresses (to recognise whom they work with), but
-- auth.users is not readable by `authenticated`. This answers for one workspace, and only when
-- the caller is a member of it; otherwise it returns no rows, exactly like an RLS-hidden table.
create function public.workspace_member_directory(workspace_id uuid)
returns table (
  user_id uuid,
  email text,
  display_name text,
  avatar_url text,
  role public.workspace_role,
  joined_at timestamptz
)
language sql stable security definer set search_path = '' as $$
  select m.user_id, u.email::text, p.display_name, p.avatar_url, m.role, m.created_at
  from public.workspace_members m
  join auth.users u on u.id = m.user_id
  left join public.profiles p on p.id = m.user_id
  where m.workspace_id = workspace_member_directory.workspace_id
    and public.has_role_on_workspace(workspace_member_directory.workspace_id, 'viewer')
  order by m.created_at, m.user_id
$$;

revoke all on function public.workspace_member_directory(uuid) from public, anon;

grant execute on function public.workspace_member_directory(uuid) to authenticated;

-- Deleting an auth user (account erasure, or an admin in the dashboard): as for any user,
-- the workspaces nobody else belongs to go with them (a shared workspace whose last owner they
-- are stops the delete: last-owner rule). In addition the invitations they accepted go, because
-- those rows hold their email address and would otherwise stay in the team's invitation list.
create function private.handle_deleted_user() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  delete from public.workspaces w
  where w.id in (select m.workspace_id from public.workspace_members m where m.user_id = old.id)
    and not exists (
      select 1 from public.workspace_members other
      where other.workspace_id = w.id and other.user_id <> old.id);
  delete from public.invitations i where i.accepted_by = old.id;
  return old;
end
$$;

revoke all on function private.handle_deleted_user() from public, anon, authenticated, service_role;

revoke all on function private.handle_deleted_user() from public, anon, authenticated, service_role;

-- JavaScript's String.prototype.trim: WhiteSpace and LineTerminator code points at either end.
create function private.js_trim(value text) returns text
language sql immutable strict parallel safe set search_path = '' as $$
  select regexp_replace(value,
    '^[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$',
    '', 'g')
$$;

revoke all on function private.js_trim(text) from public, anon, authenticated, service_role;

-- What zod's z.string().trim().min(1).max(max) lets through and stores: not empty, already
-- trimmed, at most max characters.
create function private.is_trimmed_text(value text, max integer) returns boolean
language sql immutable parallel safe set search_path = '' as $$
  select value is not null and value <> '' and value = private.js_trim(value) and char_length(value) <= max
$$;

revoke all on function private.is_trimmed_text(text, integer) from public, anon, authenticated, service_role;

-- Why one field value of a content item does not fit its spec, or null.
create function private.content_field_problem(name text, spec jsonb, value jsonb) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  n integer;
begin
  if value is null then
    return format('%s is missing', name);
  end if;
  case spec ->> 'type'
    when 'text' then
      if jsonb_typeof(value) <> 'string' or not private.is_trimmed_text(value #>> '{}', (spec ->> 'max')::integer) then
        return format('%s must be a trimmed, non-empty string of at most %s characters', name, spec ->> 'max');
      end if;
      if name = 'title' and (value #>> '{}') ~ '[<>]' then
        return format('%s must not contain < or >', name);
      end if;
    when 'seconds' then
      if jsonb_typeof(value) <> 'number' or (value::text)::numeric <> trunc((value::text)::numeric)
         or (value::text)::numeric not between (spec ->> 'min')::numeric and (spec ->> 'max')::numeric then
        return format('%s must be a whole number from %s to %s', name, spec ->> 'min', spec ->> 'max');
      end if;
    when 'list' then
      if jsonb_typeof(value) <> 'array' then
        return format('%s must be an array of strings', name);
      end if;
      n := jsonb_array_length(value);
      if n not between (spec ->> 'min')::integer and (spec ->> 'max')::integer then
        return format('%s must hold %s to %s entries', name, spec ->> 'min', spec ->> 'max');
      end if;
      if exists (select 1 from jsonb_array_elements(value) e
                 where jsonb_typeof(e) <> 'string' or not private.is_trimmed_text(e #>> '{}', (spec ->> 'item_max')::integer)) then
        return format('%s: each entry must be a trimmed, non-empty string of at most %s characters', name, spec ->> 'item_max');
      end if;
      if spec ? 'total_max' and (select char_length(string_agg(e, ',')) from jsonb_array_elements_text(value) e)
                                > (spec ->> 'total_max')::integer then
        return format('%s must be at most %s characters in total', name, spec ->> 'total_max');
      end if;
  end case;
  return null;
end
$$;

revoke all on function private.content_field_problem(text, jsonb, jsonb) from public, anon, authenticated, service_role;

-- The API trims names before storing them; a direct write is stored the same way, so a name can
-- no longer be padded with whitespace past its 100 characters (the old CHECK measured the
-- trimmed value only).
create function private.trim_workspace_name() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.name := private.js_trim(new.name);
  return new;
end
$$;

revoke all on function private.trim_workspace_name() from public, anon, authenticated, service_role;

create function private.trim_profile_display_name() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.display_name := private.js_trim(new.display_name);
  return new;
end
$$;

revoke all on function private.trim_profile_display_name() from public, anon, authenticated, service_role;

-- Revoking is the one change members make (DELETE /invitations/:id sets revoked_at = now()): a
-- revocation is stamped now and stays; it can be neither back-dated, post-dated nor undone. Only
-- API roles are held to it (the service role restores and repairs rows); the trigger runs with the
-- caller's rights so that current_user is the role of the request.
create function private.guard_invitation_revocation() returns trigger
language plpgsql set search_path = '' as $$
begin
  if current_user::text not in ('authenticated', 'anon') or new.revoked_at is not distinct from old.revoked_at then
    return new;
  end if;
  if old.revoked_at is not null or new.revoked_at is null then
    raise exception 'a revoked invitation stays revoked' using errcode = 'CEI06';
  end if;
  new.revoked_at := now();
  return new;
end
$$;

revoke all on function private.guard_invitation_revocation() from public, anon, authenticated, service_role;

-- Every table in `public` and `private` that belongs to a workspace, with its scope and depth in
-- the foreign-key graph (the discovery ops.backup_tables did before; its body unchanged).
create function ops.tenant_tables()
returns table (tbl regclass, scope text, key_column name, parent regclass, parent_key name, depth integer)
language sql stable security definer set search_path = '' as $$
  with recursive candidates as (
    select c.oid from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'private') and c.relkind in ('r', 'p') and not c.relispartition
  ),
  direct as (
    select c.oid, case when c.oid = 'public.workspaces'::regclass then 'root' else 'workspace' end as scope,
      case when c.oid = 'public.workspaces'::regclass then 'id'::name else 'workspace_id'::name end as key_column
    from candidates c
    where c.oid = 'public.workspaces'::regclass or exists (
      select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attname = 'workspace_id' and not a.attisdropped)
  ),
  child as (
    select distinct on (c.oid) c.oid, 'child'::text as scope, a.attname as key_column,
      con.confrelid as parent, pa.attname as parent_key
    from candidates c
    join pg_catalog.pg_constraint con on con.conrelid = c.oid and con.contype = 'f' and cardinality(con.conkey) = 1
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum = con.conkey[1]
    join pg_catalog.pg_attribute pa on pa.attrelid = con.confrelid and pa.attnum = con.confkey[1]
    where c.oid not in (select oid from direct)
      and con.confrelid in (select oid from direct where scope = 'workspace')
    order by c.oid, a.attnum
  ),
  scoped as (
    select oid, scope, key_column, null::oid as parent, null::name as parent_key from direct
    union all select oid, scope, key_column, parent, parent_key from child
  ),
  edges as (
    select distinct con.conrelid as child, con.confrelid as parent
    from pg_catalog.pg_constraint con
    where con.contype = 'f' and con.conrelid <> con.confrelid
      and con.conrelid in (select oid from scoped) and con.confrelid in (select oid from scoped)
  ),
  depths (oid, depth) as (
    select oid, 0 from scoped
    union all
    select e.child, d.depth + 1 from depths d join edges e on e.parent = d.oid where d.depth < 50
  )
  select s.oid::regclass, s.scope, s.key_column, s.parent::regclass, s.parent_key,
    (select max(d.depth) from depths d where d.oid = s.oid)
  from scoped s
$$;

revoke all on function ops.tenant_tables() from public;

create function private.refuse_oversized_user_metadata() returns trigger
language plpgsql set search_path = '' as $$
declare
  -- Measured as the stored jsonb's text, the same way the auth emulator measures it.
  bytes integer := octet_length(coalesce(new.raw_user_meta_data, '{}'::jsonb)::text);
begin
  if bytes > 4096 then
    raise exception 'user_metadata is too large: % bytes, at most 4096', bytes
      using errcode = '54000', hint = 'keep user_metadata to a few small fields';
  end if;
  return new;
end
$$;

revoke all on function private.refuse_oversized_user_metadata() from public;

create function ops.attributed_workspace(user_id uuid, workspace_id uuid) returns uuid
language sql stable security definer set search_path = '' as $$
  select case
    when attributed_workspace.user_id is null or attributed_workspace.workspace_id is null then attributed_workspace.workspace_id
    when exists (select 1 from public.workspace_members m
                 where m.workspace_id = attributed_workspace.workspace_id and m.user_id = attributed_workspace.user_id)
      then attributed_workspace.workspace_id
  end
$$;

revoke all on function ops.attributed_workspace(uuid, uuid) from public;

-- Who hears about a workspace event: its owners, and the member who started the thing.
create function private.notification_recipients(workspace_id uuid, actor uuid) returns setof uuid
language sql stable security definer set search_path = '' as $$
  select m.user_id from public.workspace_members m
  where m.workspace_id = notification_recipients.workspace_id
    and (m.role = 'owner' or m.user_id = notification_recipients.actor)
  order by m.user_id
$$;

revoke all on function private.notification_recipients(uuid, uuid) from public, anon, authenticated;

create function private.require_workspace_role(workspace_id uuid, min_role public.workspace_role, action text)
returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  caller uuid := (select auth.uid());
  caller_role public.workspace_role;
begin
  if caller is null then
    raise exception 'not authenticated' using errcode = '28000';
  end if;
  -- `role < null` is null, which would let anyone through.
  if min_role is null then
    raise exception 'min_role is required' using errcode = '22023';
  end if;
  select m.role into caller_role from public.workspace_members m
  where m.workspace_id = require_workspace_role.workspace_id and m.user_id = caller;
  if caller_role is null then
    raise exception 'workspace not found' using errcode = 'CEX01';
  end if;
  if caller_role < min_role then
    raise exception 'only % can %; your role here is %',
      case when min_role = 'owner' then 'owners' else min_role || 's and owners' end, action, caller_role
      using errcode = '42501', detail = format('{"required_role": "%s", "your_role": "%s"}', min_role, caller_role);
  end if;
  return caller;
end
$$;

revoke all on function private.require_workspace_role(uuid, public.workspace_role, text) from public, anon, authenticated, service_role;

-- generate-content checks the role before it spends a Gemini call, in the member's own
-- transaction (the same statement computes the insights under row level security), so members
-- reach the one check through this wrapper. It tells a caller only their own role, which they
-- can read in workspace_members anyway.
create function public.require_workspace_role(workspace_id uuid, min_role public.workspace_role, action text)
returns uuid
language sql stable security definer set search_path = '' as $$
  select private.require_workspace_role(require_workspace_role.workspace_id, require_workspace_role.min_role, require_workspace_role.action)
$$;

revoke all on function public.require_workspace_role(uuid, public.workspace_role, text) from public, anon;

grant execute on function public.require_workspace_role(uuid, public.workspace_role, text) to authenticated, service_role;

-- Why an item's title variants or its recorded pick do not fit, or null. Only kinds with a title
-- have them; both fields are optional (content generated before variants has neither). A pick
-- must agree with the title: a position names the variant the title equals, "edited" a title
-- that is none of them.
create function private.title_variants_problem(item jsonb) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  variants jsonb := item -> 'title_variants';
  choice jsonb := item -> 'title_choice';
  n integer;
  pos numeric;
begin
  if variants is null then
    if choice is not null then
      return 'title_choice needs title_variants';
    end if;
    return null;
  end if;
  if jsonb_typeof(variants) <> 'array' then
    return 'title_variants must be an array of strings';
  end if;
  n := jsonb_array_length(variants);
  if n not between 2 and 5 then
    return 'title_variants must hold 2 to 5 entries';
  end if;
  if exists (select 1 from jsonb_array_elements(variants) e
             where jsonb_typeof(e) <> 'string' or not private.is_trimmed_text(e #>> '{}', 100) or (e #>> '{}') ~ '[<>]') then
    return 'title_variants: each entry must be a trimmed, non-empty title of at most 100 characters without < or >';
  end if;
  if choice is null then
    return null;
  end if;
  if jsonb_typeof(choice) = 'number' then
    pos := (choice::text)::numeric;
    if pos <> trunc(pos) or pos < 0 or pos >= n then
      return format('title_choice must be a position from 0 to %s or "edited"', n - 1);
    end if;
    if (variants ->> pos::integer) is distinct from (item ->> 'title') then
      return 'title_choice names a variant the title does not equal';
    end if;
  elsif choice = '"edited"'::jsonb then
    if exists (select 1 from jsonb_array_elements_text(variants) e where e = item ->> 'title') then
      return 'title_choice is "edited" but the title is one of the variants';
    end if;
  else
    return format('title_choice must be a position from 0 to %s or "edited"', n - 1);
  end if;
  return null;
end
$$;

revoke all on function private.title_variants_problem(jsonb) from public, anon, authenticated, service_role;

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

create trigger workspaces_trim_name before insert or update of name on public.workspaces
  for each row execute function private.trim_workspace_name();

create trigger profiles_trim_display_name before insert or update of display_name on public.profiles
  for each row execute function private.trim_profile_display_name();

create trigger invitations_guard_revocation before update of revoked_at on public.invitations
  for each row execute function private.guard_invitation_revocation();

create trigger refuse_oversized_user_metadata
  before insert or update of raw_user_meta_data on auth.users
  for each row execute function private.refuse_oversized_user_metadata();
