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

-- Section: types

create type public.content_kind as enum ('idea', 'title', 'script', 'description', 'tags', 'thumbnail_prompt');
create type public.content_status as enum ('draft', 'in_review', 'approved', 'rejected');
create type public.content_action as enum ('create', 'edit', 'submit', 'approve', 'reject');

-- Section: tables

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

-- Section: functions (helpers)

-- The calendar month (UTC) a moment belongs to, as its first day.
create function private.usage_month(at timestamptz default now()) returns date
language sql stable set search_path = '' as $$
  select date_trunc('month', usage_month.at at time zone 'UTC')::date
$$;

-- The content row locked for a change by the caller, after the visibility and role checks that
-- every review function makes: CEC01 when the caller cannot see it, 42501 below editor.
create function private.content_for_change(content_id uuid, what text) returns public.generated_content
language plpgsql volatile security definer set search_path = '' as $$
declare
  c public.generated_content;
begin
  select * into c from public.generated_content g where g.id = content_for_change.content_id for update;
  if c.id is null or not public.has_role_on_workspace(c.workspace_id, 'viewer') then
    raise exception 'content not found' using errcode = 'CEC01';
  end if;
  if not public.has_role_on_workspace(c.workspace_id, 'editor') then
    raise exception 'only editors and owners can %', what using errcode = '42501';
  end if;
  return c;
end
$$;

-- Section: functions (content API for the caller)

-- Saves what generate-content produced, as the caller: the content (draft), its version 1 and
-- the 'create' transition. content_id is chosen by the caller so that the Gemini calls recorded
-- alongside can name it.
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
  if not public.has_role_on_workspace(create_generated_content.workspace_id, 'editor') then
    raise exception 'only editors and owners can create content' using errcode = '42501';
  end if;
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

-- An edit: a new version with the given output; the content returns to draft (an approval or a
-- pending review never covers an output nobody reviewed).
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

-- Section: functions (accounting, service role)

-- Records the Gemini calls of one generation request and adds them to the caller's usage of the
-- month. calls: [{attempt, streamed, outcome, input_tokens, output_tokens, duration_ms, error}].
-- A request that produced content (content_id not null) counts as one generation.
create function public.record_generation_calls(
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

-- generate-content records the calls while it saves the content, on another connection; when
-- the save fails after all (the caller lost their role meanwhile), the calls made no content and
-- the generation does not count.
create function public.unlink_generation_calls(content_id uuid) returns void
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

-- Section: triggers

create trigger generated_content_touch_updated_at before update on public.generated_content
  for each row execute function private.touch_updated_at();

-- Section: RLS policies

alter table public.generated_content enable row level security;
alter table public.content_versions enable row level security;
alter table public.content_transitions enable row level security;
alter table public.generation_calls enable row level security;
alter table public.generation_usage enable row level security;

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

-- Section: grants

revoke all on public.generated_content, public.content_versions, public.content_transitions,
  public.generation_calls, public.generation_usage
  from anon, authenticated;
grant all on public.generated_content, public.content_versions, public.content_transitions,
  public.generation_calls, public.generation_usage
  to service_role;
grant select on public.generated_content, public.content_versions, public.content_transitions,
  public.generation_calls, public.generation_usage
  to authenticated;

revoke all on function private.usage_month(timestamptz), private.content_for_change(uuid, text)
  from public, anon, authenticated, service_role;

revoke all on function
  public.create_generated_content(uuid, uuid, public.content_kind, jsonb, jsonb, text, text, integer, integer, jsonb),
  public.edit_generated_content(uuid, jsonb, text),
  public.review_generated_content(uuid, public.content_action, text),
  public.record_generation_calls(uuid, uuid, uuid, text, public.content_kind, text, text, jsonb),
  public.unlink_generation_calls(uuid)
  from public, anon;
grant execute on function
  public.create_generated_content(uuid, uuid, public.content_kind, jsonb, jsonb, text, text, integer, integer, jsonb),
  public.edit_generated_content(uuid, jsonb, text),
  public.review_generated_content(uuid, public.content_action, text)
  to authenticated;
revoke all on function public.record_generation_calls(uuid, uuid, uuid, text, public.content_kind, text, text, jsonb),
  public.unlink_generation_calls(uuid)
  from authenticated;
grant execute on function public.record_generation_calls(uuid, uuid, uuid, text, public.content_kind, text, text, jsonb),
  public.unlink_generation_calls(uuid)
  to service_role;
