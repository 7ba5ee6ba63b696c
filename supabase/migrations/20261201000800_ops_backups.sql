-- The backup runs (ops.backups) that the daily snapshot records and the backup_missing alert reads.

create table ops.backups (
  id bigserial primary key,
  kind text not null default 'snapshot',
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  details jsonb not null default '{}'::jsonb,
  check ((status = 'running') = (finished_at is null))
);

create index backups_status_finished_at_idx on ops.backups (status, finished_at desc);
