-- Tenant isolation for EVERY table in `public`, discovered from the catalog, so tables added by
-- later migrations are covered without editing this file. Per table (one assertion per check,
-- named after the table): RLS enabled; tied to a tenant (workspace_id / the workspaces table /
-- a user reference); fixture rows exist for workspace A (extend tests.create_fixture_rows());
-- anon reads and writes nothing; A's owner reads A's rows; a user of another workspace reads none
-- of A's rows and cannot insert, update or delete them; a viewer of A reads them (unless
-- tests.min_read_role says otherwise) and cannot write them. Every probe runs with Supabase's
-- default full grants on the table, so RLS alone must hold. The machinery is in
-- tests/db/helpers/test-helpers.sql (tests.tenancy_matrix).
begin;

select tests.create_user('matrix_owner');
select tests.create_user('matrix_viewer');
select tests.create_user('matrix_outsider');

-- Workspace A is the owner's personal workspace (made by the sign-up trigger); the viewer joins it.
create temp table matrix_workspace on commit drop as
  select m.workspace_id as id from public.workspace_members m
  join public.workspaces w on w.id = m.workspace_id and w.personal
  where m.user_id = tests.get_user_id('matrix_owner');
insert into public.workspace_members (workspace_id, user_id, role)
  select id, tests.get_user_id('matrix_viewer'), 'viewer' from matrix_workspace;
select tests.create_fixture_rows((select id from matrix_workspace), tests.get_user_id('matrix_owner'));

create temp table matrix_results on commit drop as
  select r.ordinality, r.description, r.passed, r.details
  from tests.tenancy_matrix((select id from matrix_workspace), 'matrix_owner', 'matrix_viewer', 'matrix_outsider')
    with ordinality as r;

select plan(1 + (select count(*)::int from matrix_results));

-- Guards the discovery itself: the four tables of the initial schema must be among the found.
select ok(
  (select count(*) from tests.tenant_tables()
   where tbl in ('public.workspaces'::regclass, 'public.workspace_members'::regclass,
                 'public.invitations'::regclass, 'public.profiles'::regclass)) = 4,
  'catalog discovery finds the tenancy tables of the initial schema'
);

select case when passed then ok(true, description)
            else ok(false, description) || E'\n' || diag(coalesce(details, '')) end
from matrix_results
order by ordinality;

select * from finish();
rollback;
