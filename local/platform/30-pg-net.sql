-- Emulation of pg_net's SQL surface: net.http_post / net.http_get / net.http_delete enqueue a
-- row in net.http_request_queue and return its id; local/pgnet sends it after the transaction
-- commits (NOTIFY is only delivered on commit, the polling fallback only sees committed rows) and
-- writes net._http_response, exactly the tables pg_net has.

-- Section: schema and tables
create schema if not exists net;
revoke all on schema net from public;

create unlogged table if not exists net.http_request_queue (
  id bigserial primary key,
  method text not null check (method in ('GET', 'POST', 'DELETE')),
  url text not null,
  headers jsonb not null,
  body bytea,
  timeout_milliseconds integer not null
);

create unlogged table if not exists net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
create index if not exists _http_response_created_idx on net._http_response (created);

-- Section: functions
create or replace function net._urlencode_params(url text, params jsonb) returns text
language sql immutable as $$
  select case
    when params is null or params = '{}'::jsonb then url
    else url || case when position('?' in url) > 0 then '&' else '?' end || (
      select string_agg(
        replace(replace(replace(k, '%', '%25'), '&', '%26'), '=', '%3D') || '=' ||
        replace(replace(replace(replace(v, '%', '%25'), '&', '%26'), '=', '%3D'), ' ', '%20'),
        '&')
      from jsonb_each_text(params) as p(k, v))
  end
$$;

create or replace function net._enqueue(method text, url text, headers jsonb, body bytea, timeout_milliseconds integer)
returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, url, coalesce(headers, '{}'::jsonb), body, timeout_milliseconds)
  returning id into request_id;
  -- Delivered only if this transaction commits: a rolled-back caller sends nothing.
  perform pg_notify('pg_net_request', request_id::text);
  return request_id;
end
$$;

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile security definer set search_path = '' as $$
  select net._enqueue('POST', net._urlencode_params(url, params), headers,
    convert_to(body::text, 'UTF8'), timeout_milliseconds)
$$;

create or replace function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile security definer set search_path = '' as $$
  select net._enqueue('GET', net._urlencode_params(url, params), headers, null, timeout_milliseconds)
$$;

create or replace function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile security definer set search_path = '' as $$
  select net._enqueue('DELETE', net._urlencode_params(url, params), headers, null, timeout_milliseconds)
$$;

-- Section: grants (pg_net on hosted Supabase is callable by postgres and service_role)
grant usage on schema net to service_role;
grant select on net._http_response to service_role;
revoke execute on all functions in schema net from public;
grant execute on function net.http_post(text, jsonb, jsonb, jsonb, integer),
  net.http_get(text, jsonb, jsonb, integer), net.http_delete(text, jsonb, jsonb, integer)
  to service_role;
