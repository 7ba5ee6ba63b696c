-- Content generated with Gemini from what performed, and its human review: the content itself
-- (current output and review state), every version of it, every action taken on it, the Gemini
-- calls behind it with their tokens, and usage per user per month.
--
-- Who writes what:
--   * generate-content creates content through public.create_generated_content() as the caller
--     (editors and owners), after Gemini answered; the function records each Gemini call with its
--     tokens through public.record_generation_calls() (service role only), which also keeps
--     public.generation_usage up to date. Usage and call rows are therefore facts the user
--     cannot write or lower.
--   * Review goes through public.edit_generated_content() (a new version; the content returns to
--     draft) and public.review_generated_content() (submit, approve, reject with a reason).
--     They are security definer, check the caller's role themselves and are the only way the
--     review state changes: the tables grant API roles SELECT only and have no write policies, so
--     direct supabase-js calls cannot skip a step of the state machine either.
--
-- State machine of generated_content.status (every action leaves a row in content_transitions
-- with who and when; versions are kept in content_versions):
--   create                       -> draft
--   edit     (any status)        -> draft      a new version; an approval never covers an edit
--   submit   draft | rejected    -> in_review
--   approve  in_review           -> approved   approved_version = the version reviewed
--   reject   in_review           -> rejected   a reason is required
-- Errors raised (the function layer maps them): CEC01 content not found (or not visible) -> 404,
-- CEC02 action not allowed in the current status -> 409, 42501 role too low -> 403,
-- 22023 invalid argument (missing reason, bad output) -> 400.

create type public.content_kind as enum ('idea', 'title', 'script', 'description', 'tags', 'thumbnail_prompt');

create type public.content_status as enum ('draft', 'in_review', 'approved', 'rejected');

create type public.content_action as enum ('create', 'edit', 'submit', 'approve', 'reject');

create table public.generated_content (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  kind public.content_kind not null,
  -- the request as generate-content validated it: topic, brief, tone, language, target_format,
  -- count, channel_id
  brief jsonb not null check (jsonb_typeof(brief) = 'object'),
  -- snapshot of the videos the prompt drew on ([{video_id, youtube_video_id, title, score, ...}]),
  -- kept as they were when the prompt was built
  source_videos jsonb not null default '[]' check (jsonb_typeof(source_videos) = 'array'),
  prompt_version text not null check (char_length(prompt_version) between 1 and 50),
  model text not null check (char_length(model) between 1 and 100),
  -- tokens of all Gemini calls that produced it (retries included); per call: generation_calls
  input_tokens integer not null default 0 check (input_tokens >= 0),
  output_tokens integer not null default 0 check (output_tokens >= 0),
  -- the current version's structured output ({ items: [...] }, shape per kind)
  output jsonb not null check (jsonb_typeof(output) = 'object'),
  current_version integer not null default 1 check (current_version >= 1),
  status public.content_status not null default 'draft',
  created_by uuid references auth.users (id) on delete set null,
  submitted_by uuid references auth.users (id) on delete set null,
  submitted_at timestamptz,
  reviewed_by uuid references auth.users (id) on delete set null,
  reviewed_at timestamptz,
  -- the version an approval covers; set exactly while approved
  approved_version integer,
  -- the last rejection's reason (kept while the content is edited, so the editor sees it)
  rejection_reason text check (char_length(rejection_reason) <= 1000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- target of the (content_id, workspace_id) foreign keys: versions, transitions and render jobs
  -- of a content always belong to its workspace
  unique (id, workspace_id),
  constraint generated_content_approved_has_version check ((status = 'approved') = (approved_version is not null)),
  constraint generated_content_rejected_has_reason check (status <> 'rejected' or rejection_reason is not null)
);

create index generated_content_workspace_id_idx on public.generated_content (workspace_id, created_at desc);

create index generated_content_created_by_idx on public.generated_content (created_by);

create index generated_content_submitted_by_idx on public.generated_content (submitted_by);

create index generated_content_reviewed_by_idx on public.generated_content (reviewed_by);

create table public.content_versions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  content_id uuid not null,
  version integer not null check (version >= 1),
  output jsonb not null check (jsonb_typeof(output) = 'object'),
  note text check (char_length(note) <= 500),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  unique (content_id, version),
  foreign key (content_id, workspace_id) references public.generated_content (id, workspace_id)
    on update cascade on delete cascade
);

create index content_versions_workspace_id_idx on public.content_versions (workspace_id);

create index content_versions_created_by_idx on public.content_versions (created_by);

