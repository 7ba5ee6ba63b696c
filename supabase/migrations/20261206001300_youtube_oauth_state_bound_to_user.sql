-- The OAuth state of youtube-oauth was a bearer token: whoever brought it back from Google's
-- consent page completed the connection, into the workspace of the user who had started it. A
-- consent link started by one user and completed by another therefore stored the second person's
-- channel and refresh token in the first one's workspace. Completion now happens in the web app,
-- with the session of the person who completes it (youtube-oauth POST /complete), and the state is
-- used up only together with the caller's user id: a different caller gets 'other_user' and
-- nothing else (not the PKCE verifier, not the workspace), and the state is spent, so the code
-- that came with it can never be exchanged.

drop function public.consume_youtube_oauth_state(text);

-- outcome: 'ok' (with what was stored), 'other_user' (started by someone else; spent),
-- 'unknown' (never issued: forged), 'used' (replayed), 'expired'. Concurrent uses of one state:
-- the row lock lets one through.
create function public.consume_youtube_oauth_state(state_hash text, caller uuid)
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

revoke all on function public.consume_youtube_oauth_state(text, uuid) from public, anon, authenticated;
grant execute on function public.consume_youtube_oauth_state(text, uuid) to service_role;
