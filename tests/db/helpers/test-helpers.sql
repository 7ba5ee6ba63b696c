-- pgTAP helpers for tests/db/*.test.sql. The test runner applies this file once to the test
-- database (after the migrations, before pg_prove); it never goes near production. Re-running it
-- is safe: it rebuilds the `tests` schema.
--
-- Users:    tests.create_user(identifier, email?, user_metadata?, app_metadata?) -> uuid
--           tests.get_user_id(identifier) -> uuid
-- Uploads:  tests.create_upload_fixture(owner, label) -> (name, id) rows: ws, channel, content, job
-- Sessions: tests.authenticate_as(identifier)      role authenticated + that user's JWT claims
--           tests.authenticate_as_anon()           role anon, as with the anon key
--           tests.authenticate_as_service_role()   role service_role, as with the service key
--           tests.clear_authentication()           back to the session user, claims cleared
--           All of them set what PostgREST sets for a request: `set local role` and
--           set_config('request.jwt.claims', <claims json>, true); they last until the end of
--           the (test's) transaction.
-- Tenancy:  tests.create_fixture_rows(workspace_id, owner)   <- EXTEND for every new public table
--           tests.min_read_role(table)                       <- extend if a table is owner-only
--           tests.tenant_tables(), tests.probe(actor, sql, grant_all_on?), tests.tenancy_matrix(...)
--             used by 10-tenancy-matrix.test.sql.
-- Backups:  tests.fingerprint_workspace(label, workspace_id)  each content table's rows of the
--             workspace as (table, count, digest), into tests.workspace_fingerprints under label

set client_min_messages = warning;

create extension if not exists pgtap with schema extensions;

-- Recreated from scratch on every application, so a changed helper signature never collides
-- with an older one.
drop schema if exists tests cascade;
create schema tests;

-- identifier -> user id of the users a test created; rows vanish with the test's rollback.
create table tests.users (
  identifier text primary key,
  id uuid not null unique
);

-- Section: users

-- Inserts the row GoTrue inserts on email sign-up, so the sign-up trigger fires as in production.
create or replace function tests.create_user(
  identifier text,
  email text default null,
  user_metadata jsonb default '{}'::jsonb,
  app_metadata jsonb default '{}'::jsonb
) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  new_id uuid := gen_random_uuid();
begin
  insert into auth.users (
    instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
    confirmation_token, recovery_token, raw_app_meta_data, raw_user_meta_data,
    created_at, updated_at
  ) values (
    '00000000-0000-0000-0000-000000000000', new_id, 'authenticated', 'authenticated',
    lower(coalesce(create_user.email, create_user.identifier || '@example.test')),
    extensions.crypt('password-' || create_user.identifier, extensions.gen_salt('bf', 4)), now(),
    '', '',
    '{"provider": "email", "providers": ["email"]}'::jsonb || coalesce(create_user.app_metadata, '{}'::jsonb),
    coalesce(create_user.user_metadata, '{}'::jsonb),
    now(), now()
  );
  insert into tests.users (identifier, id) values (create_user.identifier, new_id);
  return new_id;
end
$$;

-- What every upload-worker test starts from: a new user `owner`, their workspace, an active
-- channel ('UC<label>Channel', titled after the label) and an approved script rendered into a
-- ready video (idempotency key '<label>-ready'). Answers (name, id) rows for ws, channel, content
-- and job, for the test's ids table.
create or replace function tests.create_upload_fixture(owner text, label text)
returns table (name text, id uuid)
language plpgsql security definer set search_path = '' as $$
declare
  new_user uuid;
  ws uuid;
  channel uuid;
  content uuid;
  job uuid;
begin
  new_user := tests.create_user(create_upload_fixture.owner);
  select m.workspace_id into ws from public.workspace_members m where m.user_id = new_user;
  insert into public.channels (workspace_id, youtube_channel_id, title, status)
  values (ws, 'UC' || create_upload_fixture.label || 'Channel', initcap(create_upload_fixture.label), 'active') returning channels.id into channel;
  insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, approved_version)
  values (ws, 'script', '{}', 't', 'm', '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}', 'approved', 1)
  returning generated_content.id into content;
  insert into public.video_jobs (workspace_id, content_id, content_version, render_params, status, progress, video_url,
    webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, finished_at)
  values (ws, content, 1, '{}', 'ready', 100, 'https://cdn.example.test/v.mp4', repeat('a', 64), now() + interval '1 hour',
    create_upload_fixture.label || '-ready', repeat('a', 64), now())
  returning video_jobs.id into job;
  return query values ('ws', ws), ('channel', channel), ('content', content), ('job', job);
end
$$;

create or replace function tests.get_user_id(identifier text) returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  found_id uuid;
begin
  select u.id into found_id from tests.users u where u.identifier = get_user_id.identifier;
  if found_id is null then
    raise exception 'tests.get_user_id: no test user "%" (create it with tests.create_user)', identifier;
  end if;
  return found_id;
end
$$;

-- The access token payload GoTrue would issue for the user, read with the definer's rights
-- because the caller may already be acting as another user.
create or replace function tests.jwt_claims_of(identifier text) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'aud', 'authenticated',
    'exp', extract(epoch from now() + interval '1 hour')::bigint,
    'iat', extract(epoch from now())::bigint,
    'sub', u.id,
    'email', coalesce(u.email, ''),
    'phone', coalesce(u.phone, ''),
    'role', 'authenticated',
    'aal', 'aal1',
    'amr', jsonb_build_array(jsonb_build_object('method', 'password', 'timestamp', extract(epoch from now())::bigint)),
    'session_id', gen_random_uuid(),
    'is_anonymous', u.is_anonymous,
    'app_metadata', coalesce(u.raw_app_meta_data, '{}'::jsonb),
    'user_metadata', coalesce(u.raw_user_meta_data, '{}'::jsonb)
  )
  from auth.users u
  where u.id = tests.get_user_id(jwt_claims_of.identifier)
$$;

-- Section: sessions

-- Clears both the current claims setting and the per-claim settings older PostgREST versions
-- wrote, since auth.uid() would still read the latter.
create or replace function tests.set_claims(claims jsonb) returns void
language plpgsql as $$
begin
  perform set_config('request.jwt.claims', coalesce(claims::text, ''), true);
  perform set_config('request.jwt.claim', '', true);
  perform set_config('request.jwt.claim.sub', '', true);
  perform set_config('request.jwt.claim.role', '', true);
  perform set_config('request.jwt.claim.email', '', true);
end
$$;

create or replace function tests.authenticate_as(identifier text) returns void
language plpgsql as $$
declare
  claims jsonb := tests.jwt_claims_of(identifier);
begin
  if claims is null then
    raise exception 'tests.authenticate_as: user "%" no longer exists', identifier;
  end if;
  perform tests.set_claims(claims);
  perform set_config('role', 'authenticated', true);
end
$$;

create or replace function tests.authenticate_as_anon() returns void
language plpgsql as $$
begin
  perform tests.set_claims(jsonb_build_object('role', 'anon', 'iss', 'supabase'));
  perform set_config('role', 'anon', true);
end
$$;

create or replace function tests.authenticate_as_service_role() returns void
language plpgsql as $$
begin
  perform tests.set_claims(jsonb_build_object('role', 'service_role', 'iss', 'supabase'));
  perform set_config('role', 'service_role', true);
end
$$;

create or replace function tests.clear_authentication() returns void
language plpgsql as $$
begin
  perform tests.set_claims(null);
  perform set_config('role', 'none', true);
end
$$;

-- Section: tenancy fixtures
--
-- EXTEND THIS when a migration adds a table to `public`: insert at least one row of the new
-- table that belongs to `workspace_id` (or, for a per-user table, to `owner`). It runs as the
-- superuser, so RLS does not get in the way; use `owner` for created_by-style columns.
-- 10-tenancy-matrix.test.sql fails for every public table that has no row of the workspace after
-- this function ran, so a table cannot be added without being covered by the matrix.
-- Rows that already exist for a fresh user's personal workspace (from the sign-up trigger):
-- workspaces, workspace_members, profiles.
create or replace function tests.create_fixture_rows(workspace_id uuid, owner uuid) returns void
language plpgsql set search_path = '' as $$
declare
  channel uuid;
  video uuid;
  content uuid;
  schedule uuid;
begin
  insert into public.invitations (workspace_id, email, role, token_hash, invited_by)
  values (
    create_fixture_rows.workspace_id, 'fixture-invitee@example.test', 'editor',
    encode(sha256(convert_to('fixture-token-' || gen_random_uuid(), 'UTF8')), 'hex'),
    create_fixture_rows.owner
  );

  -- Email notification settings (20261201001500_notifications): the owner's own row.
  insert into public.notification_preferences (user_id) values (create_fixture_rows.owner)
  on conflict (user_id) do nothing;

  -- YouTube (20261201000200_channels_and_credentials, 20261201000300_videos_metrics_and_scores): a channel with one video, a day of metrics,
  -- its score and history, a sync run and a day of quota usage. Ids derive from the workspace so
  -- the fixture can run for several workspaces in one test.
  insert into public.channels (workspace_id, youtube_channel_id, title, connected_by, connected_at)
  values (create_fixture_rows.workspace_id, 'UCfixture' || replace(create_fixture_rows.workspace_id::text, '-', ''),
    'Fixture channel', create_fixture_rows.owner, now())
  returning id into channel;
  insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
  values (create_fixture_rows.workspace_id, channel, 'fx' || replace(create_fixture_rows.workspace_id::text, '-', ''),
    'Fixture video', now() - interval '30 days', 300, false)
  returning id into video;
  insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched,
    average_view_duration, average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
  values (create_fixture_rows.workspace_id, video, current_date - 29, 100, 250, 150, 50, 5, 1, 1, 2, 0);
  insert into public.performance_scores (video_id, workspace_id, channel_id, score, components)
  values (video, create_fixture_rows.workspace_id, channel, 50, '{"version": 1}');
  insert into public.performance_score_history (workspace_id, video_id, channel_id, scored_on, score)
  values (create_fixture_rows.workspace_id, video, channel, current_date, 50);
  insert into public.sync_runs (workspace_id, channel_id, trigger, status, requested_by)
  values (create_fixture_rows.workspace_id, channel, 'manual', 'succeeded', create_fixture_rows.owner);
  insert into public.youtube_quota_usage (workspace_id, channel_id, day, endpoint, units, calls)
  values (create_fixture_rows.workspace_id, channel, current_date, 'videos.list', 1, 1);

  -- Content and renders (20261201001100_generated_content, 20261201001200_video_jobs): an
  -- approved script with its version and transitions, the Gemini call that made it, a month of
  -- usage and a finished render job.
  insert into public.generated_content (workspace_id, kind, brief, source_videos, prompt_version, model,
    input_tokens, output_tokens, output, current_version, status, created_by, submitted_by, submitted_at,
    reviewed_by, reviewed_at, approved_version)
  values (create_fixture_rows.workspace_id, 'script', '{"topic": "fixture"}', '[]', 'fixture', 'gemini-fixture',
    10, 20, '{"items": [{"title": "Fixture", "hook": "Watch this.", "script": "A fixture script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}', 1, 'approved',
    create_fixture_rows.owner, create_fixture_rows.owner, now(), create_fixture_rows.owner, now(), 1)
  returning id into content;
  insert into public.content_versions (workspace_id, content_id, version, output, created_by)
  values (create_fixture_rows.workspace_id, content, 1, '{"items": [{"title": "Fixture", "hook": "Watch this.", "script": "A fixture script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}',
    create_fixture_rows.owner);
  insert into public.content_transitions (workspace_id, content_id, action, from_status, to_status, version, actor)
  values (create_fixture_rows.workspace_id, content, 'create', null, 'draft', 1, create_fixture_rows.owner),
    (create_fixture_rows.workspace_id, content, 'approve', 'in_review', 'approved', 1, create_fixture_rows.owner);
  insert into public.generation_calls (workspace_id, user_id, content_id, kind, model, prompt_version, attempt, streamed,
    outcome, input_tokens, output_tokens, duration_ms)
  values (create_fixture_rows.workspace_id, create_fixture_rows.owner, content, 'script', 'gemini-fixture', 'fixture', 1,
    false, 'ok', 10, 20, 5);
  insert into public.generation_usage (workspace_id, user_id, month, generations, gemini_calls, input_tokens, output_tokens, renders)
  values (create_fixture_rows.workspace_id, create_fixture_rows.owner, date_trunc('month', now())::date, 1, 1, 10, 20, 1);
  insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress,
    video_url, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, requested_by, finished_at)
  values (create_fixture_rows.workspace_id, content, 1, 'fixture-' || gen_random_uuid(), '{}', 'ready', 100,
    'https://example.test/fixture.mp4', encode(sha256('fixture'::bytea), 'hex'), now() + interval '1 hour',
    'fixture-' || gen_random_uuid(), encode(sha256('fixture'::bytea), 'hex'), create_fixture_rows.owner, now());

  -- Scheduling (20261201001300_upload_schedules): the workspace's settings, a schedule of the
  -- render above on the channel, and its first event.
  insert into public.workspace_settings (workspace_id, missed_schedule_policy, updated_by)
  values (create_fixture_rows.workspace_id, 'publish_late', create_fixture_rows.owner);
  insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, next_attempt_at,
    idempotency_key, request_fingerprint, created_by, updated_by)
  select create_fixture_rows.workspace_id, channel, j.id, 'Fixture upload', now() + interval '30 days',
    now() + interval '30 days' - interval '1 hour', 'fixture-' || gen_random_uuid(), encode(sha256('fixture'::bytea), 'hex'),
    create_fixture_rows.owner, create_fixture_rows.owner
  from public.video_jobs j where j.workspace_id = create_fixture_rows.workspace_id and j.content_id = content
  returning id into schedule;
  insert into public.upload_events (workspace_id, schedule_id, event, to_status, actor_type, actor_id)
  values (create_fixture_rows.workspace_id, schedule, 'created', 'scheduled', 'user', create_fixture_rows.owner);

  -- The learning loop (20261201001600_learning_lineage_and_outcomes): the prompt's
  -- inputs of the content above (its approval decision was recorded by the approve transition),
  -- the lineage of a published upload (written as the publish trigger writes it; a published
  -- schedule here would change what other tests count) and an outcome of the video.
  insert into public.generation_inputs (content_id, workspace_id, request_id, patterns)
  values (content, create_fixture_rows.workspace_id, 'fixture', '{}');
  insert into public.upload_lineage (schedule_id, workspace_id, channel_id, youtube_video_id, published_at, schedule,
    render, content_id, content_version, kind, approval_source)
  values (gen_random_uuid(), create_fixture_rows.workspace_id, channel, 'fx' || replace(create_fixture_rows.workspace_id::text, '-', ''),
    now() - interval '30 days', '{"title": "Fixture"}', '{}', content, 1, 'script', 'none');
  insert into public.video_outcomes (video_id, age_days, workspace_id, channel_id, youtube_video_id, published_at, window_from,
    window_to, views, velocity, retention, engagement, conversion, velocity_percentile, score, peers, channel_median_velocity)
  values (video, 28, create_fixture_rows.workspace_id, channel, 'fx' || replace(create_fixture_rows.workspace_id::text, '-', ''),
    now() - interval '30 days', current_date - 30, current_date - 3, 100, 3.57, 50, 0.07, 20, 50, 50, 1, 3.57)
  on conflict do nothing;
end
$$;

-- The least role that may read a table's rows of its workspace. Viewers read everything unless
-- listed here; the matrix test then asserts that a viewer reads none of them.
create or replace function tests.min_read_role(tbl regclass) returns public.workspace_role
language sql immutable as $$
  select case tbl
    when 'public.invitations'::regclass then 'owner'::public.workspace_role
    -- each user's own row only: no other member reads it (the fixture's row is the owner's)
    when 'public.notification_preferences'::regclass then 'owner'::public.workspace_role
    else 'viewer'::public.workspace_role
  end
$$;

-- Section: tenancy matrix machinery

-- Every table in `public` and how it is tied to a tenant, from the catalog alone (and whether an
-- index leads with that column):
--   workspace  a `workspace_id` column (must be NOT NULL);
--   root       the table `workspace_id` foreign keys point at (workspaces), keyed by its pk;
--   user       no workspace_id, but a NOT NULL single-column reference to auth.users (profiles);
--   null       none of these: the matrix test fails for it.
create or replace function tests.tenant_tables()
returns table (tbl regclass, scope text, tenant_column name, tenant_column_not_null boolean, tenant_column_indexed boolean)
language sql stable as $$
  with public_tables as (
    select c.oid from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p')
  ),
  roots as (
    select distinct con.confrelid as oid
    from pg_catalog.pg_constraint con
    join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
    where con.contype = 'f' and cardinality(con.conkey) = 1 and a.attname = 'workspace_id'
      and con.conrelid in (select oid from public_tables)
  )
  select t.oid::regclass,
    case when ws.attname is not null then 'workspace'
         when r.oid is not null and pk.attname is not null then 'root'
         when usr.attname is not null then 'user' end,
    coalesce(ws.attname, case when r.oid is not null then pk.attname end, usr.attname),
    coalesce(ws.attnotnull, case when r.oid is not null then pk.attnotnull end, usr.attnotnull),
    exists (
      select 1 from pg_catalog.pg_index i
      join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
      where i.indrelid = t.oid
        and a.attname = coalesce(ws.attname, case when r.oid is not null then pk.attname end, usr.attname)
    )
  from public_tables t
  left join pg_catalog.pg_attribute ws
    on ws.attrelid = t.oid and ws.attname = 'workspace_id' and not ws.attisdropped
  left join roots r on r.oid = t.oid
  left join lateral (
    select a.attname, a.attnotnull from pg_catalog.pg_constraint con
    join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
    where con.conrelid = t.oid and con.contype = 'p' and cardinality(con.conkey) = 1
  ) pk on true
  left join lateral (
    select a.attname, a.attnotnull from pg_catalog.pg_constraint con
    join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
    left join pg_catalog.pg_constraint p on p.conrelid = con.conrelid and p.contype = 'p'
    where con.conrelid = t.oid and con.contype = 'f' and cardinality(con.conkey) = 1
      and con.confrelid = 'auth.users'::regclass and a.attnotnull
    order by (a.attnum = any (coalesce(p.conkey, '{}'))) desc, a.attnum
    limit 1
  ) usr on true
$$;

-- Runs `statement` as `actor` ('anon' or a test user's identifier) and always rolls it back, so
-- probes never change the data the next probe sees. Returns {"rows": n} (rows returned or
-- affected) or {"sqlstate": ..., "message": ...} when it raised.
-- With `grant_all_on`, the table's privileges are first granted in full to anon and
-- authenticated (what Supabase's default privileges give every new public table; rolled back
-- with the probe), so what the probe shows is what row level security alone allows.
create or replace function tests.probe(actor text, statement text, grant_all_on regclass default null)
returns jsonb
language plpgsql as $$
declare
  n bigint;
begin
  begin
    if grant_all_on is not null then
      execute format('grant all on %s to anon, authenticated', grant_all_on);
    end if;
    if actor = 'anon' then
      perform tests.authenticate_as_anon();
    else
      perform tests.authenticate_as(actor);
    end if;
    execute statement;
    get diagnostics n = row_count;
    raise exception using errcode = 'TPRB0', message = n::text;
  exception
    when sqlstate 'TPRB0' then
      return jsonb_build_object('rows', sqlerrm::bigint);
    when others then
      return jsonb_build_object('sqlstate', sqlstate, 'message', sqlerrm);
  end;
end
$$;

-- One row per (table, check) for the matrix test. Every probe runs with the table's privileges
-- granted in full to anon and authenticated (see tests.probe), so the matrix proves that row
-- level security alone isolates tenants, whatever grants a migration chose; fewer grants can
-- only take access away. Workspace A (`workspace`) must have fixture rows; `owner` owns it, `viewer` is its viewer, `outsider` belongs to another workspace only.
-- "A's rows" are those whose tenant column equals A (or, for per-user tables, A's owner). A
-- viewer's write probes leave out rows that reference the viewer themselves (their own
-- membership, which they may delete to leave).
create or replace function tests.tenancy_matrix(workspace uuid, owner text, viewer text, outsider text)
returns table (description text, passed boolean, details text)
language plpgsql as $$
declare
  t record;
  owner_id uuid := tests.get_user_id(owner);
  viewer_id uuid := tests.get_user_id(viewer);
  a_filter text;
  viewer_filter text;
  expected bigint;
  sample jsonb;
  res jsonb;
  actor record;
  read_role public.workspace_role;
begin
  -- Views bypass RLS unless they run with the caller's rights; materialized views cannot have RLS.
  for t in
    select c.oid::regclass as rel, c.relkind,
      coalesce(c.reloptions && array['security_invoker=true', 'security_invoker=on', 'security_invoker=1'], false) as invoker
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('v', 'm')
    order by c.oid::regclass::text
  loop
    return query select
      format('%s: %s is security_invoker', t.rel, case t.relkind when 'v' then 'view' else 'materialized view' end),
      t.relkind = 'v' and t.invoker,
      'views in public must be created with (security_invoker = true); materialized views do not belong in public'::text;
  end loop;

  for t in select * from tests.tenant_tables() order by tbl::text loop
    return query select format('%s: row level security is enabled', t.tbl),
      (select c.relrowsecurity from pg_catalog.pg_class c where c.oid = t.tbl), null::text;

    return query select format('%s: tied to a tenant by a NOT NULL workspace_id or user reference', t.tbl),
      t.scope is not null and t.tenant_column_not_null,
      format('scope=%s column=%s not_null=%s', t.scope, t.tenant_column, t.tenant_column_not_null);
    if t.scope is null then
      continue;
    end if;
    -- Policies find a tenant's rows through this column; other filters only narrow those rows.
    return query select format('%s: an index leads with the tenant column %s', t.tbl, t.tenant_column),
      t.tenant_column_indexed, 'policies filter on it: create an index on it'::text;

    a_filter := format('%I = %L', t.tenant_column, case t.scope when 'user' then owner_id else workspace end);
    -- rows of A not referencing the viewer through any column that points at auth.users
    select a_filter || coalesce(string_agg(format(' and %I is distinct from %L', a.attname, viewer_id), ''), '')
      into viewer_filter
    from pg_catalog.pg_constraint con
    join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
    where con.conrelid = t.tbl and con.contype = 'f' and cardinality(con.conkey) = 1
      and con.confrelid = 'auth.users'::regclass;

    execute format('select count(*) from %s where %s', t.tbl, a_filter) into expected;
    return query select format('%s: the fixture has rows of workspace A', t.tbl), expected > 0,
      format('no row where %s: add one to tests.create_fixture_rows()', a_filter);
    if expected = 0 then
      continue;
    end if;

    -- anon: nothing at all, in any workspace
    res := tests.probe('anon', format('select * from %s', t.tbl), t.tbl);
    return query select format('%s: anon reads no rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;
    res := tests.probe('anon', tests.copy_row_statement(t.tbl, t.tenant_column, a_filter, 'anon'), t.tbl);
    return query select format('%s: anon cannot insert', t.tbl),
      coalesce(res ->> 'sqlstate' = '42501', false), res::text;
    res := tests.probe('anon', tests.noop_update_statement(t.tbl, t.tenant_column, 'true', 'anon'), t.tbl);
    return query select format('%s: anon updates no rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;
    res := tests.probe('anon', format('delete from %s', t.tbl), t.tbl);
    return query select format('%s: anon deletes no rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;

    -- the owner sees all of A's rows (the policies are not merely empty)
    res := tests.probe(owner, format('select * from %s where %s', t.tbl, a_filter), t.tbl);
    return query select format('%s: owner of A reads all of A''s rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = expected, false), format('expected %s, got %s', expected, res);

    -- a member of another workspace: nothing of A, and cannot write into A
    res := tests.probe(outsider, format('select * from %s where %s', t.tbl, a_filter), t.tbl);
    return query select format('%s: user of another workspace reads none of A''s rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;
    res := tests.probe(outsider, tests.copy_row_statement(t.tbl, t.tenant_column, a_filter, 'authenticated'), t.tbl);
    return query select format('%s: user of another workspace cannot insert into A', t.tbl),
      coalesce(res ->> 'sqlstate' = '42501', false), res::text;
    res := tests.probe(outsider, tests.noop_update_statement(t.tbl, t.tenant_column, a_filter, 'authenticated'), t.tbl);
    return query select format('%s: user of another workspace updates none of A''s rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;
    res := tests.probe(outsider, format('delete from %s where %s', t.tbl, a_filter), t.tbl);
    return query select format('%s: user of another workspace deletes none of A''s rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;

    -- a viewer of A: reads (unless the table is owner-only), never writes
    read_role := tests.min_read_role(t.tbl);
    res := tests.probe(viewer, format('select * from %s where %s', t.tbl, a_filter), t.tbl);
    if read_role = 'viewer' then
      return query select format('%s: viewer of A reads A''s rows', t.tbl),
        coalesce((res ->> 'rows')::bigint = expected, false), format('expected %s, got %s', expected, res);
    else
      return query select format('%s: viewer of A reads none of A''s rows (%s only)', t.tbl, read_role),
        coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;
    end if;
    res := tests.probe(viewer, tests.copy_row_statement(t.tbl, t.tenant_column, viewer_filter, 'authenticated'), t.tbl);
    return query select format('%s: viewer of A cannot insert', t.tbl),
      coalesce(res ->> 'sqlstate' = '42501', false), res::text;
    res := tests.probe(viewer, tests.noop_update_statement(t.tbl, t.tenant_column, viewer_filter, 'authenticated'), t.tbl);
    return query select format('%s: viewer of A updates none of A''s rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;
    res := tests.probe(viewer, format('delete from %s where %s', t.tbl, viewer_filter), t.tbl);
    return query select format('%s: viewer of A deletes none of A''s rows', t.tbl),
      coalesce((res ->> 'rows')::bigint = 0, res ->> 'sqlstate' = '42501'), res::text;
  end loop;
end
$$;

-- An INSERT of a copy of one of the rows matching `filter` (read now, as the superuser), with
-- fresh values for the primary-key columns other than the tenant column, through
-- jsonb_populate_record. It lists the columns `api_role` may insert (so RLS, not a missing
-- column grant, is what stops it), or all writable columns when the role may insert none.
create or replace function tests.copy_row_statement(tbl regclass, tenant_column name, filter text, api_role text)
returns text
language plpgsql as $$
declare
  original jsonb;
  key record;
  cols text;
begin
  execute format('select to_jsonb(x) from %s x where %s limit 1', tbl, filter) into original;
  if original is null then
    raise exception 'tests.copy_row_statement: no row of % where %', tbl, filter;
  end if;
  for key in
    select a.attname, a.atttypid::regtype::text as typ
    from pg_catalog.pg_constraint con
    join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = any (con.conkey)
    where con.conrelid = tbl and con.contype = 'p' and a.attname <> tenant_column
  loop
    original := jsonb_set(original, array[key.attname::text], case
      when key.typ = 'uuid' then to_jsonb(gen_random_uuid())
      when key.typ in ('smallint', 'integer', 'bigint', 'numeric') then to_jsonb(1000000 + floor(random() * 30000)::int)
      -- natural keys such as (video_id, day): a date far from any real one
      when key.typ = 'date' then to_jsonb(date '3000-01-01' + floor(random() * 30000)::int)
      when key.typ in ('timestamp with time zone', 'timestamp without time zone')
        then to_jsonb(timestamp '3000-01-01' + floor(random() * 30000)::int * interval '1 day')
      else to_jsonb('matrix-' || gen_random_uuid())
    end);
  end loop;
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
  from pg_catalog.pg_attribute a
  where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped
    and a.attgenerated = '' and a.attidentity <> 'a'
    and has_column_privilege(api_role, tbl, a.attnum, 'INSERT');
  if cols is null then
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
    from pg_catalog.pg_attribute a
    where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped
      and a.attgenerated = '' and a.attidentity <> 'a';
  end if;
  return format('insert into %s (%s) select %s from jsonb_populate_record(null::%s, %L::jsonb)',
    tbl, cols, cols, tbl, original);
end
$$;

-- An UPDATE that sets a column to itself on the rows matching `filter`: a column `api_role` may
-- update when there is one (so RLS is what decides), else the tenant column.
create or replace function tests.noop_update_statement(tbl regclass, tenant_column name, filter text, api_role text)
returns text
language plpgsql as $$
declare
  col name;
begin
  select a.attname into col
  from pg_catalog.pg_attribute a
  where a.attrelid = tbl and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
    and has_column_privilege(api_role, tbl, a.attnum, 'UPDATE')
  order by a.attnum
  limit 1;
  return format('update %s set %I = %I where %s', tbl, coalesce(col, tenant_column), coalesce(col, tenant_column), filter);
end
$$;

-- Section: backups

-- label -> each content table's (count, digest) of one workspace; rows vanish with the test's rollback.
create table tests.workspace_fingerprints (
  label text not null,
  tbl text not null,
  n bigint not null,
  digest text not null
);

-- Every content table's rows of a workspace as (table, count, digest), computed independently of
-- the snapshot and restore code (row_to_json text, not the snapshot's own expression), saved
-- under `label`: a backup test compares two labels with set_eq.
create or replace function tests.fingerprint_workspace(label text, workspace uuid) returns void
language plpgsql set search_path = '' as $$
declare t record;
begin
  for t in select * from ops.backup_tables() loop
    -- a channel's status is its present connection state, not restored (20261201001400_backup_snapshots)
    execute format('insert into tests.workspace_fingerprints select $2, $3, count(*), md5(coalesce(string_agg((row_to_json(t)::jsonb - %L)::text, '','' order by (row_to_json(t)::jsonb - %L)::text), '''')) from %s t where %s',
      case when t.tbl = 'public.channels'::regclass then 'status' else '' end, case when t.tbl = 'public.channels'::regclass then 'status' else '' end,
      t.tbl, ops.backup_scope_predicate(t.scope, t.key_column, t.parent, t.parent_key))
    using workspace, label, t.tbl::text;
  end loop;
end
$$;

-- Section: grants (tests switch to the API roles and keep calling these helpers)

grant usage on schema tests to anon, authenticated, service_role;
grant execute on all functions in schema tests to anon, authenticated, service_role;
revoke all on tests.users from anon, authenticated, service_role;
revoke all on tests.workspace_fingerprints from anon, authenticated, service_role;
