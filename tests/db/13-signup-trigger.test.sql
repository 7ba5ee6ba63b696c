-- Sign-up (trigger on auth.users): every new user gets a profile and a personal workspace they
-- own; profiles validate locale and time zone; deleting a user takes their personal workspace
-- along but never a workspace they are the last owner of while others still belong to it.
begin;
select plan(30);

-- Section: what sign-up creates
select tests.create_user('signup_named', 'named@example.test', '{"display_name": "  Ada Lovelace "}');
select is((select display_name from public.profiles where id = tests.get_user_id('signup_named')), 'Ada Lovelace',
  'the profile takes display_name from the sign-up metadata, trimmed');
select is((select locale || ' ' || timezone from public.profiles where id = tests.get_user_id('signup_named')), 'en UTC',
  'a new profile defaults to locale en and time zone UTC');
select is((select count(*) from public.workspace_members where user_id = tests.get_user_id('signup_named')), 1::bigint,
  'a new user belongs to exactly one workspace');
select is(
  (select jsonb_build_object('name', w.name, 'personal', w.personal, 'created_by', w.created_by, 'role', m.role)
   from public.workspace_members m join public.workspaces w on w.id = m.workspace_id
   where m.user_id = tests.get_user_id('signup_named')),
  jsonb_build_object('name', 'Ada Lovelace''s workspace', 'personal', true, 'created_by', tests.get_user_id('signup_named'), 'role', 'owner'),
  'it is a personal workspace named after them, created by and owned by them');

select tests.create_user('signup_plain', 'grace.hopper@example.test');
select is((select display_name from public.profiles where id = tests.get_user_id('signup_plain')), 'grace.hopper',
  'without a display name the email''s local part is used');
select is((select w.name from public.workspace_members m join public.workspaces w on w.id = m.workspace_id
   where m.user_id = tests.get_user_id('signup_plain')), 'grace.hopper''s workspace', 'and names the personal workspace');

select tests.create_user('signup_oauth', 'oauth@example.test', '{"full_name": "Alan Turing", "name": "alan"}');
select is((select display_name from public.profiles where id = tests.get_user_id('signup_oauth')), 'Alan Turing',
  'an OAuth sign-up''s full_name is used when there is no display_name');

insert into auth.users (id, aud, role, phone, raw_app_meta_data, raw_user_meta_data)
values ('7d7a0d36-5b0c-4c4b-9d3f-5b4f3c2a1e10', 'authenticated', 'authenticated', '+15550100',
  '{"provider": "phone"}', '{}');
select is((select display_name from public.profiles where id = '7d7a0d36-5b0c-4c4b-9d3f-5b4f3c2a1e10'), 'New user',
  'a user without email or name gets a placeholder name');

select tests.create_user('signup_long', 'long@example.test', jsonb_build_object('display_name', repeat('x', 150)));
select ok((select char_length(p.display_name) = 100 and char_length(w.name) <= 100
   from public.profiles p join public.workspace_members m on m.user_id = p.id join public.workspaces w on w.id = m.workspace_id
   where p.id = tests.get_user_id('signup_long')),
  'an overlong display name is cut to fit instead of failing the sign-up');

-- Section: profiles
select tests.authenticate_as('signup_named');
with u as (update public.profiles set timezone = 'Europe/Berlin', locale = 'de-DE', display_name = 'Ada L.' where id = auth.uid() returning 1)
select is(count(*), 1::bigint, 'a user updates their own profile') from u;
select is((select timezone || ' ' || locale from public.profiles where id = auth.uid()), 'Europe/Berlin de-DE', 'the update sticks');
select throws_ok($$update public.profiles set timezone = 'Mars/Olympus_Mons' where id = auth.uid()$$, '22023', 'unknown time zone "Mars/Olympus_Mons"',
  'a time zone unknown to pg_timezone_names is refused');
select throws_ok($$update public.profiles set locale = 'english please' where id = auth.uid()$$, '23514', null,
  'a malformed locale is refused');
