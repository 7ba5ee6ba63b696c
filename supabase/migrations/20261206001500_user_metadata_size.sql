-- user_metadata has no size limit in Supabase Auth: whatever a user sends at sign-up or with
-- updateUser is stored, copied into every access token they get (so into the Authorization header
-- of each request, where proxies refuse headers over 8-16 KB) and into every daily snapshot. This
-- guard bounds what is stored. Auth answers a refused write as a database error; the local auth
-- emulator checks the same bound first and answers 400, and clients never send more than a few
-- hundred bytes, so only a hand-made request reaches the guard.
create function private.refuse_oversized_user_metadata() returns trigger
language plpgsql set search_path = '' as $$
declare
  -- Measured as the stored jsonb's text, the same way the auth emulator measures it.
  bytes integer := octet_length(coalesce(new.raw_user_meta_data, '{}'::jsonb)::text);
begin
  if bytes > 4096 then
    raise exception 'user_metadata is too large: % bytes, at most 4096', bytes
      using errcode = '54000', hint = 'keep user_metadata to a few small fields';
  end if;
  return new;
end
$$;

create trigger refuse_oversized_user_metadata
  before insert or update of raw_user_meta_data on auth.users
  for each row execute function private.refuse_oversized_user_metadata();
revoke all on function private.refuse_oversized_user_metadata() from public;
