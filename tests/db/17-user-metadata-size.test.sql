-- user_metadata is bounded where it is stored (auth.users), whichever way it arrives: sign-up,
-- an update of the user, or a direct write. 4096 bytes of stored jsonb text pass, one more fails.
begin;
select plan(5);

-- '{"k": "' || x || '"}' is 9 bytes plus the value.
select lives_ok(
  $$select tests.create_user('meta_fits', 'meta-fits@example.test', jsonb_build_object('k', repeat('x', 4096 - 9)))$$,
  'metadata of exactly 4096 bytes is stored');
select throws_ok(
  $$select tests.create_user('meta_big', 'meta-big@example.test', jsonb_build_object('k', repeat('x', 4096 - 8)))$$,
  '54000', 'user_metadata is too large: 4097 bytes, at most 4096',
  'one byte more is refused at sign-up');
select throws_ok(
  format($$update auth.users set raw_user_meta_data = raw_user_meta_data || '{"more": 1}' where id = %L$$, tests.get_user_id('meta_fits')),
  '54000', null, 'an update that grows it past the bound is refused');
select lives_ok(
  format($$update auth.users set raw_user_meta_data = '{"display_name": "Ada"}' where id = %L$$, tests.get_user_id('meta_fits')),
  'an update that shrinks it is stored');
select lives_ok(
  format($$update auth.users set last_sign_in_at = now() where id = %L$$, tests.get_user_id('meta_fits')),
  'writes of other columns do not measure it');

select * from finish();
rollback;
