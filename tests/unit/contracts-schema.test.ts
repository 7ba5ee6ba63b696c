// The contracts the functions and the web app import (supabase/functions/_shared/contracts/)
// against the database they describe: each enum's values in order, and each value list and
// length limit of public.upload_schedules' checks, read from the catalogue of the test database.
// A migration that changes one of them without the contract (or the other way round) fails here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { ROLES } from '../../supabase/functions/_shared/contracts/roles.ts';
import { CONTENT_KINDS, CONTENT_STATUSES } from '../../supabase/functions/_shared/contracts/content.ts';
import {
  MAX_DESCRIPTION_BYTES,
  MAX_TAGS_CHARS,
  MAX_THUMBNAIL_URL_CHARS,
  MAX_TITLE_CHARS,
  PRIVACY_STATUSES,
  PUBLISH_STRATEGIES,
  SCHEDULE_STATUSES,
  THUMBNAIL_STATUSES,
  WAITING_REASONS,
  YOUTUBE_CATEGORY_IDS,
} from '../../supabase/functions/_shared/contracts/schedules.ts';
import { checkLimit, checkValues } from './helpers/check-constraints.ts';

const DB_URL = process.env.SUPABASE_DB_URL;
if (!DB_URL) throw new Error('SUPABASE_DB_URL must point at a database with every migration applied');
let sql: postgres.Sql;
let checks: string[] = [];

before(async () => {
  sql = postgres(DB_URL, { max: 1, onnotice: () => {} });
  const rows = await sql<{ def: string }[]>`
    select pg_get_constraintdef(oid) as def from pg_constraint
    where conrelid = 'public.upload_schedules'::regclass and contype = 'c'`;
  checks = rows.map((r) => r.def);
});
after(async () => {
  await sql.end();
});

async function enumValues(name: string): Promise<string[]> {
  const rows = await sql<{ v: string }[]>`
    select e.enumlabel as v from pg_enum e join pg_type t on t.oid = e.enumtypid
    join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'public' and t.typname = ${name} order by e.enumsortorder`;
  return rows.map((r) => r.v);
}

test('roles, content kinds and statuses are the enums of the database, in their order', async () => {
  assert.deepEqual(await enumValues('workspace_role'), [...ROLES]);
  assert.deepEqual(await enumValues('content_kind'), [...CONTENT_KINDS]);
  assert.deepEqual(await enumValues('content_status'), [...CONTENT_STATUSES]);
});

test("upload schedules' value lists are the table's checks", () => {
  assert.deepEqual(checkValues(checks, 'status'), [...SCHEDULE_STATUSES]);
  assert.deepEqual(checkValues(checks, 'privacy'), [...PRIVACY_STATUSES]);
  assert.deepEqual(checkValues(checks, 'strategy'), [...PUBLISH_STRATEGIES]);
  assert.deepEqual(checkValues(checks, 'waiting_reason'), [...WAITING_REASONS]);
  assert.deepEqual(checkValues(checks, 'thumbnail_status'), [...THUMBNAIL_STATUSES]);
  assert.deepEqual(checkValues(checks, 'category_id'), [...YOUTUBE_CATEGORY_IDS]);
});

test("upload schedules' length limits are the table's checks", () => {
  assert.equal(checkLimit(checks, 'char_length(title)'), MAX_TITLE_CHARS);
  assert.equal(checkLimit(checks, 'octet_length(description)'), MAX_DESCRIPTION_BYTES);
  assert.equal(checkLimit(checks, 'youtube_tags_length(tags)'), MAX_TAGS_CHARS);
  assert.equal(checkLimit(checks, 'char_length(thumbnail_url)'), MAX_THUMBNAIL_URL_CHARS);
});
