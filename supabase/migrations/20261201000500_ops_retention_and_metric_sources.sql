-- Retention policies and the metric sources the admin metrics and alerts read.

create table ops.retention_policies (
  table_name text primary key check (table_name ~ '^ops\.[a-z_]+$'),
  time_column text not null check (time_column ~ '^[a-z_]+$'),
  keep interval not null check (keep >= interval '1 day'),
  updated_at timestamptz not null default now()
);

-- Tables of later features that admin-metrics counts and the failed-jobs alert watches. Guarded:
-- a source whose table or columns do not exist (yet) is reported as unavailable, never an error.
-- The engineers of those features keep these rows right (update them in their migration).
create table ops.metric_sources (
  key text primary key check (key ~ '^[a-z_]+$'),
  table_name text not null check (table_name ~ '^[a-z_]+\.[a-z_]+$'),
  created_column text not null default 'created_at',
  changed_column text not null default 'updated_at',
  status_column text not null default 'status',
  failed_statuses text[] not null default '{}',
  alert_on_failure boolean not null default false,
  description text not null default ''
);

-- Rows of a metric source created in the window, by status; unavailable when the table (or a
-- column) does not exist yet.
create function ops.source_counts(source_key text, since timestamptz) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  src ops.metric_sources;
  result jsonb;
begin
  select * into src from ops.metric_sources m where m.key = source_key;
  if src is null or to_regclass(src.table_name) is null
     or (select count(*) from pg_catalog.pg_attribute a
         where a.attrelid = to_regclass(src.table_name) and not a.attisdropped
           and a.attname in (src.created_column, src.changed_column, src.status_column))
        < cardinality(array(select distinct unnest(array[src.created_column, src.changed_column, src.status_column]))) then
    return jsonb_build_object('available', false);
  end if;
  execute format($q$
    select jsonb_build_object('available', true,
      'created', (select count(*) from %1$s where %2$I >= $1),
      'by_status', coalesce((select jsonb_object_agg(s, n) from (
        select %3$I::text as s, count(*) as n from %1$s where %2$I >= $1 group by 1) x), '{}'::jsonb),
      'failed', (select count(*) from %1$s where %3$I::text = any ($2) and %4$I >= $1))
    $q$, src.table_name::regclass, src.created_column, src.status_column, src.changed_column)
    into result using since, src.failed_statuses;
  return result;
end
$$;

revoke all on function ops.source_counts(text, timestamptz) from public, anon, authenticated;

grant execute on function ops.source_counts(text, timestamptz) to service_role;