create table public.content_transitions (
  -- orders the actions, also those of one transaction (which share `at`)
  id bigint generated always as identity primary key,
  workspace_id uuid not null,
  content_id uuid not null,
  action public.content_action not null,
  from_status public.content_status,
  to_status public.content_status not null,
  -- the version the action applied to (for edit: the new one)
  version integer not null check (version >= 1),
  reason text check (char_length(reason) <= 1000),
  actor uuid references auth.users (id) on delete set null,
  at timestamptz not null default now(),
  check ((action = 'create') = (from_status is null)),
  foreign key (content_id, workspace_id) references public.generated_content (id, workspace_id)
    on update cascade on delete cascade
);

create index content_transitions_workspace_id_idx on public.content_transitions (workspace_id);

create index content_transitions_content_id_at_idx on public.content_transitions (content_id, at);

create index content_transitions_actor_idx on public.content_transitions (actor);

-- One row per Gemini call (each attempt of a generation, failed ones included), with its tokens.
-- content_id is a plain column rather than a foreign key: the calls are written after the
-- content (or for a generation that produced none) and stay as a record when content goes.
create table public.generation_calls (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid references auth.users (id) on delete set null,
  content_id uuid,
  request_id text,
  kind public.content_kind not null,
  model text not null,
  prompt_version text not null,
  attempt smallint not null check (attempt >= 1),
  streamed boolean not null,
  outcome text not null check (outcome in (
    'ok', 'invalid_output', 'max_tokens', 'safety', 'blocked', 'rate_limited', 'unavailable', 'rejected', 'aborted')),
  input_tokens integer not null default 0 check (input_tokens >= 0),
  output_tokens integer not null default 0 check (output_tokens >= 0),
  duration_ms integer not null check (duration_ms >= 0),
  error text check (char_length(error) <= 2000),
  created_at timestamptz not null default now()
);

create index generation_calls_workspace_id_idx on public.generation_calls (workspace_id, created_at desc);

create index generation_calls_user_id_idx on public.generation_calls (user_id);

create index generation_calls_content_id_idx on public.generation_calls (content_id);

-- Usage per user, workspace and calendar month (UTC). Limits that apply per user add the rows of
-- all their workspaces.
create table public.generation_usage (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  month date not null check (extract(day from month) = 1),
  generations integer not null default 0 check (generations >= 0),
  gemini_calls integer not null default 0 check (gemini_calls >= 0),
  input_tokens bigint not null default 0 check (input_tokens >= 0),
  output_tokens bigint not null default 0 check (output_tokens >= 0),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, user_id, month)
);

create index generation_usage_user_id_month_idx on public.generation_usage (user_id, month);

alter table public.generated_content enable row level security;

alter table public.content_versions enable row level security;

alter table public.content_transitions enable row level security;

alter table public.generation_calls enable row level security;

alter table public.generation_usage enable row level security;

revoke all on public.generated_content from anon, authenticated;

revoke all on public.content_versions from anon, authenticated;

revoke all on public.content_transitions from anon, authenticated;

revoke all on public.generation_calls from anon, authenticated;

revoke all on public.generation_usage from anon, authenticated;

grant all on public.generated_content to service_role;

grant all on public.content_versions to service_role;

grant all on public.content_transitions to service_role;

grant all on public.generation_calls to service_role;

grant all on public.generation_usage to service_role;

grant select on public.generated_content to authenticated;

grant select on public.content_versions to authenticated;

grant select on public.content_transitions to authenticated;

grant select on public.generation_calls to authenticated;

grant select on public.generation_usage to authenticated;

alter table public.generation_usage add column renders integer not null default 0 check (renders >= 0);

-- POST /content/:id/reject: a reason of 3 to 1,000 characters.
alter table public.generated_content add constraint generated_content_rejection_reason_length
  check (char_length(rejection_reason) between 3 and 1000);

alter table public.content_transitions add constraint content_transitions_reject_reason_length
  check (action <> 'reject' or char_length(reason) between 3 and 1000);

-- The calendar month (UTC) a moment belongs to, as its first day.
create function private.usage_month(at timestamptz default now()) returns date
language sql stable set search_path = '' as $$
  select date_trunc('month', usage_month.at at time zone 'UTC')::date
$$;

revoke all on function private.usage_month(timestamptz) from public, anon, authenticated, service_role;

create function private.content_for_change(content_id uuid, what text) returns public.generated_content
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

revoke all on function private.content_for_change(uuid, text) from public, anon, authenticated, service_role;

