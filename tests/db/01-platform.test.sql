-- What the Supabase image provides and the local platform SQL emulates (local/platform/*.sql):
-- auth.* claim functions, the API roles, default privileges in public, Vault and pg_net.
begin;
select plan(36);

-- Section: auth.uid() / role() / email() / jwt() from request.jwt.claims (PostgREST >= 9)
select set_config('request.jwt.claims',
  '{"sub": "6f1c1c1e-9d56-4c8a-9f6e-0d9d2f7c1a01", "role": "authenticated", "email": "claims@example.test", "aud": "authenticated", "app_metadata": {"role": "admin"}}',
  true);
select is(auth.uid(), '6f1c1c1e-9d56-4c8a-9f6e-0d9d2f7c1a01'::uuid, 'auth.uid() reads sub from request.jwt.claims');
select is(auth.role(), 'authenticated', 'auth.role() reads role from request.jwt.claims');
select is(auth.email(), 'claims@example.test', 'auth.email() reads email from request.jwt.claims');
select is(auth.jwt() -> 'app_metadata' ->> 'role', 'admin', 'auth.jwt() returns the whole claims object');

-- Section: the older per-claim settings (PostgREST < 9) still work, and win when both are set
select set_config('request.jwt.claims', '', true);
select set_config('request.jwt.claim.sub', '0b8f3f6a-3a3e-4b59-8d7e-2b1f0b5c9e02', true);
select set_config('request.jwt.claim.role', 'service_role', true);
select set_config('request.jwt.claim.email', 'legacy@example.test', true);
select is(auth.uid(), '0b8f3f6a-3a3e-4b59-8d7e-2b1f0b5c9e02'::uuid, 'auth.uid() reads request.jwt.claim.sub');
select is(auth.role(), 'service_role', 'auth.role() reads request.jwt.claim.role');
select is(auth.email(), 'legacy@example.test', 'auth.email() reads request.jwt.claim.email');
select set_config('request.jwt.claim', '{"sub": "0b8f3f6a-3a3e-4b59-8d7e-2b1f0b5c9e02", "role": "anon"}', true);
select is(auth.jwt() ->> 'role', 'anon', 'auth.jwt() reads request.jwt.claim');

select tests.clear_authentication();
select ok(auth.uid() is null and auth.role() is null and auth.jwt() is null,
  'without claims auth.uid(), auth.role() and auth.jwt() are null');

-- Section: the test helpers set claims exactly as PostgREST does
select tests.create_user('platform_user', 'Platform.User@Example.test', '{}', '{"role": "admin"}');
select tests.authenticate_as('platform_user');
select is(current_user::text, 'authenticated', 'tests.authenticate_as switches to role authenticated');
select is(auth.uid(), tests.get_user_id('platform_user'), 'tests.authenticate_as sets sub to the user''s id');
select is(auth.email(), 'platform.user@example.test', 'tests.authenticate_as sets the user''s email');
select is(auth.jwt() -> 'app_metadata' ->> 'role', 'admin', 'tests.authenticate_as carries app_metadata');
select tests.authenticate_as_service_role();
select is(current_user::text || '/' || auth.role(), 'service_role/service_role', 'tests.authenticate_as_service_role sets role and claims');
select tests.clear_authentication();
select is(current_user::text, session_user::text, 'tests.clear_authentication returns to the session user');

-- Section: roles
select ok((select rolbypassrls and not rolcanlogin from pg_roles where rolname = 'service_role'), 'service_role bypasses RLS and cannot log in');
select ok((select not rolcanlogin and not rolbypassrls from pg_roles where rolname = 'anon'), 'anon cannot log in nor bypass RLS');
select ok((select not rolcanlogin and not rolbypassrls from pg_roles where rolname = 'authenticated'), 'authenticated cannot log in nor bypass RLS');
select ok((select rolcanlogin and not rolsuper from pg_roles where rolname = 'authenticator'), 'authenticator logs in and is not a superuser');
select ok(pg_has_role('authenticator', 'anon', 'MEMBER') and pg_has_role('authenticator', 'authenticated', 'MEMBER')
  and pg_has_role('authenticator', 'service_role', 'MEMBER'), 'authenticator is a member of anon, authenticated and service_role');

-- Section: Supabase's default privileges in public: RLS is the only guard
create table public.platform_default_privileges_probe (id int);
create function public.platform_default_privileges_fn() returns int language sql as 'select 1';
select table_privs_are('public', 'platform_default_privileges_probe', 'anon',
  array['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'], 'a new public table grants everything to anon');
select table_privs_are('public', 'platform_default_privileges_probe', 'authenticated',
  array['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'], 'a new public table grants everything to authenticated');
select table_privs_are('public', 'platform_default_privileges_probe', 'service_role',
  array['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'], 'a new public table grants everything to service_role');
select ok(has_function_privilege('anon', 'public.platform_default_privileges_fn()', 'execute')
  and has_function_privilege('authenticated', 'public.platform_default_privileges_fn()', 'execute'),
  'a new public function is executable by anon and authenticated');

-- Section: Vault
select ok(vault.create_secret('platform-test-secret-value', 'platform_test_secret', 'pgTAP') is not null, 'vault.create_secret returns an id');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'platform_test_secret'),
  'platform-test-secret-value', 'vault.decrypted_secrets returns the secret');
select ok((select position('platform-test-secret-value' in secret) = 0 from vault.secrets where name = 'platform_test_secret'),
  'vault.secrets stores the secret encrypted');
select ok(not has_schema_privilege('anon', 'vault', 'usage') and not has_schema_privilege('authenticated', 'vault', 'usage'),
  'anon and authenticated have no usage on schema vault');
select ok(not has_table_privilege('anon', 'vault.decrypted_secrets', 'select')
  and not has_table_privilege('authenticated', 'vault.decrypted_secrets', 'select')
  and not has_function_privilege('authenticated', 'vault.create_secret(text, text, text, uuid)', 'execute'),
  'anon and authenticated can neither read vault.decrypted_secrets nor call vault.create_secret');
select tests.authenticate_as('platform_user');
select throws_ok($$select decrypted_secret from vault.decrypted_secrets$$, '42501', null,
  'an authenticated user reading vault.decrypted_secrets gets permission denied');
select tests.clear_authentication();

-- Section: pg_net
create temp table platform_net_request on commit drop as
  select net.http_post(
    url := 'http://127.0.0.1:9/hook',
    body := '{"job": "sync"}'::jsonb,
    params := '{"a": "1 2"}'::jsonb,
    headers := '{"Content-Type": "application/json", "Authorization": "Bearer test"}'::jsonb
  ) as id;
select ok((select id is not null from platform_net_request), 'net.http_post returns a request id');
select is(
  (select jsonb_build_object('method', q.method, 'url', q.url, 'headers', q.headers, 'body', convert_from(q.body, 'UTF8')::jsonb)
   from net.http_request_queue q where q.id = (select id from platform_net_request)),
  jsonb_build_object('method', 'POST', 'url', 'http://127.0.0.1:9/hook?a=1%202',
    'headers', '{"Content-Type": "application/json", "Authorization": "Bearer test"}'::jsonb, 'body', '{"job": "sync"}'::jsonb),
  'net.http_post queues the method, url with params, headers and body');
create temp table platform_net_get on commit drop as select net.http_get('http://127.0.0.1:9/ping') as id;
select is((select q.method || ' ' || q.url from net.http_request_queue q where q.id = (select id from platform_net_get)),
  'GET http://127.0.0.1:9/ping', 'net.http_get queues a GET');
select ok(not has_function_privilege('anon', 'net.http_post(text, jsonb, jsonb, jsonb, integer)', 'execute')
  and not has_function_privilege('authenticated', 'net.http_post(text, jsonb, jsonb, jsonb, integer)', 'execute')
  and not has_schema_privilege('authenticated', 'net', 'usage'),
  'anon and authenticated cannot call net.http_post');
select ok(has_function_privilege('service_role', 'net.http_post(text, jsonb, jsonb, jsonb, integer)', 'execute'),
  'service_role can call net.http_post');
select tests.authenticate_as('platform_user');
select throws_ok($$select net.http_post('http://127.0.0.1:9/x')$$, '42501', null,
  'an authenticated user calling net.http_post gets permission denied');
select tests.clear_authentication();

select * from finish();
rollback;
