-- The check of a restore's references to deleted users (20261211000100_restore_user_check):
-- ops.check_restored_users alone (none missing, one missing, another workspace's missing user
-- not named), and that both restores (ops.restore_workspace, the users phase of a stepped
-- restore) raise exactly its error: SQLSTATE, message, detail and hint.
-- Repeatable read: ops.take_snapshot refuses read committed.
begin isolation level repeatable read;
select plan(8);

select tests.create_user('ru_alice');
select tests.create_user('ru_bob');

create temp table ws on commit drop as
select (select w.id from public.workspaces w where w.created_by = tests.get_user_id('ru_alice') and w.personal) as alice,
       (select w.id from public.workspaces w where w.created_by = tests.get_user_id('ru_bob') and w.personal) as bob;
select tests.create_fixture_rows((select alice from ws), tests.get_user_id('ru_alice'));
select tests.create_fixture_rows((select bob from ws), tests.get_user_id('ru_bob'));
create temp table snap on commit drop as select ops.take_snapshot('test') as id;

-- What a statement raises: SQLSTATE, message, detail, hint (null when it raises nothing).
create function pg_temp.error_of(statement text) returns jsonb language plpgsql as $$
declare
  state text;
  message text;
  detail text;
  hint text;
begin
  execute statement;
  return null;
exception when others then
  get stacked diagnostics state = returned_sqlstate, message = message_text, detail = pg_exception_detail, hint = pg_exception_hint;
  return jsonb_build_object('sqlstate', state, 'message', message, 'detail', detail, 'hint', hint);
end $$;

-- Section: none missing

select lives_ok(format('select ops.check_restored_users(%s, %L)', (select id from snap), (select alice from ws)),
  'no reference to a deleted user: the check passes');

-- Section: a user missing
-- A user deleted with triggers off keeps the rows that reference them, as a restore's inserts
-- (triggers off) leave them when the account was deleted after the snapshot.
set local session_replication_role = replica;
delete from auth.users where id in (tests.get_user_id('ru_alice'), tests.get_user_id('ru_bob'));
set local session_replication_role = origin;

create temp table expected on commit drop as
select jsonb_build_object('sqlstate', '23503',
  'message', format('snapshot %s of workspace %s references deleted users: {%s}', (select id from snap), (select alice from ws),
    tests.get_user_id('ru_alice')),
  'detail', '',
  'hint', 'A workspace restore never recreates deleted accounts; re-invite them or pick a later snapshot.') as error;

select throws_ok(format('select ops.check_restored_users(%s, %L)', (select id from snap), (select alice from ws)), '23503', null,
  'a reference to a deleted user refuses the restore (23503)');
select is(pg_temp.error_of(format('select ops.check_restored_users(%s, %L)', (select id from snap), (select alice from ws))),
  (select error from expected),
  'the error names the snapshot, the workspace and only that workspace''s deleted user, with the hint');

-- Section: both restores raise exactly that error

select is(pg_temp.error_of(format('select ops.restore_workspace(%s, %L)', (select id from snap), (select alice from ws))),
  (select error from expected),
  'ops.restore_workspace refuses with the same error');
select is(pg_temp.error_of(format('select ops.restore_check_users(jsonb_populate_record(null::private.restore_jobs, %L))',
    jsonb_build_object('snapshot_id', (select id from snap), 'workspace_id', (select alice from ws))::text)),
  (select error from expected),
  'the users phase of a stepped restore refuses with the same error');
select is((select to_jsonb(f) from ops.restore_failure('23503', (select error ->> 'message' from expected)) f),
  jsonb_build_object('code', 'users_missing', 'shown', (select error ->> 'message' from expected)),
  'a stepped restore records it as users_missing with that message');

-- Section: who may call it

select ok(not has_function_privilege('anon', 'ops.check_restored_users(bigint, uuid)', 'EXECUTE')
  and not has_function_privilege('authenticated', 'ops.check_restored_users(bigint, uuid)', 'EXECUTE'),
  'neither anon nor authenticated may run the check');
select is((select p.prosecdef and p.provolatile = 's' from pg_catalog.pg_proc p where p.oid = 'ops.check_restored_users(bigint, uuid)'::regprocedure),
  true, 'the check runs as its owner (it reads auth.users) and only reads');

select * from finish();
rollback;