-- submit | approve | reject (reject needs a reason), following the state machine above.
create function public.review_generated_content(content_id uuid, action public.content_action, reason text default null)
returns public.generated_content
language plpgsql volatile security definer set search_path = '' as $$
declare
  caller uuid := (select auth.uid());
  c public.generated_content;
  act public.content_action := review_generated_content.action;
  why text := nullif(btrim(review_generated_content.reason), '');
  target public.content_status;
begin
  if act not in ('submit', 'approve', 'reject') then
    raise exception 'unknown review action %; use submit, approve or reject', act using errcode = '22023';
  end if;
  if act = 'reject' and why is null then
    raise exception 'a reason is required to reject content' using errcode = '22023';
  end if;
  c := private.content_for_change(review_generated_content.content_id, 'review content');
  target := case act when 'submit' then 'in_review' when 'approve' then 'approved' else 'rejected' end;
  if (act = 'submit' and c.status not in ('draft', 'rejected'))
     or (act in ('approve', 'reject') and c.status <> 'in_review') then
    raise exception 'cannot % content that is %', act, replace(c.status::text, '_', ' ')
      using errcode = 'CEC02',
        hint = case when act = 'submit' then 'only drafts and rejected content can be submitted; edit it to make a new draft'
                    else 'submit it for review first' end;
  end if;
  insert into public.content_transitions (workspace_id, content_id, action, from_status, to_status, version, reason, actor)
  values (c.workspace_id, c.id, act, c.status, target, c.current_version, why, caller);
  update public.generated_content g set
    status = target,
    submitted_by = case when act = 'submit' then caller else g.submitted_by end,
    submitted_at = case when act = 'submit' then now() else g.submitted_at end,
    reviewed_by = case when act = 'submit' then g.reviewed_by else caller end,
    reviewed_at = case when act = 'submit' then g.reviewed_at else now() end,
    approved_version = case when act = 'approve' then g.current_version end,
    rejection_reason = case when act = 'reject' then why when act = 'approve' then null else g.rejection_reason end
  where g.id = c.id
  returning * into c;
  return c;
end
$$;

revoke all on function public.review_generated_content(uuid, public.content_action, text) from public, anon;

grant execute on function public.review_generated_content(uuid, public.content_action, text) to authenticated;

-- Records the Gemini calls of one generation request and adds them to the caller's usage of the
-- month. calls: [{attempt, streamed, outcome, input_tokens, output_tokens, duration_ms, error}].
-- A request that produced content (content_id not null) counts as one generation.
create function private.record_generation_calls(
  workspace_id uuid, user_id uuid, content_id uuid, request_id text, kind public.content_kind,
  model text, prompt_version text, calls jsonb
) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  n integer;
  tokens_in bigint;
  tokens_out bigint;
begin
  insert into public.generation_calls (workspace_id, user_id, content_id, request_id, kind, model, prompt_version,
    attempt, streamed, outcome, input_tokens, output_tokens, duration_ms, error)
  select record_generation_calls.workspace_id, record_generation_calls.user_id, record_generation_calls.content_id,
    record_generation_calls.request_id, record_generation_calls.kind, record_generation_calls.model,
    record_generation_calls.prompt_version, c.attempt, c.streamed, c.outcome,
    coalesce(c.input_tokens, 0), coalesce(c.output_tokens, 0), greatest(0, coalesce(c.duration_ms, 0)), left(c.error, 2000)
  from jsonb_to_recordset(coalesce(record_generation_calls.calls, '[]'::jsonb))
    as c(attempt smallint, streamed boolean, outcome text, input_tokens integer, output_tokens integer,
         duration_ms integer, error text);
  get diagnostics n = row_count;
  if n = 0 and record_generation_calls.content_id is null then
    return;
  end if;
  select coalesce(sum((c ->> 'input_tokens')::bigint), 0), coalesce(sum((c ->> 'output_tokens')::bigint), 0)
    into tokens_in, tokens_out
  from jsonb_array_elements(coalesce(record_generation_calls.calls, '[]'::jsonb)) c;
  insert into public.generation_usage as u (workspace_id, user_id, month, generations, gemini_calls, input_tokens, output_tokens)
  values (record_generation_calls.workspace_id, record_generation_calls.user_id, private.usage_month(),
    case when record_generation_calls.content_id is null then 0 else 1 end, n, tokens_in, tokens_out)
  on conflict on constraint generation_usage_pkey do update set
    generations = u.generations + excluded.generations,
    gemini_calls = u.gemini_calls + excluded.gemini_calls,
    input_tokens = u.input_tokens + excluded.input_tokens,
    output_tokens = u.output_tokens + excluded.output_tokens,
    updated_at = now();
