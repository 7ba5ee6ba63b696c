-- private.require_workspace_role (20261201000100_workspaces_members_invitations_profiles) is the one role check of every mutation: its
-- answers, and that the mutations which checked roles their own way now call it.
begin;
select plan(15);

select tests.create_user('rw_owner');
select tests.create_user('rw_editor');
select tests.create_user('rw_viewer');
select tests.create_user('rw_outsider');

create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to authenticated, anon;
select tests.authenticate_as('rw_owner');
insert into ids select 'ws', id from public.create_workspace('Role check team');
select tests.clear_authentication();
insert into public.workspace_members (workspace_id, user_id, role)
select i.id, tests.get_user_id(u), r::public.workspace_role
from ids i, (values ('rw_editor', 'editor'), ('rw_viewer', 'viewer')) as m(u, r) where i.name = 'ws';

-- Called as the mutations call it: from a security-definer function, with the member's claims.
create function pg_temp.check_role(min_role public.workspace_role) returns uuid
language sql security definer as $$
  select private.require_workspace_role((select id from ids where name = 'ws'), min_role, 'test the rule')
$$;
grant execute on function pg_temp.check_role(public.workspace_role) to authenticated, anon;

select tests.authenticate_as('rw_editor');
select is(pg_temp.check_role('editor'), tests.get_user_id('rw_editor'), 'an editor passes an editor check and is returned');
select is(pg_temp.check_role('viewer'), tests.get_user_id('rw_editor'), 'a higher role passes a lower check');
select throws_ok($$select pg_temp.check_role(null)$$, '22023', 'min_role is required', 'no minimum role is refused, not a pass');
select throws_ok($$select pg_temp.check_role('owner')$$, '42501', 'only owners can test the rule; your role here is editor',
  'below owner: 42501 naming the rule and the role');
select tests.authenticate_as('rw_viewer');
select throws_ok($$select pg_temp.check_role('editor')$$, '42501', 'only editors and owners can test the rule; your role here is viewer',
  'a viewer below editor: 42501');
-- DETAIL carries both roles, so the functions answer with them (pg-errors.ts ROLE_CHECK).
create function pg_temp.detail_of(statement text) returns text language plpgsql as $$
declare
  detail text;
begin
  execute statement;
  return null;
exception when insufficient_privilege then
  get stacked diagnostics detail = pg_exception_detail;
  return detail;
end
$$;
grant execute on function pg_temp.detail_of(text) to authenticated;
select is(pg_temp.detail_of($$select pg_temp.check_role('editor')$$), '{"required_role": "editor", "your_role": "viewer"}',
  'DETAIL names the required role and the caller''s as JSON');
-- Members reach the same check through public.require_workspace_role (generate-content).
select throws_ok($$select public.require_workspace_role((select id from ids where name = 'ws'), 'editor', 'generate content')$$,
  '42501', 'only editors and owners can generate content; your role here is viewer', 'the public wrapper answers the same');
select tests.authenticate_as('rw_outsider');
select throws_ok($$select public.require_workspace_role((select id from ids where name = 'ws'), 'viewer', 'read it')$$,
  'CEX01', 'workspace not found', 'and hides workspaces of others the same way');
select throws_ok($$select pg_temp.check_role('viewer')$$, 'CEX01', 'workspace not found',
  'a non-member is told the workspace does not exist');
select tests.authenticate_as_anon();
select throws_ok($$select pg_temp.check_role('viewer')$$, '28000', 'not authenticated', 'no caller: 28000');
select tests.clear_authentication();

select ok(not has_function_privilege(r, 'private.require_workspace_role(uuid, public.workspace_role, text)', 'EXECUTE'),
  format('%s cannot call the check directly', r))
from unnest(array['anon', 'authenticated', 'service_role']) as r;

-- The mutations that checked roles their own way call it now, and the old helper is gone.
select is(to_regprocedure('private.require_schedule_role(uuid, public.workspace_role)'), null,
  'private.require_schedule_role is gone');
select is(
  array(select p.proname::text from pg_proc p
        where p.proname in ('lock_schedule_for_change', 'content_for_change', 'create_generated_content',
                            'create_upload_schedule', 'update_workspace_settings')
          and p.prosrc !~ 'private\.require_workspace_role\('
        order by 1),
  '{}'::text[],
  'schedules, workspace settings and content changes check roles through private.require_workspace_role');

select * from finish();
rollback;
