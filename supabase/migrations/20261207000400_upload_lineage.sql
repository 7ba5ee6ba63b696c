-- Lineage of what the engine published: every published upload knows the schedule, the render,
-- the exact text a person approved, the Gemini generation behind it and the prompt's inputs (top
-- videos, patterns, brief, tone, model), and who approved it. Videos the engine did not upload
-- have no lineage row: they are "organic".
--
-- History must not be rewritable by later changes of the content: an edit makes a new version and
-- sends the content back to draft, and content (with its versions, renders and transitions) can be
-- deleted. So the facts are copied, at the moment they happen, by triggers in this database, not
-- read through references later:
--   * public.generation_inputs: what a prompt was built from that generated_content does not keep
--     (the publishing patterns, the channel totals, the workspace's own earlier outcomes, the
--     title variants offered). Written by generate-content (service role) next to the content.
--   * public.content_review_decisions: one row per approve or reject, written by a trigger on
--     content_transitions (review_generated_content() is the only writer of those): the reviewed
--     version's output, the reason, the reviewer, and a copy of the generation (brief, top videos,
--     patterns, model, prompt version, the Gemini calls).
--   * public.upload_lineage: one row per published upload, written by a trigger on
--     upload_schedules when its status becomes 'published' (whichever code path publishes it),
--     joining the schedule, the render and the approval decision that covered the rendered version.
-- Neither decisions nor lineage can be updated, and only a workspace's deletion removes them
-- (their only foreign key is the workspace; content ids are kept as plain values).

-- Section: tables

create table public.generation_inputs (
  content_id uuid primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  request_id text check (char_length(request_id) <= 200),
  -- the publishing patterns of the insights document the prompt quoted ({name: {buckets, best}})
  patterns jsonb not null default '{}' check (jsonb_typeof(patterns) = 'object'),
  -- 28-day totals the prompt quoted (null when the workspace had no metrics)
  totals jsonb check (totals is null or jsonb_typeof(totals) = 'object'),
  -- the workspace's own earlier suggestions and how they did, as quoted in the prompt
  own_outcomes jsonb not null default '[]' check (jsonb_typeof(own_outcomes) = 'array'),
  created_at timestamptz not null default now(),
  foreign key (content_id, workspace_id) references public.generated_content (id, workspace_id)
    on update cascade on delete cascade
);
create index generation_inputs_workspace_id_idx on public.generation_inputs (workspace_id);

create table public.content_review_decisions (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  content_id uuid not null,
  transition_id bigint not null unique,
  decision text not null check (decision in ('approve', 'reject')),
  version integer not null check (version >= 1),
  kind public.content_kind not null,
  -- the exact output of the reviewed version
  output jsonb not null check (jsonb_typeof(output) = 'object'),
  reason text check (char_length(reason) <= 1000),
  -- a plain id: who decided stays recorded even when the account goes
  decided_by uuid,
  decided_at timestamptz not null,
  brief jsonb not null,
  source_videos jsonb not null,
  patterns jsonb not null default '{}',
  model text not null,
  prompt_version text not null,
  generation_request_id text,
  generation_call_ids uuid[] not null default '{}',
  content_created_by uuid,
  content_created_at timestamptz not null,
  check ((decision = 'reject') = (reason is not null))
);
create index content_review_decisions_workspace_id_idx on public.content_review_decisions (workspace_id, decided_at desc);
create index content_review_decisions_content_id_idx on public.content_review_decisions (content_id, version, id desc);

create table public.upload_lineage (
  schedule_id uuid primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  channel_id uuid,
  youtube_video_id text not null,
  published_at timestamptz not null,
  -- what was sent: title, description, tags, privacy, publish_at, time_zone, strategy, who scheduled
  schedule jsonb not null check (jsonb_typeof(schedule) = 'object'),
  -- the render: video_job_id, provider_job_id, render_params, duration_seconds, requested_by
  render jsonb not null check (jsonb_typeof(render) = 'object'),
  content_id uuid,
  content_version integer,
  kind public.content_kind,
  -- the approval that covered the rendered version (null: none was recorded, see approval_source)
  decision_id bigint,
  approval_source text not null check (approval_source in ('decision', 'transition', 'none')),
  approved_output jsonb,
  approved_by uuid,
  approved_at timestamptz,
  -- which of the approved output's variants (items, 0-based) became the published title: the one
  -- whose title equals the schedule's (ignoring case and outer spaces); null when none does
  chosen_variant integer,
  variants integer,
  -- Gemini: model, prompt_version, request_id, call_ids
  generation jsonb not null default '{}' check (jsonb_typeof(generation) = 'object'),
  -- brief (topic, brief, tone, language, target_format), source_videos, patterns
  prompt_inputs jsonb not null default '{}' check (jsonb_typeof(prompt_inputs) = 'object'),
  tone text,
  target_format text,
  recorded_at timestamptz not null default now()
);
create index upload_lineage_workspace_id_idx on public.upload_lineage (workspace_id, published_at desc);
create index upload_lineage_youtube_video_id_idx on public.upload_lineage (youtube_video_id);
create index upload_lineage_content_id_idx on public.upload_lineage (content_id);