end
$$;

revoke all on function private.record_generation_calls(uuid, uuid, uuid, text, public.content_kind, text, text, jsonb) from public, anon;

revoke all on function private.record_generation_calls(uuid, uuid, uuid, text, public.content_kind, text, text, jsonb) from authenticated;

grant execute on function private.record_generation_calls(uuid, uuid, uuid, text, public.content_kind, text, text, jsonb) to service_role;

-- generate-content records the calls while it saves the content, on another connection; when
-- the save fails after all (the caller lost their role meanwhile), the calls made no content and
-- the generation does not count.
create function private.unlink_generation_calls(content_id uuid) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  c public.generation_calls;
begin
  update public.generation_calls g set content_id = null
  where g.content_id = unlink_generation_calls.content_id
  returning * into c;
  if c.id is null or exists (select 1 from public.generated_content x where x.id = unlink_generation_calls.content_id) then
    return;
  end if;
  update public.generation_usage u set generations = greatest(0, u.generations - 1), updated_at = now()
  where u.workspace_id = c.workspace_id and u.user_id = c.user_id and u.month = private.usage_month(c.created_at);
end
$$;

revoke all on function private.unlink_generation_calls(uuid) from public, anon;

revoke all on function private.unlink_generation_calls(uuid) from authenticated;

grant execute on function private.unlink_generation_calls(uuid) to service_role;

-- The fields of one item of each content kind, as _shared/content/kinds.ts defines them for
-- Gemini's response schema and for every edit: text (trimmed, 1..max), seconds (an integer in
-- min..max), list (min..max trimmed strings of at most item_max, total_max joined by commas).
create function private.content_kind_fields(kind public.content_kind) returns jsonb
language sql immutable parallel safe set search_path = '' as $$
  select case kind
    when 'idea' then '{"title": {"type": "text", "max": 100}, "hook": {"type": "text", "max": 500},
      "summary": {"type": "text", "max": 1500}, "why_it_fits": {"type": "text", "max": 800}}'
    when 'title' then '{"title": {"type": "text", "max": 100}, "reason": {"type": "text", "max": 800}}'
    when 'script' then '{"title": {"type": "text", "max": 100}, "hook": {"type": "text", "max": 600},
      "script": {"type": "text", "max": 30000}, "call_to_action": {"type": "text", "max": 400},
      "estimated_duration_seconds": {"type": "seconds", "min": 5, "max": 3600}}'
    when 'description' then '{"description": {"type": "text", "max": 5000},
      "hashtags": {"type": "list", "min": 0, "max": 15, "item_max": 100}}'
    when 'tags' then '{"tags": {"type": "list", "min": 1, "max": 30, "item_max": 100, "total_max": 500},
      "rationale": {"type": "text", "max": 800}}'
    when 'thumbnail_prompt' then '{"prompt": {"type": "text", "max": 1500}, "text_overlay": {"type": "text", "max": 60},
      "rationale": {"type": "text", "max": 800}}'
  end::jsonb
$$;

revoke all on function private.content_kind_fields(public.content_kind) from public, anon, authenticated, service_role;

-- The request generate-content stores with its content (see its Body schema): only its keys,
-- each of the type and size the API accepts.
create function private.content_brief_ok(brief jsonb) returns boolean
language sql immutable parallel safe set search_path = '' as $$
  select jsonb_typeof(brief) = 'object'
    and not exists (select 1 from jsonb_object_keys(brief) k
                    where k not in ('topic', 'brief', 'tone', 'language', 'target_format', 'count', 'channel_id'))
    and coalesce(jsonb_typeof(brief -> 'topic'), 'null') in ('null', 'string')
    and char_length(coalesce(brief ->> 'topic', '')) <= 200
    and coalesce(jsonb_typeof(brief -> 'brief'), 'null') in ('null', 'string')
    and char_length(coalesce(brief ->> 'brief', '')) <= 4000
    and coalesce(jsonb_typeof(brief -> 'tone'), 'null') in ('null', 'string')
    and char_length(coalesce(brief ->> 'tone', '')) <= 60
    and coalesce(brief ->> 'language', 'en') ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'
    and coalesce(jsonb_typeof(brief -> 'language'), 'string') = 'string'
    and coalesce(brief ->> 'target_format', 'short') in ('short', 'long_form')
    and coalesce(jsonb_typeof(brief -> 'target_format'), 'string') = 'string'
    and coalesce(jsonb_typeof(brief -> 'count'), 'null') in ('null', 'number')
    and coalesce((brief ->> 'count')::numeric, 1) in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    and coalesce(jsonb_typeof(brief -> 'channel_id'), 'null') in ('null', 'string')
    and coalesce(brief ->> 'channel_id', '00000000-0000-0000-0000-000000000000')
        ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
