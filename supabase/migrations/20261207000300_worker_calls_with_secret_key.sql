-- Worker wake-ups (pg_cron, chained invocations) authenticate with the project's secret API key.
--
-- Why: Supabase retires the legacy JWT anon / service_role keys by the end of 2026; a project
-- created today has a publishable key and secret keys (sb_secret_…), which are not JWTs. The
-- functions now verify callers themselves (verify_jwt = false) and take a secret key in the
-- `apikey` header as a service call. The secret key lives in the Vault secret `secret_api_key`.
--
-- The legacy name keeps working while present: when `secret_api_key` is missing or empty, the
-- wake-ups send `service_role_key` as before (`Authorization: Bearer <key>`), so a project that
-- has not created the new keys, or a deployment whose Vault still holds only the old secret,
-- keeps running. Both private.post_to_worker and private.call_worker build their headers here.

-- The headers a wake-up sends, or null (with the reason in a warning) when Vault holds neither key.
create or replace function private.worker_auth_headers()
returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  secret_key text := (select nullif(s.decrypted_secret, '') from vault.decrypted_secrets s where s.name = 'secret_api_key' limit 1);
  legacy_key text := (select nullif(s.decrypted_secret, '') from vault.decrypted_secrets s where s.name = 'service_role_key' limit 1);
begin
  if secret_key is not null then
    -- An opaque key is never a bearer token: it travels in apikey alone.
    return jsonb_build_object('apikey', secret_key, 'Content-Type', 'application/json');
  end if;
  if legacy_key is not null then
    return jsonb_build_object('Authorization', 'Bearer ' || legacy_key, 'apikey', legacy_key, 'Content-Type', 'application/json');
  end if;
  return null;
end
$$;

revoke all on function private.worker_auth_headers() from public, anon, authenticated;

create or replace function private.post_to_worker(function_path text, timeout_milliseconds integer)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
begin
  return private.call_worker(post_to_worker.function_path, '{}'::jsonb, post_to_worker.timeout_milliseconds);
end
$$;

create or replace function private.call_worker(function_path text, body jsonb, timeout_milliseconds integer)
returns bigint
language plpgsql volatile security definer set search_path = '' as $$
declare
  project_url text := (select nullif(s.decrypted_secret, '') from vault.decrypted_secrets s where s.name = 'project_url' limit 1);
  headers jsonb := private.worker_auth_headers();
begin
  if project_url is null or headers is null then
    raise warning '%: vault secrets project_url and secret_api_key (or the legacy service_role_key) are needed to wake the worker', function_path;
    return null;
  end if;
  return net.http_post(
    url := rtrim(project_url, '/') || '/functions/v1/' || function_path,
    headers := headers,
    body := coalesce(call_worker.body, '{}'::jsonb),
    timeout_milliseconds := call_worker.timeout_milliseconds
  );
end
$$;