-- Section: functions

-- Updates are refused always; deletes unless they come from a cascade (a workspace's deletion),
-- whose referential-action trigger makes this one run at depth 2. Restores run with triggers off
-- and never touch these tables (see ops.backup_table_classes below).
create function private.refuse_history_rewrite() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'DELETE' and pg_catalog.pg_trigger_depth() > 1 then
    return old;
  end if;
  raise exception '% is a record of what happened and cannot be changed', tg_table_name using errcode = '42501';
end
$$;

-- After an approve or reject transition: the copy of what was decided on.
create function private.record_review_decision() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  c public.generated_content;
  out jsonb;
begin
  select * into c from public.generated_content g where g.id = new.content_id;
  if c.id is null then
    return null;
  end if;
  select v.output into out from public.content_versions v where v.content_id = new.content_id and v.version = new.version;
  insert into public.content_review_decisions (workspace_id, content_id, transition_id, decision, version, kind, output,
    reason, decided_by, decided_at, brief, source_videos, patterns, model, prompt_version, generation_request_id,
    generation_call_ids, content_created_by, content_created_at)
  select new.workspace_id, new.content_id, new.id, new.action::text, new.version, c.kind, coalesce(out, c.output),
    case when new.action = 'reject' then coalesce(new.reason, c.rejection_reason, 'no reason given') end,
    new.actor, new.at, c.brief, c.source_videos, coalesce(i.patterns, '{}'), c.model, c.prompt_version,
    coalesce(i.request_id, calls.request_id), coalesce(calls.ids, '{}'), c.created_by, c.created_at
  from (select 1) one
  left join public.generation_inputs i on i.content_id = c.id
  left join lateral (
    select array_agg(g.id order by g.attempt) as ids, max(g.request_id) as request_id
    from public.generation_calls g where g.content_id = c.id
  ) calls on true
  on conflict (transition_id) do nothing;
  return null;
end
$$;

-- The lineage of one schedule that is now published. The approval is the last decision that
-- approved the rendered version; content approved before decisions were recorded falls back to the
-- approve transition and the version row ('transition'); a render whose content is gone and was
-- never recorded has none ('none').
create function private.record_upload_lineage(s public.upload_schedules) returns void
language plpgsql security definer set search_path = '' as $$
declare
  j public.video_jobs;
  d public.content_review_decisions;
  c public.generated_content;
  t public.content_transitions;
  approved jsonb;
  source text := 'none';
begin
  if s.video_job_id is not null then
    select * into j from public.video_jobs v where v.id = s.video_job_id;
  end if;
  if j.id is not null then
    select * into d from public.content_review_decisions r
    where r.content_id = j.content_id and r.version = j.content_version and r.decision = 'approve'
    order by r.id desc limit 1;
    if d.id is not null then
      source := 'decision';
    else
      select * into c from public.generated_content g where g.id = j.content_id;
      select * into t from public.content_transitions x
      where x.content_id = j.content_id and x.version = j.content_version and x.action = 'approve'
      order by x.id desc limit 1;
      select v.output into approved from public.content_versions v
      where v.content_id = j.content_id and v.version = j.content_version;
      if t.id is not null then
        source := 'transition';
      end if;
    end if;
  end if;
  insert into public.upload_lineage (schedule_id, workspace_id, channel_id, youtube_video_id, published_at, schedule,
    render, content_id, content_version, kind, decision_id, approval_source, approved_output, approved_by, approved_at,
    chosen_variant, variants, generation, prompt_inputs, tone, target_format)
  values (s.id, s.workspace_id, s.channel_id, s.youtube_video_id, coalesce(s.published_at, now()),
    jsonb_build_object('title', s.title, 'description', s.description, 'tags', to_jsonb(s.tags), 'privacy', s.privacy,
      'publish_at', s.publish_at, 'time_zone', s.time_zone, 'strategy', s.strategy, 'scheduled_by', s.created_by,
      'scheduled_at', s.created_at),
    jsonb_build_object('video_job_id', j.id, 'provider_job_id', j.provider_job_id, 'render_params', j.render_params,
      'duration_seconds', j.duration_seconds, 'requested_by', j.requested_by, 'finished_at', j.finished_at),
    j.content_id, j.content_version, coalesce(d.kind, c.kind), d.id, source,
    coalesce(d.output, approved), coalesce(d.decided_by, t.actor), coalesce(d.decided_at, t.at),
    (select (i.n - 1)::integer from jsonb_array_elements(case when jsonb_typeof(coalesce(d.output, approved) -> 'items') = 'array'
       then coalesce(d.output, approved) -> 'items' else '[]' end) with ordinality as i(item, n)
     where jsonb_typeof(i.item) = 'object' and lower(btrim(i.item ->> 'title')) = lower(btrim(s.title)) order by i.n limit 1),
    case when jsonb_typeof(coalesce(d.output, approved) -> 'items') = 'array' then jsonb_array_length(coalesce(d.output, approved) -> 'items') end,
    jsonb_strip_nulls(jsonb_build_object('model', coalesce(d.model, c.model), 'prompt_version', coalesce(d.prompt_version, c.prompt_version),
      'request_id', d.generation_request_id, 'call_ids', to_jsonb(d.generation_call_ids))),
    jsonb_strip_nulls(jsonb_build_object('brief', coalesce(d.brief, c.brief), 'source_videos', coalesce(d.source_videos, c.source_videos),
      'patterns', d.patterns)),
    coalesce(d.brief, c.brief) ->> 'tone', coalesce(d.brief, c.brief) ->> 'target_format')
  on conflict (schedule_id) do nothing;
end
$$;

-- Publishing never fails because of its record: the video is on YouTube whatever happens here. A
-- failure is a warning in the database log (and the upload then reads as organic).
create function private.upload_published() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  begin
    perform private.record_upload_lineage(new);
  exception when others then
    raise warning 'upload lineage of schedule % not recorded: % (%)', new.id, sqlerrm, sqlstate;
  end;
  return null;
end
$$;

-- Section: triggers

create trigger content_transitions_record_decision after insert on public.content_transitions
  for each row when (new.action in ('approve', 'reject')) execute function private.record_review_decision();
create trigger upload_schedules_record_lineage after update of status on public.upload_schedules
  for each row when (new.status = 'published' and old.status is distinct from 'published')
  execute function private.upload_published();
create trigger upload_schedules_record_lineage_on_insert after insert on public.upload_schedules
  for each row when (new.status = 'published') execute function private.upload_published();
create trigger content_review_decisions_immutable before update or delete on public.content_review_decisions
  for each row execute function private.refuse_history_rewrite();
create trigger upload_lineage_immutable before update or delete on public.upload_lineage
  for each row execute function private.refuse_history_rewrite();

-- Section: RLS policies

alter table public.generation_inputs enable row level security;
alter table public.content_review_decisions enable row level security;
alter table public.upload_lineage enable row level security;

create policy "members read generation inputs" on public.generation_inputs
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));
create policy "members read review decisions" on public.content_review_decisions
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));
create policy "members read upload lineage" on public.upload_lineage
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

-- Section: grants

revoke all on public.generation_inputs, public.content_review_decisions, public.upload_lineage from anon, authenticated;
grant select on public.generation_inputs, public.content_review_decisions, public.upload_lineage to authenticated;
grant all on public.generation_inputs, public.content_review_decisions, public.upload_lineage to service_role;

revoke all on function private.refuse_history_rewrite(), private.record_review_decision(),
  private.record_upload_lineage(public.upload_schedules), private.upload_published()
  from public, anon, authenticated, service_role;

-- Section: backup classes

insert into ops.backup_table_classes (table_name, class, why) values
  ('public.generation_inputs', 'content', 'what a generation''s prompt was built from, restored with its content'),
  ('public.content_review_decisions', 'ledger', 'review decisions as they were made; a restore never rewrites history'),
  ('public.upload_lineage', 'external_state', 'what was published to YouTube and from what; a restore never rewrites history');
