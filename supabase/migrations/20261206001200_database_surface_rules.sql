-- Every rule the API enforces on a write now holds in the database too. Hosted PostgREST serves
-- each table and function granted to `authenticated` to any signed-in member (supabase-js `from`
-- and `rpc`), so a rule that only the edge functions' zod schemas check can be skipped by
-- calling the database directly. Found that way: content with unbounded or malformed output
-- (one malformed row made render-video answer 500, three 20 MB outputs made a viewer's content
-- list 60 MB), schedules with a category, tags or dates the API refuses, removing a connected
-- channel with pending uploads, invitations that never expire (or revoked ones revived), and
-- members reading secret hashes (invitation tokens, render webhook secrets).
--
-- How each rule is held, for every writer:
--   * a CHECK constraint where the rule is about the row alone (added NOT VALID, then validated
--     when the existing rows allow it: a deployment with older rows that break a new rule keeps
--     the rule for every new write and says so in a notice, instead of failing the migration);
--   * a trigger where the rule needs other rows or the previous value (channel removal,
--     revocation), raising a SQLSTATE of its own that the function layer maps;
--   * no grant where the API's value is the only legitimate one (an invitation's expiry) or where
--     members must not read a column at all (hashes of secrets).
-- tests/db/70-database-surface.test.sql shows each rule as `authenticated`;
-- tests/adversarial/db-surface.test.ts walks every public table and function from the catalogue.
--
-- Rules on strings copy the API's meaning of "trimmed": zod trims with JavaScript's
-- String.prototype.trim, whose whitespace set is spelled out below (Postgres' [[:space:]] depends
-- on the locale and differs from it).

-- Section: helpers (pure). A CHECK runs its functions with the privileges of whoever writes the
-- row, and `private` stays closed to API roles (tests/db/14), so the rules that need these run in
-- security-definer triggers; the CHECKs use built-in functions only.

-- JavaScript's String.prototype.trim: WhiteSpace and LineTerminator code points at either end.
create function private.js_trim(value text) returns text
language sql immutable strict parallel safe set search_path = '' as $$
  select regexp_replace(value,
    '^[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$',
    '', 'g')
$$;

-- What zod's z.string().trim().min(1).max(max) lets through and stores: not empty, already
-- trimmed, at most max characters.
create function private.is_trimmed_text(value text, max integer) returns boolean
language sql immutable parallel safe set search_path = '' as $$
  select value is not null and value <> '' and value = private.js_trim(value) and char_length(value) <= max
$$;

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

