-- The OAuth state of youtube-oauth was a bearer token: whoever brought it back from Google's
-- consent page completed the connection, into the workspace of the user who had started it. A
-- consent link started by one user and completed by another therefore stored the second person's
-- channel and refresh token in the first one's workspace. Completion now happens in the web app,
-- with the session of the person who completes it (youtube-oauth POST /complete), and the state is
-- used up only together with the caller's user id: a different caller gets 'other_user' and
-- nothing else (not the PKCE verifier, not the workspace), and the state is spent, so the code
-- that came with it can never be exchanged.

create table public.channels (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  -- A channel belongs to one workspace at a time: connecting it elsewhere is a conflict (409).
  youtube_channel_id text not null unique check (youtube_channel_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  title text,
  description text,
  thumbnail_url text,
  uploads_playlist_id text,
  status text not null default 'active' check (status in ('active', 'reauth_required', 'disconnected')),
  connected_by uuid references auth.users (id) on delete set null,
  connected_at timestamptz,
  last_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Target of the (id, workspace_id) foreign keys below: a video can only belong to a channel of
  -- its own workspace, so a tenant's rows never point into another tenant.
  unique (id, workspace_id)
);

create index channels_workspace_id_idx on public.channels (workspace_id);

create index channels_connected_by_idx on public.channels (connected_by);

create table private.channel_credentials (
  channel_id uuid primary key references public.channels (id) on delete cascade,
  refresh_token_enc bytea,
  access_token_enc bytea,
  access_token_expires_at timestamptz,
  scopes text[] not null default '{}',
  updated_at timestamptz not null default now()
);

alter table public.channels enable row level security;

revoke all on public.channels from anon, authenticated;

grant all on public.channels to service_role;

grant select, delete on public.channels to authenticated;

revoke all on private.channel_credentials from public, anon, authenticated, service_role;

-- service_role has no USAGE on schema private, so these grants only take effect if a later
-- migration gives it; today the public wrappers above are the way in.
grant select, insert, update, delete on private.channel_credentials to service_role;

-- OAuth `state` of a consent started by youtube-oauth /start: stored as its sha256 only, with
-- the PKCE verifier encrypted, for ten minutes, usable once.
create table private.youtube_oauth_states (
  state_hash text primary key check (state_hash ~ '^[0-9a-f]{64}$'),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  code_verifier_enc bytea not null,
  redirect_uri text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);

create index youtube_oauth_states_expires_at_idx on private.youtube_oauth_states (expires_at);

revoke all on private.youtube_oauth_states from public, anon, authenticated, service_role;

--
-- Until now service_role had no USAGE on `private` at all, and the public wrappers above were its
-- way in; grants on private tables written in earlier migrations (channel credentials, quota
-- costs) and on the token helpers took no effect. USAGE would make them live, so they go first:
-- secrets stay reachable only through the security-definer functions granted one by one.
revoke all on private.channel_credentials from service_role;

create function private.token_key() returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  k text;
begin
  select s.decrypted_secret into k from vault.decrypted_secrets s where s.name = 'token_encryption_key';
  if k is null then
    raise exception 'vault secret token_encryption_key is missing' using errcode = 'CET01';
  end if;
  return k;
end
$$;

revoke all on function private.token_key() from public, anon, authenticated, service_role;

grant execute on function private.token_key() to service_role;

revoke all on function private.token_key() from service_role;

create function private.encrypt_token(token text) returns bytea
language sql volatile security definer set search_path = '' as $$
  select case when token is null then null
    else extensions.pgp_sym_encrypt(token, private.token_key(), 'cipher-algo=aes256') end
$$;

revoke all on function private.encrypt_token(text) from public, anon, authenticated, service_role;

grant execute on function private.encrypt_token(text) to service_role;

revoke all on function private.encrypt_token(text) from service_role;

create function private.decrypt_token(encrypted bytea) returns text
language sql stable security definer set search_path = '' as $$
  select case when encrypted is null then null
    else extensions.pgp_sym_decrypt(encrypted, private.token_key()) end
$$;

revoke all on function private.decrypt_token(bytea) from public, anon, authenticated, service_role;

grant execute on function private.decrypt_token(bytea) to service_role;

revoke all on function private.decrypt_token(bytea) from service_role;

-- The decrypted tokens of a channel (no row when none are stored).
create function private.channel_credentials(channel_id uuid)
returns table (refresh_token text, access_token text, access_token_expires_at timestamptz, scopes text[], updated_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select private.decrypt_token(c.refresh_token_enc), private.decrypt_token(c.access_token_enc),
    c.access_token_expires_at, c.scopes, c.updated_at
  from private.channel_credentials c
  where c.channel_id = channel_credentials.channel_id
$$;

revoke all on function private.channel_credentials(uuid) from public, anon, authenticated;

grant execute on function private.channel_credentials(uuid) to service_role;

-- Stores a channel's tokens encrypted. A NULL refresh_token keeps the stored one: Google sends
-- no new refresh token on refresh grants and often none on reconnect, and wiping it would leave
-- the channel unable to refresh (the reconnect loop seen in peer tools).
create function private.save_channel_credentials(
  channel_id uuid,
  refresh_token text,
  access_token text,
  access_token_expires_at timestamptz,
  scopes text[] default null
) returns void
language plpgsql volatile security definer set search_path = '' as $$
begin
  insert into private.channel_credentials as c
    (channel_id, refresh_token_enc, access_token_enc, access_token_expires_at, scopes)
  values (
    save_channel_credentials.channel_id,
    private.encrypt_token(save_channel_credentials.refresh_token),
    private.encrypt_token(save_channel_credentials.access_token),
    save_channel_credentials.access_token_expires_at,
    coalesce(save_channel_credentials.scopes, '{}')
  )
  on conflict on constraint channel_credentials_pkey do update set
    refresh_token_enc = coalesce(excluded.refresh_token_enc, c.refresh_token_enc),
    access_token_enc = excluded.access_token_enc,
    access_token_expires_at = excluded.access_token_expires_at,
    scopes = case when save_channel_credentials.scopes is null then c.scopes else excluded.scopes end,
    updated_at = now();
end
$$;

revoke all on function private.save_channel_credentials(uuid, text, text, timestamptz, text[]) from public, anon, authenticated;

grant execute on function private.save_channel_credentials(uuid, text, text, timestamptz, text[]) to service_role;

-- Deletes a channel's tokens and returns the refresh token that was stored (to revoke it at
-- Google), or NULL when there was none.
create function private.delete_channel_credentials(channel_id uuid) returns text
language sql volatile security definer set search_path = '' as $$
  delete from private.channel_credentials c
  where c.channel_id = delete_channel_credentials.channel_id
  returning private.decrypt_token(c.refresh_token_enc)
$$;

revoke all on function private.delete_channel_credentials(uuid) from public, anon, authenticated;

grant execute on function private.delete_channel_credentials(uuid) to service_role;

-- Stores a new state; returns when it expires. Also drops states that expired a day ago.
create function private.create_youtube_oauth_state(
  state_hash text, workspace_id uuid, user_id uuid, code_verifier text, redirect_uri text
) returns timestamptz
language plpgsql volatile security definer set search_path = '' as $$
declare
  expires timestamptz := now() + interval '10 minutes';
begin
  delete from private.youtube_oauth_states s where s.expires_at < now() - interval '1 day';
  insert into private.youtube_oauth_states (state_hash, workspace_id, user_id, code_verifier_enc, redirect_uri, expires_at)
  values (create_youtube_oauth_state.state_hash, create_youtube_oauth_state.workspace_id,
    create_youtube_oauth_state.user_id, private.encrypt_token(create_youtube_oauth_state.code_verifier),
    create_youtube_oauth_state.redirect_uri, expires);
  return expires;
end
$$;

revoke all on function private.create_youtube_oauth_state(text, uuid, uuid, text, text) from public, anon, authenticated;

grant execute on function private.create_youtube_oauth_state(text, uuid, uuid, text, text) to service_role;

-- outcome: 'ok' (with what was stored), 'other_user' (started by someone else; spent),
-- 'unknown' (never issued: forged), 'used' (replayed), 'expired'. Concurrent uses of one state:
-- the row lock lets one through.
create function private.consume_youtube_oauth_state(state_hash text, caller uuid)
returns table (outcome text, workspace_id uuid, user_id uuid, code_verifier text, redirect_uri text)
language plpgsql volatile security definer set search_path = '' as $$
#variable_conflict use_column
declare
  found_row private.youtube_oauth_states;
begin
  update private.youtube_oauth_states s set used_at = now()
  where s.state_hash = consume_youtube_oauth_state.state_hash and s.used_at is null and s.expires_at > now()
  returning s.* into found_row;
  if found_row.state_hash is not null and found_row.user_id is distinct from caller then
    return query select 'other_user'::text, null::uuid, null::uuid, null::text, null::text;
    return;
  end if;
  if found_row.state_hash is not null then
    return query select 'ok'::text, found_row.workspace_id, found_row.user_id,
      private.decrypt_token(found_row.code_verifier_enc), found_row.redirect_uri;
    return;
  end if;
  select * into found_row from private.youtube_oauth_states s where s.state_hash = consume_youtube_oauth_state.state_hash;
  return query select
    case when found_row.state_hash is null then 'unknown' when found_row.used_at is not null then 'used' else 'expired' end,
    null::uuid, null::uuid, null::text, null::text;
end
$$;

revoke all on function private.consume_youtube_oauth_state(text, uuid) from public, anon, authenticated;

grant execute on function private.consume_youtube_oauth_state(text, uuid) to service_role;

-- The key OAuth tokens are encrypted with lives in Vault, never in a table of ours.
do $$
begin
  if not exists (select 1 from vault.decrypted_secrets where name = 'token_encryption_key') then
    perform vault.create_secret(encode(extensions.gen_random_bytes(32), 'hex'), 'token_encryption_key',
      'pgcrypto key for private.channel_credentials (YouTube OAuth tokens)');
  end if;
end
$$;

create trigger channels_touch_updated_at before update on public.channels
  for each row execute function private.touch_updated_at();

-- channels: members read; owners manage (the grants below leave API roles delete only; inserts
-- and identity changes come from the OAuth flow, see the header).
create policy "members read channels" on public.channels
  for select to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user())));

create policy "owners add channels" on public.channels
  for insert to authenticated
  with check (public.has_role_on_workspace(workspace_id, 'owner'));

create policy "owners update channels" on public.channels
  for update to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user('owner'))))
  with check (public.has_role_on_workspace(workspace_id, 'owner'));

create policy "owners remove channels" on public.channels
  for delete to authenticated
  using (workspace_id = any (array(select public.workspaces_of_current_user('owner'))));
