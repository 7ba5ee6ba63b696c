-- Health is polled by monitors as often as they like (issue: every call wrote to the database).
-- Within the probe lease a call must only read: the upsert that claims leases took a row lock
-- (a write: the lease row's xmax) even when it claimed nothing.
begin;
select plan(4);

select is(array(select claimed from ops.claim_health_probes(array['pgtap-r1', 'pgtap-r2']) order by service), array[true, true],
  'free leases are claimed');
create temp table lease_before as select service, xmax::text as row_xmax, leased_until from ops.health_probe_leases where service like 'pgtap-r%';

select is(array(select claimed from ops.claim_health_probes(array['pgtap-r1', 'pgtap-r2']) order by service), array[false, false],
  'within the lease nobody claims');
select is(
  (select array_agg(l.xmax::text || '/' || l.leased_until order by l.service) from ops.health_probe_leases l where l.service like 'pgtap-r%'),
  (select array_agg(b.row_xmax || '/' || b.leased_until order by b.service) from lease_before b),
  'a call within the lease neither locks nor changes the lease rows');

update ops.health_probe_leases set leased_until = now() - interval '1 second' where service = 'pgtap-r2';
select is(array(select claimed from ops.claim_health_probes(array['pgtap-r1', 'pgtap-r2']) order by service), array[false, true],
  'an expired lease is claimed again, the current one is not');

select * from finish();
rollback;