-- Why one field value of a content item does not fit its spec, or null.
create function private.content_field_problem(name text, spec jsonb, value jsonb) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  n integer;
begin
  if value is null then
    return format('%s is missing', name);
  end if;
  case spec ->> 'type'
    when 'text' then
      if jsonb_typeof(value) <> 'string' or not private.is_trimmed_text(value #>> '{}', (spec ->> 'max')::integer) then
        return format('%s must be a trimmed, non-empty string of at most %s characters', name, spec ->> 'max');
      end if;
      if name = 'title' and (value #>> '{}') ~ '[<>]' then
        return format('%s must not contain < or >', name);
      end if;
    when 'seconds' then
      if jsonb_typeof(value) <> 'number' or (value::text)::numeric <> trunc((value::text)::numeric)
         or (value::text)::numeric not between (spec ->> 'min')::numeric and (spec ->> 'max')::numeric then
        return format('%s must be a whole number from %s to %s', name, spec ->> 'min', spec ->> 'max');
      end if;
    when 'list' then
      if jsonb_typeof(value) <> 'array' then
        return format('%s must be an array of strings', name);
      end if;
      n := jsonb_array_length(value);
      if n not between (spec ->> 'min')::integer and (spec ->> 'max')::integer then
        return format('%s must hold %s to %s entries', name, spec ->> 'min', spec ->> 'max');
      end if;
      if exists (select 1 from jsonb_array_elements(value) e
                 where jsonb_typeof(e) <> 'string' or not private.is_trimmed_text(e #>> '{}', (spec ->> 'item_max')::integer)) then
        return format('%s: each entry must be a trimmed, non-empty string of at most %s characters', name, spec ->> 'item_max');
      end if;
      if spec ? 'total_max' and (select char_length(string_agg(e, ',')) from jsonb_array_elements_text(value) e)
                                > (spec ->> 'total_max')::integer then
        return format('%s must be at most %s characters in total', name, spec ->> 'total_max');
      end if;
  end case;
  return null;
end
$$;

-- Why an output does not fit its kind (the zod schema of kinds.ts: {items: [1..20 items]}, each
-- item exactly the kind's fields), or null. Bounds every output: a script, the largest kind, is
-- at most 20 items of about 31,000 characters.
create function private.content_output_problem(kind public.content_kind, output jsonb) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  spec jsonb := private.content_kind_fields(kind);
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
    select k into extra from jsonb_object_keys(item) k where not spec ? k limit 1;
    if extra is not null then
      return format('output.items[%s] has an unknown field %s', idx, extra);
    end if;
    for f in select key, value from jsonb_each(spec) loop
      problem := private.content_field_problem(f.key, f.value, item -> f.key);
      if problem is not null then
        return format('output.items[%s].%s', idx, problem);
      end if;
    end loop;
    idx := idx + 1;
  end loop;
  return null;
end
$$;

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

-- The top videos a prompt drew on: the insights' list of a channel's best videos, a few dozen
-- small objects at most.
create function private.content_source_videos_ok(source_videos jsonb) returns boolean
language sql immutable parallel safe set search_path = '' as $$
  select jsonb_typeof(source_videos) = 'array'
    and jsonb_array_length(source_videos) <= 50
    and octet_length(source_videos::text) <= 65536
    and not exists (select 1 from jsonb_array_elements(source_videos) e where jsonb_typeof(e) <> 'object')
$$;

-- Section: workspaces and profiles

-- The API trims names before storing them; a direct write is stored the same way, so a name can
-- no longer be padded with whitespace past its 100 characters (the old CHECK measured the
-- trimmed value only).
create function private.trim_workspace_name() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.name := private.js_trim(new.name);
  return new;
end
$$;
create trigger workspaces_trim_name before insert or update of name on public.workspaces
  for each row execute function private.trim_workspace_name();

create function private.trim_profile_display_name() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.display_name := private.js_trim(new.display_name);
  return new;
end
$$;
create trigger profiles_trim_display_name before insert or update of display_name on public.profiles
  for each row execute function private.trim_profile_display_name();

alter table public.workspaces add constraint workspaces_name_length
  check (char_length(name) between 1 and 100) not valid;
alter table public.profiles add constraint profiles_display_name_length
  check (char_length(display_name) between 1 and 100) not valid;
-- The API accepts only a parseable https URL: a host, no whitespace or control characters in it.
alter table public.profiles add constraint profiles_avatar_url_has_host
  check (avatar_url ~ '^https://[^\s/?#]+([/?#][^\u0001-\u001f\u007f]*)?$') not valid;

-- Section: invitations

-- An invitation expires seven days after it was made, as the API makes them: members may no
-- longer choose expires_at (the column default applies), so none can be made that never expires.
-- Who invited is still theirs to name (the policy requires it to be themselves).
revoke insert on public.invitations from authenticated;
grant insert (workspace_id, email, role, token_hash, invited_by) on public.invitations to authenticated;
alter table public.invitations add constraint invitations_expire_within_a_week
  check (expires_at <= created_at + interval '7 days') not valid;

-- The address the API accepts (zod's email pattern, after lower-casing; the trigger of
-- initial_schema lower-cases and trims direct writes the same way).
alter table public.invitations add constraint invitations_email_format
  check (email ~ '^(?!\.)(?!.*\.\.)[a-z0-9_''+.-]*[a-z0-9_+-]@([a-z0-9][a-z0-9-]*\.)+[a-z]{2,}$') not valid;

-- Revoking is the one change members make (DELETE /invitations/:id sets revoked_at = now()): a
-- revocation is stamped now and stays; it can be neither back-dated, post-dated nor undone. Only
-- API roles are held to it (the service role restores and repairs rows); the trigger runs with the
-- caller's rights so that current_user is the role of the request.
create function private.guard_invitation_revocation() returns trigger
language plpgsql set search_path = '' as $$
begin
  if current_user::text not in ('authenticated', 'anon') or new.revoked_at is not distinct from old.revoked_at then
    return new;
  end if;
  if old.revoked_at is not null or new.revoked_at is null then
    raise exception 'a revoked invitation stays revoked' using errcode = 'CEI06';
  end if;
  new.revoked_at := now();
  return new;
end
$$;
create trigger invitations_guard_revocation before update of revoked_at on public.invitations
  for each row execute function private.guard_invitation_revocation();

-- Section: channels

-- A channel is removed only once it is disconnected and none of its uploads is unfinished, as
-- DELETE /channels/:id requires (409 channel_connected / uploads_pending): removing it earlier
-- would strand the uploads and leave the refresh token unrevoked at Google. Held for API roles;
-- a workspace's deletion removes its channels as the table owner (the foreign key's cascade), so
-- it is not affected.
create function private.guard_channel_removal() returns trigger
language plpgsql set search_path = '' as $$
declare
  pending integer;
begin
  if current_user::text not in ('authenticated', 'anon') then
    return old;
  end if;
  if old.status <> 'disconnected' then
    raise exception 'disconnect the channel first, then remove it (it is %)', old.status using errcode = 'CEH01';
  end if;
  -- the caller is an owner of the channel's workspace (the delete policy), so RLS shows them all
  -- of its schedules
  select count(*) into pending from public.upload_schedules s where s.channel_id = old.id and s.finished_at is null;
  if pending > 0 then
    raise exception '% upload(s) to this channel are not finished; cancel them first', pending using errcode = 'CEH02';
  end if;
  return old;
end
$$;
create trigger channels_guard_removal before delete on public.channels
  for each row execute function private.guard_channel_removal();

-- Section: generated content

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
create trigger generated_content_check_fields before insert or update of kind, output, brief, source_videos
  on public.generated_content
  for each row execute function private.check_generated_content();
-- POST /content/:id/reject: a reason of 3 to 1,000 characters.
alter table public.generated_content add constraint generated_content_rejection_reason_length
  check (char_length(rejection_reason) between 3 and 1000) not valid;
alter table public.content_transitions add constraint content_transitions_reject_reason_length
  check (action <> 'reject' or char_length(reason) between 3 and 1000) not valid;

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
create trigger content_versions_check_output before insert or update of output on public.content_versions
  for each row execute function private.check_content_version_output();

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

create or replace function public.create_generated_content(
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

create or replace function public.edit_generated_content(content_id uuid, output jsonb, note text default null)
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

-- Section: upload schedules (the API's validation.ts, which follows YouTube's limits)

-- "Not blank" as validation.ts means it: something besides JavaScript whitespace.
alter table public.upload_schedules add constraint upload_schedules_title_not_blank
  check (title ~ '[^\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]') not valid;
-- Each tag: no commas, < or >, and not blank. With no commas inside tags, joining them with
-- commas splits exactly, so a blank tag is an empty or all-whitespace stretch between two commas.
alter table public.upload_schedules add constraint upload_schedules_tags_allowed
  check (cardinality(tags) = 0 or (
    array_to_string(tags, '') !~ '[,<>]'
    and ',' || array_to_string(tags, ',') || ',' !~ ',[\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*,')) not valid;
-- Assignable video categories (videoCategories.list, assignable=true), as validation.ts lists them.
alter table public.upload_schedules add constraint upload_schedules_category_assignable
  check (category_id in ('1', '2', '10', '15', '17', '19', '20', '22', '23', '24', '25', '26', '27', '28', '29')) not valid;
alter table public.upload_schedules add constraint upload_schedules_thumbnail_url_has_host
  check (thumbnail_url ~ '^https?://[^\s/?#]+([/?#][^\u0001-\u001f\u007f]*)?$') not valid;
-- The API takes an ISO 8601 date with a four-digit year; 'infinity' and the like never reach a row.
alter table public.upload_schedules add constraint upload_schedules_publish_at_iso
  check (isfinite(publish_at) and publish_at >= timestamptz '2000-01-01 00:00:00+00'
         and publish_at < timestamptz '10000-01-01 00:00:00+00') not valid;
alter table public.upload_schedules add constraint upload_schedules_time_zone_name
  check (time_zone ~ '^[A-Za-z][A-Za-z0-9_+/-]{0,63}$') not valid;
alter table public.upload_schedules add constraint upload_schedules_idempotency_key_printable
  check (idempotency_key ~ '^[\u0021-\u007e]+$') not valid;

-- publish_at as the API's PublishAt accepts it, and nothing else Postgres would also read
-- ('infinity', 'tomorrow', 'epoch', a five-digit year): CES13 otherwise.
create or replace function private.resolve_publish_at(publish_at text, time_zone text) returns timestamptz
language plpgsql stable set search_path = '' as $$
begin
  if publish_at is null or publish_at !~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}:\d{2})?$' then
    raise exception 'publish_at must be an ISO 8601 date and time, such as 2026-12-01T18:00' using errcode = 'CES13';
  end if;
  if publish_at ~ '(Z|z|[+-]\d{2}:\d{2})$' then
    return publish_at::timestamptz;
  end if;
  return publish_at::timestamp at time zone time_zone;
exception
  when invalid_datetime_format or datetime_field_overflow then
    raise exception 'publish_at is not a valid date and time' using errcode = 'CES13';
end
$$;

-- Section: secrets members must not read

-- The API never returns token_hash or webhook_secret_hash; with a table-wide SELECT grant any
-- member (owners for invitations, viewers for render jobs) could read them directly and test
-- guessed or leaked tokens offline. Members keep every other column; the functions that need a
-- hash read it as its owner (accept_invitation, video_job_webhook_secret_hash).
revoke select on public.invitations from authenticated;
grant select (id, workspace_id, email, role, invited_by, expires_at, accepted_at, accepted_by, revoked_at, created_at)
  on public.invitations to authenticated;

do $$
declare
  cols text;
begin
  select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
  from pg_catalog.pg_attribute a
  where a.attrelid = 'public.video_jobs'::regclass and a.attnum > 0 and not a.attisdropped
    and a.attname <> 'webhook_secret_hash';
  execute 'revoke select on public.video_jobs from authenticated';
  execute format('grant select (%s) on public.video_jobs to authenticated', cols);
end
$$;

-- Section: validating what already exists

-- Each new CHECK was added NOT VALID (so adding it never fails); validate those the rows allow.
do $$
declare
  c record;
begin
  for c in
    select con.conrelid::regclass as tbl, con.conname
    from pg_catalog.pg_constraint con
    where con.contype = 'c' and not con.convalidated
      and con.conname in ('workspaces_name_length', 'profiles_display_name_length', 'profiles_avatar_url_has_host',
        'invitations_expire_within_a_week', 'invitations_email_format', 'generated_content_rejection_reason_length', 'content_transitions_reject_reason_length',
        'upload_schedules_title_not_blank', 'upload_schedules_tags_allowed', 'upload_schedules_category_assignable',
        'upload_schedules_thumbnail_url_has_host', 'upload_schedules_publish_at_iso', 'upload_schedules_time_zone_name',
        'upload_schedules_idempotency_key_printable')
  loop
    begin
      execute format('alter table %s validate constraint %I', c.tbl, c.conname);
    exception when check_violation then
      raise notice '%: existing rows break %; it holds for new writes and stays NOT VALID until they are fixed',
        c.tbl, c.conname;
    end;
  end loop;
end
$$;

-- Section: grants

revoke all on function
  private.js_trim(text), private.is_trimmed_text(text, integer), private.content_kind_fields(public.content_kind),
  private.content_field_problem(text, jsonb, jsonb), private.content_output_problem(public.content_kind, jsonb),
  private.content_brief_ok(jsonb), private.content_source_videos_ok(jsonb),
  private.trim_workspace_name(), private.trim_profile_display_name(), private.guard_invitation_revocation(),
  private.guard_channel_removal(), private.check_generated_content(), private.check_content_version_output(),
  private.require_content_output(public.content_kind, jsonb)
  from public, anon, authenticated, service_role;
