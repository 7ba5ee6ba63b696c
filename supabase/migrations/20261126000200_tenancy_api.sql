-- What the tenancy edge functions (workspaces, members, account) need beyond initial_schema:
-- the caller's workspaces with their role; two security-definer readers of data that RLS
-- rightly hides from the `authenticated` role as a whole (auth.users; invitations a non-owner
-- accepted), each answering only about the caller; and a fix that lets users who accepted an
-- invitation be deleted at all.

-- Section: my workspaces

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

-- Section: member directory

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

-- Section: account export

-- Keeps only the listed keys of a JSON object. Used for auth.* rows so that credentials
-- (password hash, confirmation/recovery tokens, refresh-token keys) never reach an export, and
-- so that the list works on hosted GoTrue's wider tables and on the local emulator's alike.
create function private.only_keys(doc jsonb, keep text[]) returns jsonb
language sql immutable set search_path = '' as $$
  select coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
  from jsonb_each(doc) e
  where e.key = any (keep)
$$;

-- Columns that hold credentials (or hashes of them) are left out of an export wherever a table
-- of a later migration puts them.
create function private.without_credentials(doc jsonb) returns jsonb
language sql immutable set search_path = '' as $$
  select coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb)
  from jsonb_each(doc) e
  where e.key !~* '(token|secret|password|_hash$)'
$$;

-- GDPR access request: every row that is the caller's, as one document.
--   user                 auth.users fields (no password hash or tokens)
--   sessions             the caller's sign-in sessions (auth.sessions, same filtering)
--   profile              public.profiles
--   memberships          the caller's rows of public.workspace_members
--   workspaces           every workspace the caller belongs to, with the caller's role
--   invitations_sent     invitations the caller created (without token_hash)
--   invitations_accepted invitations the caller accepted (without token_hash)
--   other_tables         rows of every other public table that reference the caller through a
--                        foreign key to auth.users, found in the catalog, so tables of later
--                        migrations are exported without touching this function
-- Rows of co-members (their memberships, profiles, emails) are not part of it.
-- Errors: 28000 not authenticated.
create function public.export_my_account()
returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  caller uuid := (select auth.uid());
  doc jsonb;
  other jsonb := '{}'::jsonb;
  t record;
  rows jsonb;
begin
  if caller is null then
    raise exception 'not authenticated' using errcode = '28000';
  end if;

  select jsonb_build_object(
    'exported_at', now(),
    'user', (
      select private.only_keys(to_jsonb(u), array[
        'id', 'aud', 'role', 'email', 'email_confirmed_at', 'phone', 'phone_confirmed_at',
        'confirmed_at', 'invited_at', 'last_sign_in_at', 'raw_app_meta_data', 'raw_user_meta_data',
        'created_at', 'updated_at', 'banned_until', 'deleted_at', 'is_anonymous'])
      from auth.users u where u.id = caller),
    'sessions', (
      select coalesce(jsonb_agg(private.only_keys(to_jsonb(s), array[
        'id', 'created_at', 'updated_at', 'not_after', 'refreshed_at', 'user_agent', 'ip', 'aal'])
        order by s.created_at), '[]'::jsonb)
      from auth.sessions s where s.user_id = caller),
    'profile', (select to_jsonb(p) from public.profiles p where p.id = caller),
    'memberships', (
      select coalesce(jsonb_agg(to_jsonb(m) order by m.created_at), '[]'::jsonb)
      from public.workspace_members m where m.user_id = caller),
    'workspaces', (
      select coalesce(jsonb_agg(to_jsonb(w) || jsonb_build_object('role', m.role) order by w.created_at), '[]'::jsonb)
      from public.workspaces w join public.workspace_members m on m.workspace_id = w.id
      where m.user_id = caller),
    'invitations_sent', (
      select coalesce(jsonb_agg(to_jsonb(i) - 'token_hash' order by i.created_at), '[]'::jsonb)
      from public.invitations i where i.invited_by = caller),
    'invitations_accepted', (
      select coalesce(jsonb_agg(to_jsonb(i) - 'token_hash' order by i.created_at), '[]'::jsonb)
      from public.invitations i where i.accepted_by = caller)
  ) into doc;

  -- Every other public table with a single-column foreign key to auth.users(id): its rows whose
  -- referencing column(s) name the caller.
  for t in
    select c.oid::regclass as tbl, c.relname,
           array_agg(a.attname::text order by a.attnum) as cols
    from pg_catalog.pg_constraint k
    join pg_catalog.pg_class c on c.oid = k.conrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
    where k.contype = 'f'
      and k.confrelid = 'auth.users'::regclass
      and cardinality(k.conkey) = 1
      and n.nspname = 'public'
      and c.relname not in ('profiles', 'workspace_members', 'workspaces', 'invitations')
    group by c.oid, c.relname
    order by c.relname
  loop
    execute format(
      'select coalesce(jsonb_agg(private.without_credentials(to_jsonb(r))), ''[]''::jsonb) from %s r where %s',
      t.tbl,
      (select string_agg(format('r.%I = $1', col), ' or ') from unnest(t.cols) col)
    ) into rows using caller;
    other := other || jsonb_build_object(t.relname, rows);
  end loop;

  return doc || jsonb_build_object('other_tables', other);
end
$$;

-- Section: account erasure

-- initial_schema required accepted_at and accepted_by to be both null or both set, while
-- accepted_by is `on delete set null`: deleting any user who had ever accepted an invitation
-- failed on that check. An accepted invitation may outlive its accepter, so only "accepted_by
-- implies accepted_at" remains. (`invitations_check1` is the name Postgres gave the unnamed
-- second CHECK of that table.)
alter table public.invitations drop constraint invitations_check1;
alter table public.invitations add constraint invitations_accepted_by_needs_accepted_at
  check (accepted_by is null or accepted_at is not null);

-- Deleting an auth user (account erasure, or an admin in the dashboard): as in initial_schema,
-- the workspaces nobody else belongs to go with them (a shared workspace whose last owner they
-- are stops the delete: last-owner rule). In addition the invitations they accepted go, because
-- those rows hold their email address and would otherwise stay in the team's invitation list.
create or replace function private.handle_deleted_user() returns trigger
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

-- Section: grants

revoke all on function
  private.only_keys(jsonb, text[]), private.without_credentials(jsonb), private.handle_deleted_user()
  from public, anon, authenticated, service_role;

revoke all on function
  public.my_workspaces(uuid),
  public.workspace_member_directory(uuid),
  public.export_my_account()
  from public, anon;
grant execute on function
  public.my_workspaces(uuid),
  public.workspace_member_directory(uuid),
  public.export_my_account()
  to authenticated;
