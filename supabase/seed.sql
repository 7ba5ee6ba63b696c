-- Demo data for the local stack (never applied to production). Login printed by `npm start`.
insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values (
  '00000000-0000-4000-8000-00000000d3e0', 'authenticated', 'authenticated', 'demo@example.com',
  extensions.crypt('demo-password', extensions.gen_salt('bf', 10)), now(),
  '{"provider": "email", "providers": ["email"]}', '{"display_name": "Demo Creator"}', now(), now()
)
on conflict (id) do nothing;
