-- Emulation of Supabase Vault's SQL surface: vault.create_secret(), vault.update_secret() and
-- the view vault.decrypted_secrets. Hosted Vault encrypts with pgsodium and a key outside the
-- database; here pgcrypto with a root key kept in a table no API role can read.

-- Section: schema and tables
create schema if not exists vault;
revoke all on schema vault from public;

create table if not exists vault._root_key (
  singleton boolean primary key default true check (singleton),
  key text not null
);
insert into vault._root_key (key)
  values (encode(extensions.gen_random_bytes(32), 'hex'))
  on conflict do nothing;

create table if not exists vault.secrets (
  id uuid primary key default extensions.gen_random_uuid(),
  name text unique,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Section: functions
create or replace function vault.create_secret(
  new_secret text, new_name text default null, new_description text default '', new_key_id uuid default null
) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  new_id uuid;
begin
  insert into vault.secrets (name, description, secret, key_id)
  values (
    new_name, coalesce(new_description, ''),
    encode(extensions.pgp_sym_encrypt(new_secret, (select key from vault._root_key)), 'base64'),
    new_key_id
  )
  returning id into new_id;
  return new_id;
end
$$;

create or replace function vault.update_secret(
  secret_id uuid, new_secret text default null, new_name text default null,
  new_description text default null, new_key_id uuid default null
) returns void
language plpgsql security definer set search_path = '' as $$
begin
  update vault.secrets set
    secret = coalesce(
      encode(extensions.pgp_sym_encrypt(new_secret, (select key from vault._root_key)), 'base64'),
      secret),
    name = coalesce(new_name, name),
    description = coalesce(new_description, description),
    key_id = coalesce(new_key_id, key_id),
    updated_at = now()
  where id = secret_id;
end
$$;

-- Section: views
create or replace view vault.decrypted_secrets as
  select s.id, s.name, s.description, s.secret,
    extensions.pgp_sym_decrypt(decode(s.secret, 'base64'), (select key from vault._root_key)) as decrypted_secret,
    s.key_id, s.nonce, s.created_at, s.updated_at
  from vault.secrets s;

-- Section: grants (service_role and postgres only, never anon/authenticated)
grant usage on schema vault to service_role;
grant select on vault.decrypted_secrets, vault.secrets to service_role;
grant execute on function vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid) to service_role;
revoke execute on function vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid) from public;
