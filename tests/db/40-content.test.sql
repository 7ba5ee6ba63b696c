-- Generated content's review state machine, enforced in the database (20261201001100_generated_content):
-- create -> draft; submit draft|rejected -> in_review; approve / reject (with a reason)
-- in_review -> approved / rejected; edit (any status) -> a new version and back to draft.
-- Every action is a row in content_transitions with its actor; viewers and outsiders cannot act;
-- API roles cannot write the tables directly; usage is written by the service role only.
begin;
select plan(46);

select tests.create_user('cg_owner');
select tests.create_user('cg_editor');
select tests.create_user('cg_viewer');
select tests.create_user('cg_outsider');

create temp table ids (name text primary key, id uuid) on commit drop;
grant all on ids to authenticated, service_role;
insert into ids select 'ws', m.workspace_id from public.workspace_members m where m.user_id = tests.get_user_id('cg_owner');
insert into public.workspace_members (workspace_id, user_id, role) values
  ((select id from ids where name = 'ws'), tests.get_user_id('cg_editor'), 'editor'),
  ((select id from ids where name = 'ws'), tests.get_user_id('cg_viewer'), 'viewer');
insert into ids values ('c', gen_random_uuid());

-- Section: creating

select tests.authenticate_as('cg_viewer');
select throws_ok(
  $$select public.create_generated_content((select id from ids where name = 'c'), (select id from ids where name = 'ws'),
    'script', '{}', '[]', 'v', 'm', 1, 2, '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}')$$,
  '42501', 'only editors and owners can create content; your role here is viewer', 'a viewer cannot create content');

select tests.authenticate_as('cg_editor');
select is(
  (select status::text from public.create_generated_content((select id from ids where name = 'c'), (select id from ids where name = 'ws'),
    'script', '{"topic": "t"}', '[]', 'v1', 'gemini-test', 10, 20, '{"items": [{"title": "One", "hook": "Watch this.", "script": "one", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}')),
  'draft', 'an editor creates content as a draft');
select is((select current_version from public.generated_content where id = (select id from ids where name = 'c')), 1, 'at version 1');
select is((select created_by from public.generated_content where id = (select id from ids where name = 'c')),
  tests.get_user_id('cg_editor'), 'created_by is the caller');
select is((select count(*)::int from public.content_versions where content_id = (select id from ids where name = 'c')), 1, 'version 1 is kept');

-- Section: the state machine

select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'approve')$$,
  'CEC02', 'cannot approve content that is draft', 'a draft cannot be approved');
select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'reject', 'no')$$,
  'CEC02', 'cannot reject content that is draft', 'a draft cannot be rejected');
select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'edit')$$,
  '22023', null, 'edit is not a review action');
select is((select status::text from public.review_generated_content((select id from ids where name = 'c'), 'submit')),
  'in_review', 'submit: draft -> in_review');
select is((select submitted_by from public.generated_content where id = (select id from ids where name = 'c')),
  tests.get_user_id('cg_editor'), 'submitted_by recorded');
select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'submit')$$,
  'CEC02', 'cannot submit content that is in review', 'content in review cannot be submitted again');
select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'reject')$$,
  '22023', 'a reason is required to reject content', 'rejecting needs a reason');
select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'reject', '   ')$$,
  '22023', 'a reason is required to reject content', 'a blank reason is no reason');

select tests.authenticate_as('cg_viewer');
select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'approve')$$,
  '42501', 'only editors and owners can review content; your role here is viewer', 'a viewer cannot approve');
select throws_ok($$select public.edit_generated_content((select id from ids where name = 'c'), '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}')$$,
  '42501', 'only editors and owners can edit content; your role here is viewer', 'a viewer cannot edit');
select is((select count(*)::int from public.generated_content where id = (select id from ids where name = 'c')), 1, 'a viewer reads the content');

select tests.authenticate_as('cg_outsider');
select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'approve')$$,
  'CEC01', 'content not found', 'an outsider is told the content does not exist');
select throws_ok($$select public.edit_generated_content((select id from ids where name = 'c'), '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}')$$,
  'CEC01', 'content not found', 'an outsider cannot edit it either');
select throws_ok($$select public.review_generated_content(gen_random_uuid(), 'submit')$$,
  'CEC01', 'content not found', 'unknown content is not found');
select is((select count(*)::int from public.generated_content where id = (select id from ids where name = 'c')), 0, 'an outsider reads nothing');

select tests.authenticate_as('cg_owner');
select is((select status::text from public.review_generated_content((select id from ids where name = 'c'), 'reject', ' Too long ')),
  'rejected', 'reject: in_review -> rejected');
select is((select rejection_reason from public.generated_content where id = (select id from ids where name = 'c')), 'Too long', 'the reason is kept, trimmed');
select is((select reviewed_by from public.generated_content where id = (select id from ids where name = 'c')),
  tests.get_user_id('cg_owner'), 'reviewed_by recorded');
select throws_ok($$select public.review_generated_content((select id from ids where name = 'c'), 'approve')$$,
  'CEC02', 'cannot approve content that is rejected', 'rejected content cannot be approved without resubmission');
select is((select status::text from public.review_generated_content((select id from ids where name = 'c'), 'submit')),
  'in_review', 'submit: rejected -> in_review');
