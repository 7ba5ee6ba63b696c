// The direct database surface, as hosted PostgREST serves it to any signed-in member (supabase-js
// `from` and `rpc`): every table and function in `public` that `authenticated` may use, found in
// the catalogue (so a new one is walked without touching this file), is sent malformed and
// oversize values as the owner, an editor and a viewer of a team workspace. A write must either
// be refused cleanly (a constraint, a permission, an invalid value: what the API maps to a 4xx)
// or leave only rows the API itself could have written (oracles.ts, built from the API's own zod
// schemas). Secret hashes must not be readable at all. Everything runs in one transaction that
// is rolled back. Runs on Deno (it imports the functions' own modules); ../db-surface.test.ts is
// the entry point for either test runner.
import { createFixture, type Fixture } from './fixtures.ts';
import { ROW_ORACLES, snapshotOf, violations } from './oracles.ts';
import { isCleanRefusal, lit, Session, type Actor, type Snapshot } from './session.ts';
import { validArgument, valuesOfArgument, valuesOfType } from './values.ts';

interface Column {
  table: string;
  column: string;
  type: string;
  labels: string[] | null;
  can_select: boolean;
  can_insert: boolean;
  can_update: boolean;
  generated: boolean;
}

interface Fn {
  name: string;
  args: { name: string; type: string; labels: string[] | null }[];
}

const SECRET_COLUMN = /(secret|_hash$|password|_enc$|credential|refresh_token|access_token|session_uri)/i;

const COLUMNS = `
  select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
    (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_enum e where e.enumtypid = a.atttypid) as labels,
    has_column_privilege('authenticated', c.oid, a.attnum, 'SELECT') as can_select,
    has_column_privilege('authenticated', c.oid, a.attnum, 'INSERT') as can_insert,
    has_column_privilege('authenticated', c.oid, a.attnum, 'UPDATE') as can_update,
    (a.attidentity <> '' or a.attgenerated <> '') as generated
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
  order by c.relname, a.attnum`;

const DELETABLE = `
  select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'f') and has_table_privilege('authenticated', c.oid, 'DELETE')
  order by 1`;

const PRIMARY_KEYS = `
  select c.relname as table, array_agg(a.attname::text order by k.ord) as columns
  from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
  cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
  join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
  where i.indisprimary and n.nspname = 'public' group by c.relname`;

const FUNCTIONS = `
  select p.proname as name, coalesce(jsonb_agg(jsonb_build_object('name', x.name, 'type', format_type(x.type, null),
      'labels', (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_enum e where e.enumtypid = x.type))
      order by x.ord) filter (where x.name is not null), '[]') as args
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  left join lateral unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargnames, coalesce(p.proargmodes, array_fill('i'::"char", array[p.pronargs])))
    with ordinality x(type, name, mode, ord) on x.mode in ('i', 'b', 'v')
  where n.nspname = 'public' and p.prokind = 'f' and has_function_privilege('authenticated', p.oid, 'EXECUTE')
    and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
  group by p.oid, p.proname order by p.proname`;

/** Base rows for tables members may insert into; the walk then varies one column at a time. */
function baseRow(table: string, f: Fixture, actor: Actor): Record<string, string> | null {
  if (table === 'invitations') {
    return {
      workspace_id: lit(f.ids.ws),
      email: `'walk-new@example.test'`,
      role: `'viewer'`,
      token_hash: `encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex')`,
      invited_by: lit(actor.id),
    };
  }
  if (table === 'notification_preferences') return { user_id: lit(actor.id) };
  return null;
}

interface Walk {
  s: Session;
  f: Fixture;
  before: Snapshot;
  snapshot: (s: Session) => Promise<Snapshot>;
  problems: string[];
  writes: number;
}

async function judge(w: Walk, label: string, actor: Actor, statement: string) {
  const outcome = await w.s.probe(actor, statement, w.snapshot);
  if (!outcome.ok) {
    if (!isCleanRefusal(outcome.code)) w.problems.push(`${label} as ${actor.name}: unclean error ${outcome.code} ${outcome.message}`);
    return;
  }
  if (outcome.rows > 0) w.writes++;
  for (const v of violations(w.before, outcome.after)) w.problems.push(`${label} as ${actor.name}: ${v}`);
}

function rowsOf(w: Walk, table: string, actor: Actor): Record<string, unknown>[] {
  const rows = w.before[table] ?? [];
  return table === 'profiles' ? rows.filter((r) => r.id === actor.id) : rows;
}

function wherePk(pk: string[], row: Record<string, unknown>): string {
  return pk.map((c) => `${c}::text = ${lit(String(row[c]))}`).join(' and ');
}

function report(problems: string[]): string {
  return `${problems.length} bypass(es) of the API's rules:\n${problems.slice(0, 60).join('\n')}${problems.length > 60 ? '\n…' : ''}`;
}

let walk: Walk;
let columns: Column[];
let pks: Map<string, string[]>;