$$;

revoke all on function private.content_brief_ok(jsonb) from public, anon, authenticated, service_role;

-- The top videos a prompt drew on: the insights' list of a channel's best videos, a few dozen
-- small objects at most.
create function private.content_source_videos_ok(source_videos jsonb) returns boolean
language sql immutable parallel safe set search_path = '' as $$
  select jsonb_typeof(source_videos) = 'array'
    and jsonb_array_length(source_videos) <= 50
    and octet_length(source_videos::text) <= 65536
    and not exists (select 1 from jsonb_array_elements(source_videos) e where jsonb_typeof(e) <> 'object')
$$;

revoke all on function private.content_source_videos_ok(jsonb) from public, anon, authenticated, service_role;

-- The fields private.content_kind_fields lists, plus the two optional variant fields on kinds
-- with a title.
create function private.content_output_problem(kind public.content_kind, output jsonb) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  spec jsonb := private.content_kind_fields(kind);
  optional text[] := case when spec ? 'title' then array['title_variants', 'title_choice'] else '{}'::text[] end;
  item jsonb;
  idx integer := 0;
  f record;
  problem text;
  extra text;
begin
  if output is null or jsonb_typeof(output) <> 'object' then
    return 'output must be a JSON object';
  end if;
  if exists (select 1 from jsonb_object_keys(output) k where k <> 'items') then
    return 'output may hold only "items"';
  end if;
  if jsonb_typeof(output -> 'items') is distinct from 'array' or jsonb_array_length(output -> 'items') not between 1 and 20 then
    return 'output.items must be an array of 1 to 20 items';
  end if;
  for item in select e from jsonb_array_elements(output -> 'items') e loop
    if jsonb_typeof(item) <> 'object' then
      return format('output.items[%s] must be an object', idx);
    end if;
    select k into extra from jsonb_object_keys(item) k where not spec ? k and k <> all (optional) limit 1;
    if extra is not null then
      return format('output.items[%s] has an unknown field %s', idx, extra);
    end if;
    for f in select key, value from jsonb_each(spec) loop
      problem := private.content_field_problem(f.key, f.value, item -> f.key);
      if problem is not null then
        return format('output.items[%s].%s', idx, problem);
      end if;
    end loop;
    if cardinality(optional) > 0 then
      problem := private.title_variants_problem(item);
      if problem is not null then
        return format('output.items[%s].%s', idx, problem);
      end if;
    end if;
    idx := idx + 1;
  end loop;
  return null;
end
$$;

revoke all on function private.content_output_problem(public.content_kind, jsonb) from public, anon, authenticated, service_role;

-- The output fits its kind, the brief is the request as the API stores it and the source videos
-- are a bounded list: for every writer, named like the constraints they stand for (23514).
create function private.check_generated_content() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  problem text := private.content_output_problem(new.kind, new.output);
begin
  if problem is not null then
    raise exception '%', problem using errcode = '23514', constraint = 'generated_content_output_fits_kind';
  end if;
  if not private.content_brief_ok(new.brief) then
    raise exception 'brief holds fields, types or sizes the API never stores'
      using errcode = '23514', constraint = 'generated_content_brief_fits_request';
  end if;
  if not private.content_source_videos_ok(new.source_videos) then
    raise exception 'source_videos must be an array of at most 50 objects (64 kB)'
      using errcode = '23514', constraint = 'generated_content_source_videos_bounded';
  end if;
  return new;
end
$$;

revoke all on function private.check_generated_content() from public, anon, authenticated, service_role;

-- content_versions has no kind of its own: its output is checked with its content's kind.
create function private.check_content_version_output() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  problem text;
begin
  select private.content_output_problem(g.kind, new.output) into problem
  from public.generated_content g where g.id = new.content_id;
  if problem is not null then
    raise exception '%', problem using errcode = '23514', constraint = 'content_versions_output_fits_kind';
  end if;
  return new;
end
$$;

revoke all on function private.check_content_version_output() from public, anon, authenticated, service_role;

