-- Role rules of the tenancy model: viewers read, editors cannot manage, owners manage members,
-- invitations and deletion; nobody raises their own role; the last owner can neither leave nor
-- be demoted (whoever asks, service_role and postgres included), but the workspace can be deleted.
begin;
select plan(54);

select tests.create_user('roles_owner');
select tests.create_user('roles_second_owner');
select tests.create_user('roles_editor');
select tests.create_user('roles_viewer');
select tests.create_user('roles_admin', null, '{}', '{"role": "admin"}');

-- Section: creating a workspace
select tests.authenticate_as('roles_owner');
select id as team from public.create_workspace('  Team Rocket ', 'team-rocket') \gset
select is((select role from public.workspace_members where workspace_id = :'team' and user_id = auth.uid()),
  'owner'::public.workspace_role, 'create_workspace makes the caller its owner');
select is((select name || '/' || slug || '/' || personal::text from public.workspaces where id = :'team'),
  'Team Rocket/team-rocket/false', 'create_workspace trims the name and creates a team (not personal) workspace');
select lives_ok(format($$insert into public.invitations (workspace_id, email, role, token_hash) values (%L, 'later@example.test', 'viewer', encode(sha256('roles-invite-1'), 'hex'))$$, :'team'),
  'an owner creates an invitation');
select tests.authenticate_as_anon();
select throws_ok($$select public.create_workspace('Anon workspace')$$, '42501', null, 'anon cannot call create_workspace');
select tests.authenticate_as_service_role();
select throws_ok($$select public.create_workspace('Nobody''s workspace')$$, '28000', 'not authenticated',
  'create_workspace without a user in the claims is refused');

select tests.clear_authentication();
insert into public.workspace_members (workspace_id, user_id, role) values
  (:'team', tests.get_user_id('roles_editor'), 'editor'),
  (:'team', tests.get_user_id('roles_viewer'), 'viewer');

-- Section: helpers
select tests.authenticate_as('roles_editor');
select ok(public.has_role_on_workspace(:'team', 'editor'), 'has_role_on_workspace: an editor has at least editor');
select ok(not public.has_role_on_workspace(:'team', 'owner'), 'has_role_on_workspace: an editor is not an owner');
select ok(:'team' in (select public.workspaces_of_current_user()), 'workspaces_of_current_user lists the editor''s team');
select ok(:'team' not in (select public.workspaces_of_current_user('owner')), 'workspaces_of_current_user(owner) leaves it out for an editor');
select tests.authenticate_as('roles_viewer');
select ok(public.has_role_on_workspace(:'team') and not public.has_role_on_workspace(:'team', 'editor'),
  'has_role_on_workspace: a viewer is a member but not an editor');

-- Section: a viewer reads and writes nothing
select is((select count(*) from public.workspaces where id = :'team'), 1::bigint, 'a viewer reads the workspace');
select is((select count(*) from public.workspace_members where workspace_id = :'team'), 3::bigint, 'a viewer sees every member');
with u as (update public.workspaces set name = 'Viewer was here' where id = :'team' returning 1)
select is(count(*), 0::bigint, 'a viewer cannot rename the workspace') from u;
with d as (delete from public.workspaces where id = :'team' returning 1)
select is(count(*), 0::bigint, 'a viewer cannot delete the workspace') from d;
with u as (update public.workspace_members set role = 'viewer' where workspace_id = :'team' and user_id = tests.get_user_id('roles_editor') returning 1)
select is(count(*), 0::bigint, 'a viewer cannot change another member''s role') from u;
with d as (delete from public.workspace_members where workspace_id = :'team' and user_id <> auth.uid() returning 1)
select is(count(*), 0::bigint, 'a viewer cannot remove other members') from d;
with u as (update public.workspace_members set role = 'owner' where workspace_id = :'team' and user_id = auth.uid() returning 1)
select is(count(*), 0::bigint, 'a viewer cannot raise their own role') from u;
select is((select count(*) from public.invitations where workspace_id = :'team'), 0::bigint, 'a viewer lists no invitations');

-- Section: an editor cannot manage the workspace
select tests.authenticate_as('roles_editor');
with u as (update public.workspaces set name = 'Editor was here' where id = :'team' returning 1)
select is(count(*), 0::bigint, 'an editor cannot rename the workspace') from u;
with d as (delete from public.workspaces where id = :'team' returning 1)
select is(count(*), 0::bigint, 'an editor cannot delete the workspace') from d;
with u as (update public.workspace_members set role = 'editor' where workspace_id = :'team' and user_id = tests.get_user_id('roles_viewer') returning 1)
select is(count(*), 0::bigint, 'an editor cannot change another member''s role') from u;
with u as (update public.workspace_members set role = 'owner' where workspace_id = :'team' and user_id = auth.uid() returning 1)
select is(count(*), 0::bigint, 'an editor cannot raise their own role') from u;
with d as (delete from public.workspace_members where workspace_id = :'team' and user_id = tests.get_user_id('roles_viewer') returning 1)
select is(count(*), 0::bigint, 'an editor cannot remove a member') from d;
select throws_ok(format($$insert into public.invitations (workspace_id, email, role, token_hash) values (%L, 'friend@example.test', 'editor', encode(sha256('roles-invite-2'), 'hex'))$$, :'team'),
  '42501', null, 'an editor cannot create invitations');
select is((select count(*) from public.invitations where workspace_id = :'team'), 0::bigint, 'an editor lists no invitations');

select tests.clear_authentication();
select is((select role from public.workspace_members where workspace_id = :'team' and user_id = tests.get_user_id('roles_viewer')),
  'viewer'::public.workspace_role, 'after all that the viewer is still a viewer');