select throws_ok($$update public.profiles set avatar_url = 'javascript:alert(1)' where id = auth.uid()$$, '23514', null,
  'an avatar URL must be https');
select throws_ok($$update public.profiles set id = gen_random_uuid() where id = auth.uid()$$, '42501', null,
  'a user cannot change their profile id');
select throws_ok($$delete from public.profiles where id = auth.uid()$$, '42501', null,
  'a user cannot delete their profile (it leaves with the account)');
select is((select count(*) from public.profiles where id = tests.get_user_id('signup_plain')), 0::bigint,
  'a user does not read the profile of someone they share no workspace with');

select tests.clear_authentication();
insert into public.workspace_members (workspace_id, user_id, role)
  select m.workspace_id, tests.get_user_id('signup_plain'), 'viewer'
  from public.workspace_members m where m.user_id = tests.get_user_id('signup_named');
select tests.authenticate_as('signup_plain');
select is((select display_name from public.profiles where id = tests.get_user_id('signup_named')), 'Ada L.',
  'a user reads the profile of someone they share a workspace with');
with u as (update public.profiles set display_name = 'Hacked' where id = tests.get_user_id('signup_named') returning 1)
select is(count(*), 0::bigint, 'but cannot update it') from u;
select tests.authenticate_as('signup_oauth');
select is((select count(*) from public.profiles), 1::bigint, 'a user alone in their workspace reads only their own profile');

select tests.clear_authentication();
update public.profiles set display_name = 'Ada', updated_at = '2000-01-01' where id = tests.get_user_id('signup_named');
select is((select updated_at from public.profiles where id = tests.get_user_id('signup_named')), now(),
  'updated_at is set by the trigger, not by the writer');

-- Section: deleting users
create temp table signup_plain_workspace on commit drop as
  select workspace_id as id from public.workspace_members m
  join public.workspaces w on w.id = m.workspace_id and w.personal
  where m.user_id = tests.get_user_id('signup_plain') and m.role = 'owner';
create temp table signup_named_workspace on commit drop as
  select workspace_id as id from public.workspace_members m
  where m.user_id = tests.get_user_id('signup_named') and m.role = 'owner';
select lives_ok(format($$delete from auth.users where id = %L$$, tests.get_user_id('signup_plain')),
  'a user who is only a viewer elsewhere can be deleted');
select is((select count(*) from public.profiles where id = tests.get_user_id('signup_plain')), 0::bigint, 'their profile goes with them');
select is((select count(*) from public.workspaces where id = (select id from signup_plain_workspace)), 0::bigint,
  'their personal workspace goes with them');
select is((select count(*) from public.workspace_members m join public.workspaces w on w.id = m.workspace_id
   where m.user_id = tests.get_user_id('signup_named') and w.personal), 1::bigint,
  'the workspace they were a viewer of stays');

insert into public.workspace_members (workspace_id, user_id, role)
  select m.workspace_id, tests.get_user_id('signup_oauth'), 'editor'
  from public.workspace_members m where m.user_id = tests.get_user_id('signup_named');
select throws_ok(format($$delete from auth.users where id = %L$$, tests.get_user_id('signup_named')), 'CEW01', null,
  'the last owner of a workspace others still belong to cannot be deleted');
update public.workspace_members set role = 'owner'
  where user_id = tests.get_user_id('signup_oauth')
    and workspace_id in (select workspace_id from public.workspace_members where user_id = tests.get_user_id('signup_named'));
select lives_ok(format($$delete from auth.users where id = %L$$, tests.get_user_id('signup_named')),
  'once someone else owns it too, the user can be deleted');
select is((select count(*) from public.workspace_members where user_id = tests.get_user_id('signup_oauth')), 2::bigint,
  'and the shared workspace lives on with its other owner');
select is((select created_by from public.workspaces where id = (select id from signup_named_workspace)), null::uuid,
  'created_by of the surviving workspace is cleared, not dangling');
select is((select count(*) from public.workspace_members m where not exists (select 1 from auth.users u where u.id = m.user_id)), 0::bigint,
  'no membership is left behind by deleted users');

select * from finish();
rollback;
