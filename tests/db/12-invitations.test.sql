-- Invitations: owners invite by email with a single-use token (only its sha256 is stored);
-- public.accept_invitation(token) admits the invited email's user once, before expiry, unless
-- revoked, and answers every other case with its own SQLSTATE (see the migration).
begin;
select plan(25);

-- Members cannot read token_hash: the test finds invitations by their token with
-- the superuser's rights.
create function pg_temp.invitation_id(token text) returns uuid
language sql stable security definer set search_path = '' as $$
  select id from public.invitations where token_hash = encode(sha256(convert_to(token, 'UTF8')), 'hex')
$$;

select tests.create_user('inv_owner');
select tests.create_user('inv_invitee', 'invitee@example.test');
select tests.create_user('inv_other', 'other@example.test');

select tests.authenticate_as('inv_owner');
select id as team from public.create_workspace('Invitation Team') \gset

-- Section: creating
select lives_ok(format($$insert into public.invitations (workspace_id, email, role, token_hash) values (%L, ' Invitee@Example.TEST ', 'editor', encode(sha256('token-happy'), 'hex'))$$, :'team'),
  'an owner invites an email address');
select is((select email from public.invitations where id = pg_temp.invitation_id('token-happy')), 'invitee@example.test',
  'the email is stored trimmed and lower-cased');
select is((select invited_by from public.invitations where id = pg_temp.invitation_id('token-happy')), auth.uid(),
  'invited_by defaults to the inviting owner');
select is((select expires_at - created_at from public.invitations where id = pg_temp.invitation_id('token-happy')), interval '7 days',
  'an invitation expires after seven days by default');
select throws_ok(format($$insert into public.invitations (workspace_id, email, role, token_hash, invited_by) values (%L, 'x@example.test', 'viewer', encode(sha256('token-forged'), 'hex'), %L)$$, :'team', tests.get_user_id('inv_other')),
  '42501', null, 'an owner cannot invite in someone else''s name');
select throws_ok(format($$insert into public.invitations (workspace_id, email, role, token_hash) values (%L, 'x@example.test', 'viewer', 'token-in-clear')$$, :'team'),
  '23514', null, 'a token in clear is rejected: only a sha256 hex digest fits token_hash');
select lives_ok(format($$insert into public.invitations (workspace_id, email, role, token_hash) values
    (%1$L, 'invitee@example.test', 'viewer', encode(sha256('token-revoked'), 'hex')),
    (%1$L, 'invitee@example.test', 'viewer', encode(sha256('token-lower-role'), 'hex')),
    (%1$L, 'invitee@example.test', 'owner', encode(sha256('token-owner'), 'hex'))$$, :'team'),
  'an owner creates several invitations for one address');
with u as (update public.invitations set revoked_at = now() where id = pg_temp.invitation_id('token-revoked') returning 1)
select is(count(*), 1::bigint, 'an owner revokes a pending invitation') from u;

select tests.clear_authentication();
insert into public.invitations (workspace_id, email, role, token_hash, invited_by, created_at, expires_at)
values (:'team', 'invitee@example.test', 'editor', encode(sha256('token-expired'), 'hex'), tests.get_user_id('inv_owner'),
  now() - interval '8 days', now() - interval '1 day');

-- Section: refusals before acceptance
select tests.authenticate_as('inv_other');
select throws_ok($$select * from public.accept_invitation('token-happy')$$, 'CEI05',
  'this invitation was sent to another email address', 'a user with another email cannot accept');
select throws_ok($$select * from public.accept_invitation('token-expired')$$, 'CEI05', null,
  'the email is checked before the invitation''s state, so others learn nothing about it');
select is((select count(*) from public.workspaces where id = :'team'), 0::bigint, 'the refused user did not join');
select throws_ok($$select * from public.accept_invitation('no-such-token')$$, 'CEI01', 'invitation not found',
  'an unknown token is not found');
select throws_ok($$select * from public.accept_invitation(null)$$, 'CEI01', null, 'a null token is not found');
select tests.authenticate_as_anon();
select throws_ok($$select * from public.accept_invitation('token-happy')$$, '42501', null, 'anon cannot call accept_invitation');
select tests.authenticate_as_service_role();
select throws_ok($$select * from public.accept_invitation('token-happy')$$, '28000', 'not authenticated',
  'accept_invitation needs a user in the claims');

select tests.authenticate_as('inv_invitee');
select throws_ok($$select * from public.accept_invitation('token-expired')$$, 'CEI02', 'invitation has expired',
  'an expired invitation is refused');
select throws_ok($$select * from public.accept_invitation('token-revoked')$$, 'CEI04', 'invitation has been revoked',
  'a revoked invitation is refused');

-- Section: accepting
select results_eq($$select workspace_id, role::text from public.accept_invitation('token-happy')$$,
  format($$values (%L::uuid, 'editor')$$, :'team'),
  'the invited user accepts and gets the invited role');
select is((select count(*) from public.workspaces where id = :'team'), 1::bigint, 'the new member reads the workspace');
select throws_ok($$select * from public.accept_invitation('token-happy')$$, 'CEI03', 'invitation has already been used',
  'a used invitation cannot be used again');
select results_eq($$select role::text from public.accept_invitation('token-lower-role')$$, $$values ('editor')$$,
  'accepting a lower role keeps the member''s higher role');
select results_eq($$select role::text from public.accept_invitation('token-owner')$$, $$values ('owner')$$,
  'accepting a higher role raises the member to it');

select tests.clear_authentication();
select is((select accepted_by from public.invitations where id = pg_temp.invitation_id('token-happy') and accepted_at is not null),
  tests.get_user_id('inv_invitee'), 'the invitation records who accepted it and when');
select tests.create_user('inv_other_2', 'outsider-invitee@example.test');
select tests.authenticate_as('inv_owner');
with u as (update public.invitations set revoked_at = now() where id = pg_temp.invitation_id('token-happy') returning 1)
select is(count(*), 0::bigint, 'an accepted invitation cannot be revoked') from u;
select tests.authenticate_as('inv_other_2');
select is((select count(*) from public.invitations), 0::bigint, 'a user outside the workspace lists no invitations');

select * from finish();
rollback;
