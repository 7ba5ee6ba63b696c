// What the walk sends: for every column or argument, values of its type that no API request could
// carry (empty, blank, oversize, out of range, words Postgres reads as dates, other kinds' JSON),
// plus, for arguments the API fills from a body, the malformed bodies that matter there. Each is
// a SQL expression with an explicit cast, so it reaches the column or argument with its type.
import { VALID_SCRIPT, type Fixture } from './fixtures.ts';
import { lit } from './session.ts';

const BIG_TEXT = 'x'.repeat(100_001);
const json = (v: unknown) => `${lit(JSON.stringify(v))}::jsonb`;
const item = VALID_SCRIPT.items[0];

function textValues(): string[] {
  return [
    '',
    '   ',
    ' padded ',
    'ab',
    '999',
    BIG_TEXT,
    '<b>x</b>',
    'a,b',
    'infinity',
    'tomorrow',
    '\u0001',
    'http://',
    'nobody@localhost',
  ].map((v) => `${lit(v)}::text`);
}

function jsonValues(): string[] {
  return [
    json([]),
    json('text'),
    json({}),
    json({ items: [] }),
    json({ items: [{ script: 'only a script' }] }),
    json({ items: [{ ...item, title: `  ${item.title}  ` }] }),
    json({ items: [{ ...item, extra: 1 }] }),
    json({ ...VALID_SCRIPT, extra: 1 }),
    json({ items: Array.from({ length: 25 }, () => item) }),
    // a 2 MB output (three 20 MB ones made a viewer's content list 60 MB)
    json({ items: [{ ...item, script: 'y'.repeat(2_000_000) }] }),
    json({ anything: 'else', brief: 'b'.repeat(5000) }),
    json(Array.from({ length: 60 }, () => ({}))),
  ];
}

const TIMES = ['infinity', '-infinity', '1900-01-01 00:00:00+00', '9999-12-31 00:00:00+00', 'epoch'];

/** Malformed values of a Postgres type (format_type spelling); enum labels come from the catalogue. */
export function valuesOfType(type: string, enumLabels: string[] | undefined): string[] {
  const nulls = [`null::${type}`];
  if (enumLabels) return [...nulls, ...enumLabels.map((l) => `${lit(l)}::${type}`)];
  switch (type) {
    case 'text':
    case 'character varying':
    case 'citext':
      return [...nulls, ...textValues()];
    case 'jsonb':
    case 'json':
      return [...nulls, ...jsonValues()];
    case 'uuid':
      return [...nulls, `gen_random_uuid()`, `'00000000-0000-0000-0000-000000000000'::uuid`];
    case 'integer':
    case 'bigint':
    case 'smallint':
    case 'numeric':
      return [...nulls, `(-1)::${type}`, `0::${type}`, `32767::${type}`, ...(type === 'smallint' ? [] : [`2147483647::${type}`])];
    case 'timestamp with time zone':
    case 'timestamp without time zone':
    case 'date':
      return [...nulls, ...TIMES.map((t) => `${lit(t)}::${type}`)];
    case 'boolean':
      return [...nulls, 'true', 'false'];
    case 'text[]':
      return [
        ...nulls,
        `array['a,b']::text[]`,
        `array['']::text[]`,
        `array['<x>']::text[]`,
        `array[null]::text[]`,
        `array_fill('tag'::text, array[400])`,
      ];
    default:
      return nulls;
  }
}

/** Bodies of the API that arrive in one argument (schedules' `changes`, an ISO `publish_at`). */
export function valuesOfArgument(name: string): string[] {
  switch (name) {
    case 'changes':
      return [
        { category_id: '999' },
        { tags: ['a,b'] },
        { tags: [''] },
        { tags: 'not an array' },
        { tags: [1, { x: 1 }] },
        { title: '   ' },
        { title: 'x'.repeat(101) },
        { description: '<b>' },
        { thumbnail_url: 'http://' },
        { publish_at: 'infinity' },
        { publish_at: 'tomorrow' },
        { publish_at: '20261-01-01T00:00:00Z' },
        { time_zone: 'Mars/Base' },
        { privacy: 'secret' },
        { strategy: 'whenever' },
        { made_for_kids: 'yes' },
        { channel_id: 'not-a-uuid' },
        { unknown: 1 },
      ].map(json);
    case 'publish_at':
      return ['infinity', 'tomorrow', 'epoch', '20261-01-01T00:00:00Z', '2099-13-45T99:99', 'now'].map((v) => `${lit(v)}::text`);
    default:
      return [];
  }
}

/** A valid value for each argument name a public function takes, so one argument at a time is malformed. */
export function validArgument(fn: string, name: string, type: string, f: Fixture): string {
  const id = (k: string) => `${lit(f.ids[k])}::uuid`;
  const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const byName: Record<string, string> = {
    workspace_id: id('ws'),
    workspace: id('ws'),
    only_workspace: id('ws'),
    channel_id: id('channel'),
    video_job_id: id('job'),
    schedule_id: id('schedule'),
    invitation_id: id('invitation'),
    content_id: fn === 'create_generated_content' ? 'gen_random_uuid()' : id(fn === 'review_generated_content' ? 'in_review' : 'draft'),
    kind: `'script'`,
    brief: json({ topic: 'walk' }),
    source_videos: json([]),
    output: json(VALID_SCRIPT),
    prompt_version: `'v1'`,
    model: `'gemini-test'`,
    input_tokens: '1',
    output_tokens: '1',
    title: `'A title'`,
    description: `''`,
    tags: `array['one']::text[]`,
    category_id: `'22'`,
    privacy: `'public'`,
    made_for_kids: 'false',
    notify_subscribers: 'true',
    thumbnail_url: 'null::text',
    publish_at: lit(future),
    time_zone: `'UTC'`,
    strategy: 'null::text',
    idempotency_key: `'walk-' || gen_random_uuid()`,
    request_fingerprint: `repeat('f', 64)`,
    changes: json({ title: 'Renamed' }),
    expected_version: 'null::integer',
    action: `'approve'`,
    reason: `'A reason'`,
    note: 'null::text',
    name: `'Walk name'`,
    slug: 'null::text',
    token: `'walk-token'`,
    missed_schedule_policy: `'hold'`,
    upload_lead_minutes: '30',
    min_role: `'viewer'`,
    max_bytes: '65536',
    part: '1',
    from_table: 'null::text',
    from_key: 'null::jsonb',
    export: `'walk'`,
  };
  return byName[name] ?? `null::${type}`;
}
