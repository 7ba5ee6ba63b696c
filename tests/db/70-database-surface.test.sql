-- The rules the API enforces hold for direct database calls too: what a member
-- can send through supabase-js (`rpc` and table access, which hosted PostgREST serves) as
-- `authenticated`. One test per rule; each would pass a write through before that migration.
begin;
select plan(47);

-- Section: fixtures (as the superuser)

select tests.create_user('dbs_owner');
select tests.create_user('dbs_editor');
select tests.create_user('dbs_viewer');

create temp table ids (name text primary key, id uuid not null) on commit drop;
grant all on ids to authenticated;
select tests.authenticate_as('dbs_owner');
insert into ids select 'ws', id from public.create_workspace('Surface team');
select tests.clear_authentication();
insert into public.workspace_members (workspace_id, user_id, role)
values ((select id from ids where name = 'ws'), tests.get_user_id('dbs_editor'), 'editor'),
       ((select id from ids where name = 'ws'), tests.get_user_id('dbs_viewer'), 'viewer');

create function pg_temp.id(n text) returns uuid language sql as $$ select id from ids where name = n $$;

with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  values (pg_temp.id('ws'), 'UCsurfaceActive', 'Active', 'active') returning id
) insert into ids select 'channel', id from c;
with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  values (pg_temp.id('ws'), 'UCsurfaceGone', 'Gone', 'disconnected') returning id
) insert into ids select 'gone_channel', id from c;
with c as (
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  values (pg_temp.id('ws'), 'UCsurfaceBusy', 'Busy', 'active') returning id
) insert into ids select 'busy_channel', id from c;

-- a valid script item, and a ready render of it
create function pg_temp.script(title text default 'A title', body text default 'The script.') returns jsonb
language sql as $$
  select jsonb_build_object('items', jsonb_build_array(jsonb_build_object('title', title, 'hook', 'Watch this.',
    'script', body, 'call_to_action', 'Subscribe.', 'estimated_duration_seconds', 30)))
$$;
with g as (
  insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, approved_version)
  values (pg_temp.id('ws'), 'script', '{}', 't', 'm', pg_temp.script(), 'approved', 1) returning id
) insert into ids select 'approved', id from g;
with j as (
  insert into public.video_jobs (workspace_id, content_id, content_version, render_params, status, progress, video_url,
    webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, finished_at)
  values (pg_temp.id('ws'), pg_temp.id('approved'), 1, '{}', 'ready', 100, 'https://cdn.example.test/v.mp4',
    repeat('a', 64), now() + interval '1 hour', 'surface-ready', repeat('a', 64), now())
  returning id
) insert into ids select 'job', id from j;