-- The functions check the output first, so a direct caller learns what is wrong with it (22023,
-- like edit_generated_content's other argument errors) rather than only a constraint's name.
create function private.require_content_output(kind public.content_kind, output jsonb) returns void
language plpgsql immutable set search_path = '' as $$
declare
  problem text := private.content_output_problem(kind, output);
begin
  if problem is not null then
    raise exception '%', problem using errcode = '22023';
  end if;
end
$$;

revoke all on function private.require_content_output(public.content_kind, jsonb) from public, anon, authenticated, service_role;

create function public.create_generated_content(
  content_id uuid, workspace_id uuid, kind public.content_kind, brief jsonb, source_videos jsonb,
  prompt_version text, model text, input_tokens integer, output_tokens integer, output jsonb
) returns public.generated_content
language plpgsql volatile security definer set search_path = '' as $$
declare
  caller uuid := (select auth.uid());
  created public.generated_content;
begin
  if caller is null then
    raise exception 'not authenticated' using errcode = '28000';
  end if;
  perform private.require_workspace_role(create_generated_content.workspace_id, 'editor', 'create content');
  perform private.require_content_output(create_generated_content.kind, create_generated_content.output);
  insert into public.generated_content (id, workspace_id, kind, brief, source_videos, prompt_version, model,
    input_tokens, output_tokens, output, current_version, status, created_by)
  values (create_generated_content.content_id, create_generated_content.workspace_id, create_generated_content.kind,
    create_generated_content.brief, coalesce(create_generated_content.source_videos, '[]'::jsonb),
    create_generated_content.prompt_version, create_generated_content.model,
    create_generated_content.input_tokens, create_generated_content.output_tokens, create_generated_content.output,
    1, 'draft', caller)
  returning * into created;
  insert into public.content_versions (workspace_id, content_id, version, output, created_by)
  values (created.workspace_id, created.id, 1, created.output, caller);
  insert into public.content_transitions (workspace_id, content_id, action, from_status, to_status, version, actor)
  values (created.workspace_id, created.id, 'create', null, 'draft', 1, caller);
  return created;
end
$$;

revoke all on function public.create_generated_content(uuid, uuid, public.content_kind, jsonb, jsonb, text, text, integer, integer, jsonb) from public, anon;

grant execute on function public.create_generated_content(uuid, uuid, public.content_kind, jsonb, jsonb, text, text, integer, integer, jsonb) to authenticated;

create function public.edit_generated_content(content_id uuid, output jsonb, note text default null)
returns public.generated_content
language plpgsql volatile security definer set search_path = '' as $$
declare
  caller uuid := (select auth.uid());
  c public.generated_content;
  next_version integer;
begin
  if edit_generated_content.output is null or jsonb_typeof(edit_generated_content.output) <> 'object' then
    raise exception 'output must be a JSON object' using errcode = '22023';
  end if;
  c := private.content_for_change(edit_generated_content.content_id, 'edit content');
  perform private.require_content_output(c.kind, edit_generated_content.output);
  next_version := c.current_version + 1;
  insert into public.content_versions (workspace_id, content_id, version, output, note, created_by)
  values (c.workspace_id, c.id, next_version, edit_generated_content.output,
    nullif(btrim(edit_generated_content.note), ''), caller);
  insert into public.content_transitions (workspace_id, content_id, action, from_status, to_status, version, actor)
  values (c.workspace_id, c.id, 'edit', c.status, 'draft', next_version, caller);
  update public.generated_content g set
    output = edit_generated_content.output,
    current_version = next_version,
    status = 'draft',
    approved_version = null
  where g.id = c.id
  returning * into c;
  return c;
end
$$;

revoke all on function public.edit_generated_content(uuid, jsonb, text) from public, anon;

grant execute on function public.edit_generated_content(uuid, jsonb, text) to authenticated;

create trigger generated_content_touch_updated_at before update on public.generated_content
  for each row execute function private.touch_updated_at();

-- Members read (viewers included); every write goes through the functions above.
create policy "members read generated content" on public.generated_content
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read content versions" on public.content_versions
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read content transitions" on public.content_transitions
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read generation calls" on public.generation_calls
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "members read generation usage" on public.generation_usage
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create trigger generated_content_check_fields before insert or update of kind, output, brief, source_videos
  on public.generated_content
  for each row execute function private.check_generated_content();

create trigger content_versions_check_output before insert or update of output on public.content_versions
  for each row execute function private.check_content_version_output();
