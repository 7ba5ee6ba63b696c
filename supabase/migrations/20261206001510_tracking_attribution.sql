-- Tracking attributed a call to whatever workspace its URL named (a `workspace_id` path or query
-- parameter), before anything checked that the caller belongs to it: any user could put their
-- calls, and their errors, on another tenant's account by adding `?workspace_id=<theirs>` to a
-- request, even one answered 404. The user of a call is the verified token's subject; a workspace
-- now sticks to a user's call or error only when that user is a member of it when the row is
-- written. (Calls without a user: the functions attribute only the service role's, see
-- _shared/observability/tracking.ts; anonymous callers never name a workspace.)
create function ops.attributed_workspace(user_id uuid, workspace_id uuid) returns uuid
language sql stable security definer set search_path = '' as $$
  select case
    when attributed_workspace.user_id is null or attributed_workspace.workspace_id is null then attributed_workspace.workspace_id
    when exists (select 1 from public.workspace_members m
                 where m.workspace_id = attributed_workspace.workspace_id and m.user_id = attributed_workspace.user_id)
      then attributed_workspace.workspace_id
  end
$$;
revoke all on function ops.attributed_workspace(uuid, uuid) from public;

create function ops.verify_call_attribution() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  new.workspace_id := ops.attributed_workspace(new.user_id, new.workspace_id);
  return new;
end
$$;
revoke all on function ops.verify_call_attribution() from public;

create trigger verify_call_attribution
  before insert on ops.api_calls
  for each row execute function ops.verify_call_attribution();

create function ops.verify_error_attribution() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  named uuid;
  kept uuid;
begin
  if jsonb_typeof(new.context -> 'workspace_id') = 'string' then
    -- Only what a uuid column would hold is kept; anything else is no attribution at all.
    if new.context ->> 'workspace_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then
      named := (new.context ->> 'workspace_id')::uuid;
      kept := ops.attributed_workspace(
        case when new.context ->> 'user_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
             then (new.context ->> 'user_id')::uuid end,
        named);
    end if;
    if kept is null then
      new.context := jsonb_set(new.context, '{workspace_id}', 'null'::jsonb);
    end if;
  end if;
  return new;
end
$$;
revoke all on function ops.verify_error_attribution() from public;

create trigger verify_error_attribution
  before insert on ops.errors
  for each row execute function ops.verify_error_attribution();