select is((select status::text from public.review_generated_content((select id from ids where name = 'c'), 'approve')),
  'approved', 'approve: in_review -> approved');
select is((select approved_version from public.generated_content where id = (select id from ids where name = 'c')), 1, 'the approval covers version 1');
select is((select rejection_reason from public.generated_content where id = (select id from ids where name = 'c')), null, 'an approval clears the last rejection');

select tests.authenticate_as('cg_editor');
select is((select status::text from public.edit_generated_content((select id from ids where name = 'c'), '{"items": [{"title": "Two", "hook": "Watch this.", "script": "two", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}', 'shorter')),
  'draft', 'an edit of approved content makes a draft');
select is((select approved_version from public.generated_content where id = (select id from ids where name = 'c')), null, 'no approval covers the edit');
select is((select current_version from public.generated_content where id = (select id from ids where name = 'c')), 2, 'version 2 is current');
select is((select output -> 'items' -> 0 ->> 'script' from public.generated_content where id = (select id from ids where name = 'c')), 'two', 'the output is the edit');
select is((select array_agg(output -> 'items' -> 0 ->> 'script' order by version) from public.content_versions where content_id = (select id from ids where name = 'c')),
  array['one', 'two'], 'both versions are kept');
select throws_ok($$select public.edit_generated_content((select id from ids where name = 'c'), '[1, 2]')$$,
  '22023', 'output must be a JSON object', 'an edit must be an object');

select is(
  (select array_agg(format('%s:%s>%s@%s', t.action, coalesce(t.from_status::text, '-'), t.to_status, t.version) order by t.id)
   from public.content_transitions t where t.content_id = (select id from ids where name = 'c')),
  array['create:->draft@1', 'submit:draft>in_review@1', 'reject:in_review>rejected@1', 'submit:rejected>in_review@1',
        'approve:in_review>approved@1', 'edit:approved>draft@2'],
  'every action is recorded with its statuses and version');
select is(
  (select array_agg(t.actor order by t.id) from public.content_transitions t
   where t.content_id = (select id from ids where name = 'c')),
  array[tests.get_user_id('cg_editor'), tests.get_user_id('cg_editor'), tests.get_user_id('cg_owner'),
        tests.get_user_id('cg_owner'), tests.get_user_id('cg_owner'), tests.get_user_id('cg_editor')],
  'and with who acted');

-- Section: no way around the functions

select throws_ok($$update public.generated_content set status = 'approved', approved_version = 2 where id = (select id from ids where name = 'c')$$,
  '42501', null, 'an editor cannot set a status directly');
select throws_ok($$insert into public.content_transitions (workspace_id, content_id, action, from_status, to_status, version)
  values ((select id from ids where name = 'ws'), (select id from ids where name = 'c'), 'approve', 'in_review', 'approved', 2)$$,
  '42501', null, 'nor forge a transition');
select throws_ok($$insert into public.content_versions (workspace_id, content_id, version, output)
  values ((select id from ids where name = 'ws'), (select id from ids where name = 'c'), 3, '{}')$$,
  '42501', null, 'nor add a version behind the function''s back');
select throws_ok($$select private.record_generation_calls((select id from ids where name = 'ws'), auth.uid(), null, 'r', 'idea', 'm', 'v', '[]')$$,
  '42501', null, 'nor record usage');

-- Section: usage (service role)

select tests.authenticate_as_service_role();
select lives_ok($$select private.record_generation_calls((select id from ids where name = 'ws'), tests.get_user_id('cg_editor'),
  (select id from ids where name = 'c'), 'req-1', 'script', 'gemini-test', 'v1',
  '[{"attempt": 1, "streamed": true, "outcome": "invalid_output", "input_tokens": 100, "output_tokens": 50, "duration_ms": 9, "error": "bad"},
    {"attempt": 2, "streamed": true, "outcome": "ok", "input_tokens": 110, "output_tokens": 60, "duration_ms": 8, "error": null}]')$$,
  'the service role records the calls of a generation');
select is((select count(*)::int from public.generation_calls where request_id = 'req-1'), 2, 'one row per call');
select results_eq(
  $$select generations, gemini_calls, input_tokens, output_tokens from public.generation_usage
    where user_id = tests.get_user_id('cg_editor') and month = date_trunc('month', now() at time zone 'UTC')::date$$,
  $$values (1, 2, 210::bigint, 110::bigint)$$,
  'usage of the month: one generation, two calls and their tokens');
select lives_ok($$select private.record_generation_calls((select id from ids where name = 'ws'), tests.get_user_id('cg_editor'),
  null, 'req-2', 'idea', 'gemini-test', 'v1', '[{"attempt": 1, "streamed": false, "outcome": "safety", "input_tokens": 7, "output_tokens": 0, "duration_ms": 3}]')$$,
  'a failed generation is recorded too');
select results_eq(
  $$select generations, gemini_calls, input_tokens from public.generation_usage where user_id = tests.get_user_id('cg_editor')$$,
  $$values (1, 3, 217::bigint)$$,
  'it adds calls and tokens but no generation');

select tests.clear_authentication();
select throws_ok($$update public.generated_content set approved_version = null, status = 'approved' where id = (select id from ids where name = 'c')$$,
  '23514', null, 'approved content always names the version approved');

select * from finish();
rollback;
