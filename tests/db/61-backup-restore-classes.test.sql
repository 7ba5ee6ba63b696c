-- A workspace restore brings back content and never rewinds what happened outside the database
-- (20261201001400_backup_snapshots): every table has a class (catalogue check: a new table without one fails here
-- and makes backups refuse); a restore leaves usage, quota ledger, tokens, OAuth states,
-- invitations, renders and uploads exactly as they are; content the restore removes takes its
-- dependent rows with it as its foreign keys say; a channel keeps its present connection state.
-- Repeatable read: ops.take_snapshot refuses read committed.
begin isolation level repeatable read;
select plan(19);

-- Section: the catalogue

select is(
  (select coalesce(array_agg(table_name || ' ' || problem order by table_name), '{}') from ops.backup_classification_problems()),
  '{}'::text[],
  'every table in public and private has a class, and content tables reference only content');
select is(
  (select coalesce(array_agg(k.table_name order by k.table_name), '{}') from ops.backup_table_classes k where to_regclass(k.table_name) is null),
  '{}'::text[],
  'every classified table exists');
select set_eq(
  $$select tbl::text from ops.backup_tables()$$,
  $$select t.tbl::text from ops.tenant_tables() t join ops.backup_table_classes k on k.table_name::regclass = t.tbl and k.class = 'content'$$,
  'snapshots and restores cover exactly the content tables');
select ok(not exists (select 1 from ops.backup_tables() b join ops.backup_table_classes k on k.table_name::regclass = b.tbl
    where k.table_name in ('public.generation_usage', 'public.youtube_quota_usage', 'private.channel_credentials',
      'private.youtube_oauth_states', 'public.invitations', 'public.video_jobs', 'public.upload_schedules', 'public.sync_runs')),
  'usage, quota, tokens, OAuth states, invitations, renders, uploads and syncs are never snapshotted or restored');

create table public.bk_unclassified (id int primary key, workspace_id uuid references public.workspaces (id));
select throws_ok('select * from ops.backup_tables()', 'CEB02', null, 'a new table without a class stops backups until it has one');
select ok((select bool_or(table_name = 'public.bk_unclassified') from ops.backup_classification_problems()), 'and is named');
drop table public.bk_unclassified;

-- Section: a restore after usage, quota, tokens and uploads moved on

select tests.create_user('rc_owner');
create temp table ws on commit drop as
select (select w.id from public.workspaces w where w.created_by = tests.get_user_id('rc_owner') and w.personal) as id;
select tests.create_fixture_rows((select id from ws), tests.get_user_id('rc_owner'));
create temp table fx on commit drop as
select (select c.id from public.channels c where c.workspace_id = (select id from ws)) as channel,
       (select v.id from public.videos v where v.workspace_id = (select id from ws)) as video;
insert into private.channel_credentials (channel_id, refresh_token_enc, access_token_enc, scopes)
values ((select channel from fx), 'refresh-at-snapshot'::bytea, 'access-at-snapshot'::bytea, '{}');
update public.youtube_quota_usage set units = 11 where workspace_id = (select id from ws);
insert into private.youtube_oauth_states (state_hash, workspace_id, user_id, code_verifier_enc, redirect_uri, expires_at)
values (repeat('a', 64), (select id from ws), tests.get_user_id('rc_owner'), 'v'::bytea, 'https://x.test/cb', now() + interval '10 minutes');

create temp table snap on commit drop as select ops.take_snapshot('test') as id;

-- After the snapshot: two more renders, quota spent at YouTube, Google rotated the tokens, the
-- OAuth state and the invitation were used, the channel needs re-authorising, the upload went
-- out; and the content changed.
update public.generation_usage set renders = 3 where workspace_id = (select id from ws);
update public.youtube_quota_usage set units = 9617 where workspace_id = (select id from ws);
update private.channel_credentials set refresh_token_enc = 'refresh-now'::bytea, access_token_enc = 'access-now'::bytea
where channel_id = (select channel from fx);
update private.youtube_oauth_states set used_at = now() where state_hash = repeat('a', 64);
update public.invitations set accepted_at = now() where workspace_id = (select id from ws);
update public.channels set status = 'reauth_required' where id = (select channel from fx);
update public.upload_schedules set status = 'published', youtube_video_id = 'yt-published-1', published_at = now(), finished_at = now(), next_attempt_at = null
where workspace_id = (select id from ws);
update public.workspaces set name = 'renamed after the snapshot' where id = (select id from ws);
update public.videos set title = 'retitled after the snapshot' where id = (select video from fx);

