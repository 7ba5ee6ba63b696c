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

create or replace function private.lock_schedule_for_change(schedule_id uuid, min_role public.workspace_role)
returns public.upload_schedules
language plpgsql volatile security definer set search_path = '' as $$
declare
  s public.upload_schedules;
begin
  select * into s from public.upload_schedules u where u.id = lock_schedule_for_change.schedule_id for update;
  -- A schedule of another tenant is "not found", as one that does not exist.
  if s.id is null or not exists (
    select 1 from public.workspace_members m where m.workspace_id = s.workspace_id and m.user_id = (select auth.uid())
  ) then
    raise exception 'schedule not found' using errcode = 'CES01';
  end if;
  perform private.require_workspace_role(s.workspace_id, min_role, 'change schedules');
  return s;
end
$$;

create or replace function private.content_for_change(content_id uuid, what text) returns public.generated_content
language plpgsql volatile security definer set search_path = '' as $$
declare
  c public.generated_content;
begin
  select * into c from public.generated_content g where g.id = content_for_change.content_id for update;
  -- Content of another tenant is "not found", as content that does not exist.
  if c.id is null or not public.has_role_on_workspace(c.workspace_id, 'viewer') then
    raise exception 'content not found' using errcode = 'CEC01';
  end if;
  perform private.require_workspace_role(c.workspace_id, 'editor', what);
  return c;
end
$$;

-- The callers with the check in their own text are rewritten from the catalogue (not pasted from
-- an older migration), so changes other migrations made to them stay.
do $$
declare
  f record;
  def text;
  rewritten text;
begin
  for f in
    select p.oid from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
      and p.prosrc ~ 'private\.require_schedule_role\('
  loop
    def := pg_get_functiondef(f.oid);
    rewritten := regexp_replace(def, 'private\.require_schedule_role\(([^()]*)\)',
      'private.require_workspace_role(\1, ''change schedules'')', 'g');
    execute rewritten;
  end loop;

  def := pg_get_functiondef('public.create_generated_content(uuid, uuid, public.content_kind, jsonb, jsonb, text, text, integer, integer, jsonb)'::regprocedure);
  rewritten := regexp_replace(def,
    'if not public\.has_role_on_workspace\(create_generated_content\.workspace_id, ''editor''\) then\s*raise exception ''only editors and owners can create content'' using errcode = ''42501'';\s*end if;',
    'perform private.require_workspace_role(create_generated_content.workspace_id, ''editor'', ''create content'');');
  if rewritten = def then
    raise exception 'create_generated_content: its role check was not found; rewrite it by hand';
  end if;
  execute rewritten;
end
$$;

drop function private.require_schedule_role(uuid, public.workspace_role);