Deno.test({
  name: 'direct database surface: members cannot do what the API refuses',
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const url = Deno.env.get('SUPABASE_DB_URL');
    if (!url) throw new Error('SUPABASE_DB_URL is not set: run against a stack (tests/run.ts sets it)');
    const s = await Session.open(url);
    try {
      const f = await createFixture(s);
      const snapshot = snapshotOf(f.ids.ws, [f.owner.id, f.editor.id, f.viewer.id]);
      walk = { s, f, before: await snapshot(s), snapshot, problems: [], writes: 0 };
      columns = await s.query<Column>(COLUMNS);
      pks = new Map((await s.query<{ table: string; columns: string[] }>(PRIMARY_KEYS)).map((r) => [r.table, r.columns]));
      await t.step('the fixture itself breaks no rule', () => assertNone(violations(walk.before, walk.before)));
      await t.step('no secret column is readable by members', secretColumns);
      await t.step('every table members can write has an oracle', oraclesCoverWrites);
      await t.step('column updates', columnUpdates);
      await t.step('inserts', inserts);
      await t.step('deletes', deletes);
      await t.step('function calls', functionCalls);
    } finally {
      await s.close();
    }
  },
});

function assertNone(problems: string[]) {
  if (problems.length) throw new Error(report(problems));
}

function secretColumns() {
  assertNone(columns.filter((c) => c.can_select && SECRET_COLUMN.test(c.column)).map((c) => `${c.table}.${c.column} is readable`));
}

async function oraclesCoverWrites() {
  const deletable = (await walk.s.query<{ table: string }>(DELETABLE)).map((r) => r.table);
  const writable = new Set([...columns.filter((c) => c.can_insert || c.can_update).map((c) => c.table), ...deletable]);
  assertNone(
    [...writable].filter((t) => !(t in ROW_ORACLES)).map((t) => `${t}: members can write it, add an oracle in db-surface/oracles.ts`),
  );
}

async function columnUpdates() {
  const w = walk;
  const start = w.problems.length;
  for (const c of columns.filter((x) => x.can_update)) {
    for (const actor of [w.f.owner, w.f.editor, w.f.viewer]) {
      for (const row of rowsOf(w, c.table, actor)) {
        for (const value of valuesOfType(c.type, c.labels ?? undefined)) {
          await judge(
            w,
            `update ${c.table}.${c.column} = ${value.slice(0, 40)}`,
            actor,
            `update public.${c.table} set ${c.column} = ${value} where ${wherePk(pks.get(c.table)!, row)}`,
          );
        }
      }
    }
  }
  assertNone(w.problems.slice(start));
}

async function inserts() {
  const w = walk;
  const start = w.problems.length;
  const tables = [...new Set(columns.filter((c) => c.can_insert).map((c) => c.table))];
  for (const table of tables) {
    for (const actor of [w.f.owner, w.f.editor]) {
      const base = baseRow(table, w.f, actor);
      if (!base) {
        w.problems.push(`${table}: members can insert, add a base row to db-surface/walk.ts`);
        continue;
      }
      for (const c of columns.filter((x) => x.table === table && !x.generated)) {
        for (const value of valuesOfType(c.type, c.labels ?? undefined)) {
          const row = { ...base, [c.column]: value };
          await judge(
            w,
            `insert ${table}.${c.column} = ${value.slice(0, 40)}`,
            actor,
            `insert into public.${table} (${Object.keys(row).join(', ')}) values (${Object.values(row).join(', ')})`,
          );
        }
      }
    }
  }
  assertNone(w.problems.slice(start));
}

async function deletes() {
  const w = walk;
  const start = w.problems.length;
  for (const { table } of await w.s.query<{ table: string }>(DELETABLE)) {
    for (const actor of [w.f.owner, w.f.editor, w.f.viewer]) {
      for (const row of rowsOf(w, table, actor)) {
        await judge(
          w,
          `delete ${table} ${wherePk(pks.get(table)!, row).slice(0, 60)}`,
          actor,
          `delete from public.${table} where ${wherePk(pks.get(table)!, row)}`,
        );
      }
    }
  }
  assertNone(w.problems.slice(start));
}

async function functionCalls() {
  const w = walk;
  const start = w.problems.length;
  const writesBefore = w.writes;
  const fns = await w.s.query<Fn>(FUNCTIONS);
  for (const fn of fns) {
    const valid = Object.fromEntries(fn.args.map((a) => [a.name, validArgument(fn.name, a.name, a.type, w.f)]));
    const call = (args: Record<string, string>) =>
      `select * from public.${fn.name}(${Object.entries(args)
        .map(([n, v]) => `${n} => ${v}`)
        .join(', ')})`;
    for (const actor of [w.f.owner, w.f.editor]) {
      await judge(w, `${fn.name}(valid)`, actor, call(valid));
      for (const a of fn.args) {
        for (const value of [...valuesOfArgument(a.name), ...valuesOfType(a.type, a.labels ?? undefined)]) {
          await judge(w, `${fn.name}(${a.name} => ${value.slice(0, 50)})`, actor, call({ ...valid, [a.name]: value }));
        }
      }
    }
  }
  assertNone(w.problems.slice(start));
  if (w.writes === writesBefore) throw new Error('no function call wrote anything: the walk proves nothing');
}