-- create_upload_schedule with valid values except those given
create function pg_temp.schedule(
  k text, title text default 'A title', tags text[] default array['one', 'two words'], category text default '22',
  thumb text default null, at_text text default null
) returns table (outcome text, schedule_id uuid) language sql as $$
  select * from public.create_upload_schedule(pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'),
    title, 'A description', tags, category, 'public', false, true, thumb,
    coalesce(at_text, to_char((now() + interval '1 day') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), 'UTC', null,
    k, repeat('1', 64))
$$;

-- Section: generated content (create_generated_content, edit_generated_content)

select tests.authenticate_as('dbs_editor');
create function pg_temp.create_content(output jsonb, brief jsonb default '{}', sources jsonb default '[]', kind text default 'script')
returns uuid language sql as $$
  select id from public.create_generated_content(gen_random_uuid(), pg_temp.id('ws'), kind::public.content_kind, brief, sources,
    'v1', 'gemini-test', 1, 1, output)
$$;

select lives_ok($$select pg_temp.create_content(pg_temp.script())$$, 'an editor creates content whose output fits its kind');
select throws_ok($$select pg_temp.create_content('{"items": [{"script": "only a script"}]}')$$, '22023', null,
  'an item missing the kind''s fields is refused');
select throws_ok($$select pg_temp.create_content(pg_temp.script() || '{"extra": 1}')$$, '22023', null,
  'an output with keys besides items is refused');
select throws_ok($$select pg_temp.create_content(jsonb_set(pg_temp.script(), '{items,0,secret}', '"x"'))$$, '22023', null,
  'an item with an unknown field is refused');
select throws_ok($$select pg_temp.create_content(pg_temp.script('A title', repeat('x', 30001)))$$, '22023', null,
  'a script over 30,000 characters is refused');
select throws_ok($$select pg_temp.create_content(jsonb_build_object('items', (select jsonb_agg(pg_temp.script() -> 'items' -> 0) from generate_series(1, 21))))$$,
  '22023', null, 'more than 20 items are refused');
select throws_ok($$select pg_temp.create_content('{"items": []}')$$, '22023', null, 'an output without items is refused');
select throws_ok($$select pg_temp.create_content(pg_temp.script('A <b>title</b>'))$$, '22023', null, 'a title with < or > is refused');
select throws_ok($$select pg_temp.create_content(pg_temp.script('  padded  '))$$, '22023', null,
  'an untrimmed field is refused (the API stores fields trimmed)');
select throws_ok($$select pg_temp.create_content(jsonb_set(pg_temp.script(), '{items,0,estimated_duration_seconds}', '2.5'))$$,
  '22023', null, 'a duration that is not a whole number is refused');
select throws_ok($$select pg_temp.create_content('{"items": [{"tags": ["a,b", ""], "rationale": "r"}]}', '{}', '[]', 'tags')$$,
  '22023', null, 'a tag set with an empty tag is refused');
select throws_ok($$select pg_temp.create_content(pg_temp.script(), jsonb_build_object('brief', repeat('b', 4001)))$$, '23514', null,
  'a brief longer than the API accepts is refused');
select throws_ok($$select pg_temp.create_content(pg_temp.script(), '{"anything": "else"}')$$, '23514', null,
  'a brief with keys the API never stores is refused');
select throws_ok($$select pg_temp.create_content(pg_temp.script(), '{}', (select jsonb_agg('{}'::jsonb) from generate_series(1, 51)))$$,
  '23514', null, 'more than 50 source videos are refused');

insert into ids select 'draft', pg_temp.create_content(pg_temp.script());
select throws_ok($$select public.edit_generated_content(pg_temp.id('draft'), jsonb_build_object('items', jsonb_build_array(jsonb_build_object('script', repeat('x', 1000000)))))$$,
  '22023', null, 'an edit with a malformed, oversized output is refused');
select throws_ok($$select public.edit_generated_content(pg_temp.id('draft'), '{"items": [{"title": "t", "reason": "r"}]}')$$,
  '22023', null, 'an edit with another kind''s output is refused');
select lives_ok($$select public.edit_generated_content(pg_temp.id('draft'), pg_temp.script('Better title'))$$,
  'an edit that fits the kind is saved');
select public.review_generated_content(pg_temp.id('draft'), 'submit');
select tests.authenticate_as('dbs_owner');
select throws_ok($$select public.review_generated_content(pg_temp.id('draft'), 'reject', 'no')$$, '23514', null,
  'a rejection reason under 3 characters is refused, as POST /content/:id/reject does');

-- Section: upload schedules (create_upload_schedule, update_upload_schedule)

select tests.authenticate_as('dbs_editor');
select is((select outcome from pg_temp.schedule('ok')), 'created', 'an editor creates a schedule with valid values');
insert into ids select 'schedule', schedule_id from pg_temp.schedule('ok');
select throws_ok($$select * from pg_temp.schedule('cat', category => '99')$$, '23514', null,
  'a category YouTube does not assign is refused');
select throws_ok($$select * from pg_temp.schedule('comma', tags => array['a,b'])$$, '23514', null, 'a tag with a comma is refused');
select throws_ok($$select * from pg_temp.schedule('blank-tag', tags => array['   '])$$, '23514', null, 'a blank tag is refused');
select throws_ok($$select * from pg_temp.schedule('angle-tag', tags => array['<x>'])$$, '23514', null, 'a tag with < or > is refused');
select throws_ok($$select * from pg_temp.schedule('blank', title => '   ')$$, '23514', null, 'a blank title is refused');
select throws_ok($$select * from pg_temp.schedule('thumb', thumb => 'http://')$$, '23514', null, 'a thumbnail URL without a host is refused');
select throws_ok($$select * from pg_temp.schedule('inf', at_text => 'infinity')$$, 'CES13', null, 'publish_at ''infinity'' is refused');
select throws_ok($$select * from pg_temp.schedule('tomorrow', at_text => 'tomorrow')$$, 'CES13', null,
  'publish_at words Postgres reads but the API does not are refused');
select throws_ok($$select * from pg_temp.schedule('year', at_text => '20261-01-01T00:00:00Z')$$, 'CES13', null,
  'a five-digit year is refused');
select throws_ok($$select * from public.create_upload_schedule(pg_temp.id('ws'), pg_temp.id('channel'), pg_temp.id('job'),
    'T', '', '{}', '22', 'public', false, true, null, '2099-01-01T00:00:00Z', 'UTC', null, 'with space', repeat('1', 64))$$,
  '23514', null, 'an idempotency key that is not printable ASCII without spaces is refused');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('schedule'), '{"category_id": "999"}')$$, '23514', null,
  'an edit to an unassignable category is refused');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('schedule'), '{"tags": ["x,y"]}')$$, '23514', null,
  'an edit to tags with a comma is refused');