select is((select role from public.workspace_members where workspace_id = :'team' and user_id = tests.get_user_id('roles_editor')),
  'editor'::public.workspace_role, 'and the editor still an editor');

-- Section: a platform admin gets nothing extra in tenant tables
select tests.authenticate_as('roles_admin');
select ok(public.is_platform_admin(), 'is_platform_admin() is true for app_metadata.role = admin');
select is((select count(*) from public.workspaces where id = :'team'), 0::bigint, 'a platform admin does not read other workspaces');
select is((select count(*) from public.workspace_members where workspace_id = :'team'), 0::bigint, 'a platform admin does not read other workspaces'' members');
with u as (update public.workspaces set name = 'Admin was here' where id = :'team' returning 1)
select is(count(*), 0::bigint, 'a platform admin cannot rename other workspaces') from u;
select tests.authenticate_as('roles_viewer');
select ok(not public.is_platform_admin(), 'is_platform_admin() is false for everybody else');

-- Section: owners manage
select tests.authenticate_as('roles_owner');
with u as (update public.workspaces set name = 'Team Rocket HQ' where id = :'team' returning name)
select is(min(name), 'Team Rocket HQ', 'an owner renames the workspace') from u;
select throws_ok(format($$update public.workspaces set personal = true where id = %L$$, :'team'), '42501', null,
  'an owner cannot flip the personal flag');
select is((select count(*) from public.invitations where workspace_id = :'team'), 1::bigint, 'an owner lists the invitations');
with u as (update public.invitations set revoked_at = now() where workspace_id = :'team' returning 1)
select is(count(*), 1::bigint, 'an owner revokes an invitation') from u;
select throws_ok(format($$update public.invitations set accepted_at = now() where workspace_id = %L$$, :'team'), '42501', null,
  'an owner cannot mark an invitation accepted');
with u as (update public.workspace_members set role = 'viewer' where workspace_id = :'team' and user_id = tests.get_user_id('roles_editor') returning role)
select is(min(role), 'viewer'::public.workspace_role, 'an owner changes a member''s role') from u;
with d as (delete from public.workspace_members where workspace_id = :'team' and user_id = tests.get_user_id('roles_viewer') returning 1)
select is(count(*), 1::bigint, 'an owner removes a member') from d;

-- Section: members leave
select tests.authenticate_as('roles_editor');
with d as (delete from public.workspace_members where workspace_id = :'team' and user_id = auth.uid() returning 1)
select is(count(*), 1::bigint, 'a member can leave') from d;
select is((select count(*) from public.workspaces where id = :'team'), 0::bigint, 'and then no longer reads the workspace');

-- Section: the last owner stays
select tests.authenticate_as('roles_owner');
select throws_ok(format($$delete from public.workspace_members where workspace_id = %L and user_id = auth.uid()$$, :'team'),
  'CEW01', 'the last owner of a workspace cannot leave or be demoted', 'the last owner cannot leave');
select throws_ok(format($$update public.workspace_members set role = 'editor' where workspace_id = %L and user_id = auth.uid()$$, :'team'),
  'CEW01', null, 'the last owner cannot demote themselves');
select tests.authenticate_as_service_role();
select throws_ok(format($$delete from public.workspace_members where workspace_id = %L and user_id = %L$$, :'team', tests.get_user_id('roles_owner')),
  'CEW01', null, 'not even the service role removes the last owner');
select throws_ok(format($$update public.workspace_members set role = 'viewer' where workspace_id = %L and user_id = %L$$, :'team', tests.get_user_id('roles_owner')),
  'CEW01', null, 'not even the service role demotes the last owner');
select tests.clear_authentication();
select throws_ok(format($$update public.workspace_members set role = 'viewer' where workspace_id = %L and user_id = %L$$, :'team', tests.get_user_id('roles_owner')),
  'CEW01', null, 'not even postgres demotes the last owner');

-- With a second owner, one may step down; the other is then the last owner.
insert into public.workspace_members (workspace_id, user_id, role) values (:'team', tests.get_user_id('roles_second_owner'), 'viewer');
select tests.authenticate_as('roles_owner');
with u as (update public.workspace_members set role = 'owner' where workspace_id = :'team' and user_id = tests.get_user_id('roles_second_owner') returning 1)
select is(count(*), 1::bigint, 'an owner makes another member owner') from u;
select throws_ok(format($$delete from public.workspace_members where workspace_id = %L$$, :'team'),
  'CEW01', null, 'removing every owner in one statement is refused');
with u as (update public.workspace_members set role = 'editor' where workspace_id = :'team' and user_id = auth.uid() returning 1)
select is(count(*), 1::bigint, 'an owner who is not the last one may step down') from u;
with u as (update public.workspace_members set role = 'owner' where workspace_id = :'team' and user_id = auth.uid() returning 1)
select is(count(*), 0::bigint, 'and cannot promote themselves back') from u;
select tests.authenticate_as('roles_second_owner');
select throws_ok(format($$delete from public.workspace_members where workspace_id = %L and user_id = auth.uid()$$, :'team'),
  'CEW01', null, 'the remaining owner is now the last owner and cannot leave');

-- Section: deleting workspaces
with d as (delete from public.workspaces where personal and id in (select public.workspaces_of_current_user('owner')) returning 1)
select is(count(*), 0::bigint, 'an owner cannot delete their personal workspace') from d;
with d as (delete from public.workspaces where id = :'team' returning 1)
select is(count(*), 1::bigint, 'an owner deletes a team workspace, last owner included') from d;
select tests.clear_authentication();
select is((select count(*) from public.workspace_members where workspace_id = :'team')
  + (select count(*) from public.invitations where workspace_id = :'team'), 0::bigint,
  'deleting a workspace removes its members and invitations');

select * from finish();
rollback;