-- The rows of every table a restore must not rewind, as they are now.
create temp table kept (label text, tbl text, n bigint, digest text) on commit drop;
create function pg_temp.keep(label text) returns void language plpgsql as $$
declare t record;
begin
  for t in select tt.* from ops.tenant_tables() tt join ops.backup_table_classes k on k.table_name::regclass = tt.tbl and k.class <> 'content' loop
    execute format('insert into kept select $2, $3, count(*), md5(coalesce(string_agg(row_to_json(t)::text, '','' order by row_to_json(t)::text), '''')) from %s t where %s',
      t.tbl, ops.backup_scope_predicate(t.scope, t.key_column, t.parent, t.parent_key))
    using (select id from ws), label, t.tbl::text;
  end loop;
end $$;
select pg_temp.keep('before');

select lives_ok(format('select ops.restore_workspace(%s, %L)', (select id from snap), (select id from ws)), 'the restore runs');

select isnt((select name from public.workspaces where id = (select id from ws)), 'renamed after the snapshot', 'content comes back: the workspace name');
select isnt((select title from public.videos where id = (select video from fx)), 'retitled after the snapshot', 'content comes back: the video title');
select is((select renders from public.generation_usage where workspace_id = (select id from ws)), 3, 'the monthly render count is not rewound');
select is((select sum(units)::int from public.youtube_quota_usage where workspace_id = (select id from ws)), 9617, 'the quota ledger is not rewound');
select is((select convert_from(refresh_token_enc, 'UTF8') from private.channel_credentials where channel_id = (select channel from fx)), 'refresh-now',
  'the channel keeps its present tokens');
select isnt((select used_at from private.youtube_oauth_states where state_hash = repeat('a', 64)), null, 'a used OAuth state stays used');
select is((select status from public.channels where id = (select channel from fx)), 'reauth_required', 'the channel keeps its present connection state');
select pg_temp.keep('after');
select set_eq($$select tbl, n, digest from kept where label = 'after'$$, $$select tbl, n, digest from kept where label = 'before'$$,
  'every ledger, credential and external-state table of the workspace is exactly as before the restore');

-- Section: content made after the snapshot takes its dependent rows with it

insert into public.channels (workspace_id, youtube_channel_id, title, connected_by, connected_at)
values ((select id from ws), 'UCrcLater' || replace((select id from ws)::text, '-', ''), 'Connected later', tests.get_user_id('rc_owner'), now());
create temp table later on commit drop as
select (select id from public.channels where title = 'Connected later' and workspace_id = (select id from ws)) as channel;
insert into private.channel_credentials (channel_id, refresh_token_enc, scopes) values ((select channel from later), 'later'::bytea, '{}');
insert into public.sync_runs (workspace_id, channel_id, trigger, status, requested_by)
values ((select id from ws), (select channel from later), 'connect', 'succeeded', tests.get_user_id('rc_owner'));
insert into public.youtube_quota_usage (workspace_id, channel_id, day, endpoint, units, calls)
values ((select id from ws), (select channel from later), current_date, 'channels.list', 1, 1);
update public.upload_schedules set channel_id = (select channel from later) where workspace_id = (select id from ws);

select lives_ok(format('select ops.restore_workspace(%s, %L)', (select id from snap), (select id from ws)), 'a second restore runs');
select ok(not exists (select 1 from public.channels where id = (select channel from later))
    and not exists (select 1 from private.channel_credentials where channel_id = (select channel from later))
    and not exists (select 1 from public.sync_runs where channel_id = (select channel from later)),
  'a channel connected after the snapshot goes, with its tokens and syncs (ON DELETE CASCADE)');
select is((select sum(units)::int from public.youtube_quota_usage where workspace_id = (select id from ws) and channel_id is null), 1,
  'its quota stays spent, without the channel (ON DELETE SET NULL)');
select is((select count(*)::int from public.upload_schedules where workspace_id = (select id from ws) and channel_id is null and status = 'published'), 1,
  'the published upload stays, without the channel (ON DELETE SET NULL (channel_id))');

select * from finish();
rollback;