select throws_ok($$select public.update_upload_schedule(pg_temp.id('schedule'), '{"publish_at": "infinity"}')$$, 'CES13', null,
  'an edit of publish_at to ''infinity'' is refused');
select is((select category_id || '|' || array_to_string(tags, ';') from public.upload_schedules where id = pg_temp.id('schedule')),
  '22|one;two words', 'the schedule kept its values');

-- Section: channels (DELETE /channels/:id: only disconnected, without unfinished uploads)

select tests.clear_authentication();
insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, idempotency_key, request_fingerprint)
values (pg_temp.id('ws'), pg_temp.id('busy_channel'), pg_temp.id('job'), 'Pending', now() + interval '1 day', 'busy', repeat('2', 64));
update public.channels set status = 'disconnected' where id = pg_temp.id('busy_channel');
select tests.authenticate_as('dbs_owner');
select throws_ok($$delete from public.channels where id = pg_temp.id('channel')$$, 'CEH01', null,
  'an owner cannot remove a connected channel');
select throws_ok($$delete from public.channels where id = pg_temp.id('busy_channel')$$, 'CEH02', null,
  'an owner cannot remove a channel with unfinished uploads');
with d as (delete from public.channels where id = pg_temp.id('gone_channel') returning 1)
select is(count(*)::int, 1, 'an owner removes a disconnected channel without pending uploads') from d;

-- Section: invitations

select throws_ok(format($$insert into public.invitations (workspace_id, email, role, token_hash, expires_at)
    values (%L, 'never@example.test', 'viewer', repeat('c', 64), 'infinity')$$, pg_temp.id('ws')),
  '42501', null, 'an owner cannot choose an expiry (no invitation that never expires)');
select throws_ok(format($$insert into public.invitations (workspace_id, email, role, token_hash)
    values (%L, 'nobody@localhost', 'viewer', repeat('d', 64))$$, pg_temp.id('ws')),
  '23514', null, 'an address the API would not accept is refused');
insert into public.invitations (workspace_id, email, role, token_hash) values (pg_temp.id('ws'), 'later@example.test', 'viewer', repeat('e', 64));
update public.invitations set revoked_at = now() + interval '10 years' where email = 'later@example.test';
select ok((select revoked_at <= now() from public.invitations where email = 'later@example.test'),
  'a revocation is stamped now, whatever time is sent');
select throws_ok($$update public.invitations set revoked_at = null where email = 'later@example.test'$$, 'CEI06', null,
  'a revoked invitation cannot be revived');
select throws_ok($$select token_hash from public.invitations$$, '42501', null, 'an owner cannot read invitation token hashes');

-- Section: secrets of render jobs

select tests.authenticate_as('dbs_viewer');
select throws_ok($$select webhook_secret_hash from public.video_jobs$$, '42501', null, 'a member cannot read webhook secret hashes');
select is((select status from public.video_jobs where id = pg_temp.id('job')), 'ready', 'members still read the other columns of a job');

-- Section: workspaces and profiles (stored trimmed, as the API stores them)

select tests.authenticate_as('dbs_owner');
update public.workspaces set name = 'Padded' || repeat(' ', 200) where id = pg_temp.id('ws');
select is((select name from public.workspaces where id = pg_temp.id('ws')), 'Padded', 'a workspace name is stored trimmed');
update public.profiles set display_name = E'\t Me ' || repeat(' ', 200) where id = auth.uid();
select is((select display_name from public.profiles where id = auth.uid()), 'Me', 'a display name is stored trimmed');
select throws_ok($$update public.profiles set avatar_url = 'https://' where id = auth.uid()$$, '23514', null,
  'an avatar URL without a host is refused');

-- Section: a workspace's deletion still removes its connected channels

with d as (delete from public.workspaces where id = pg_temp.id('ws') returning 1)
select is(count(*)::int, 1, 'an owner deletes the workspace, connected channels and all') from d;

select * from finish();
rollback;
