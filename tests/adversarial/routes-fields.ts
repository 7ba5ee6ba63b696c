// What a route reads, found without a hand-written list: candidate field names are the keys of
// every zod object schema in the function's code and the shared code, and the route itself says
// which of them it takes (a 400 names each bad field's path, a strict schema names the keys it
// does not know). Values for a plausible request come from the field's name.

const SCHEMA_OPENERS = /\bz\s*\.\s*(?:object|strictObject|looseObject)\(\s*\{|\.extend\(\s*\{/g;

/** The keys at the top level of each `z.object({ ... })` literal in `source`. */
export function schemaKeys(source: string): Set<string> {
  const keys = new Set<string>();
  for (const m of source.matchAll(SCHEMA_OPENERS)) {
    let depth = 1;
    let i = m.index! + m[0].length;
    let start = i;
    for (; i < source.length && depth > 0; i++) {
      const c = source[i];
      if (c === '{' || c === '(' || c === '[') depth++;
      else if (c === '}' || c === ')' || c === ']') depth--;
      else if (c === ',' && depth === 1) start = i + 1;
      else if (c === ':' && depth === 1) {
        const key = /^\s*(?:\/\/[^\n]*\n\s*)*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?\??\s*$/.exec(source.slice(start, i))?.[1];
        if (key) keys.add(key);
        start = i + 1;
      }
    }
  }
  return keys;
}

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const full = `${dir.replace(/\/$/, '')}/${entry.name}`;
    if (entry.isDirectory) yield* tsFiles(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

const SHARED_DIR = new URL('../../supabase/functions/_shared/', import.meta.url).pathname;

/** Candidate field names for a function: schema keys of its own code and of the shared code. */
export async function candidateKeys(sourceDir: string): Promise<string[]> {
  const keys = new Set<string>();
  for (const dir of [sourceDir, SHARED_DIR]) {
    for await (const file of tsFiles(dir)) for (const k of schemaKeys(await Deno.readTextFile(file))) keys.add(k);
  }
  return [...keys].sort();
}

interface Detail {
  path: string;
  message: string;
}

/** The top-level field names a validation answer names, and the keys a strict schema refused. */
export function namedFields(body: unknown, what: 'body' | 'query'): { fields: string[]; unknown: string[] } {
  const error = (body as { error?: { message?: unknown; details?: unknown } })?.error;
  // The message says which input failed ("invalid body: …"), the details' paths do not.
  const details = typeof error?.message === 'string' && error.message.startsWith(`invalid ${what}:`) ? error.details : null;
  if (!Array.isArray(details)) return { fields: [], unknown: [] };
  const fields: string[] = [];
  const unknown: string[] = [];
  for (const d of details as Detail[]) {
    if (typeof d?.path !== 'string') continue;
    if (d.path === what || d.path === '') {
      // zod 4: 'Unrecognized keys: "a", "b"'
      if (/unrecognized key/i.test(d.message ?? '')) for (const m of d.message.matchAll(/"([^"]+)"/g)) unknown.push(m[1]);
      continue;
    }
    fields.push(d.path.split('.')[0]);
  }
  return { fields, unknown };
}

/** Ids of one tenant's fixtures, by what they are. */
export interface TenantIds {
  workspace: string;
  team: string;
  channel: string;
  content: string;
  job: string;
  schedule: string;
  invitation: string;
  run: string;
  member: string;
  alert: string;
  snapshot: string;
}

/** Which fixture a field or path parameter names; null for a field that is not an id. */
export function idKind(fn: string, name: string): keyof TenantIds | null {
  const byName: Record<string, keyof TenantIds> = {
    workspace_id: 'workspace',
    workspaceId: 'workspace',
    channel_id: 'channel',
    content_id: 'content',
    video_job_id: 'job',
    job_id: 'job',
    job: 'job',
    schedule_id: 'schedule',
    run_id: 'run',
    user_id: 'member',
    snapshot_id: 'snapshot',
    invitation_id: 'invitation',
    alert_id: 'alert',
  };
  if (byName[name]) return byName[name];
  if (name !== 'id') return null;
  const byFunction: Record<string, keyof TenantIds> = {
    workspaces: 'team',
    account: 'workspace',
    content: 'content',
    'render-video': 'job',
    schedules: 'schedule',
    channels: 'channel',
    invitations: 'invitation',
    'admin-alerts': 'alert',
    members: 'team',
    backups: 'snapshot',
  };
  return byFunction[fn] ?? 'workspace';
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

// Plausible values by field name. `confirm` is left out on purpose: the walk must never send a
// request that deletes the account or restores a snapshot for real.
const PLAUSIBLE: Record<string, unknown> = {
  name: 'Adversarial team',
  slug: 'adversarial-team',
  email: 'adversarial-guest@example.com',
  role: 'editor',
  kind: 'script',
  topic: 'baking bread at home',
  brief: 'a short video about bread',
  tone: 'friendly',
  language: 'en',
  target_format: 'short',
  count: 1,
  title: 'A title',
  description: 'A description',
  tags: ['bread'],
  category_id: '22',
  privacy: 'private',
  publish_at: inDays(2),
  time_zone: 'Europe/Berlin',
  timezone: 'Europe/Berlin',
  from: inDays(-30),
  to: inDays(30),
  reason: 'not good enough yet',
  note: 'a note',
  output: { items: [] },
  token: 'not-a-real-token',
  display_name: 'Ada',
  locale: 'en',
  avatar_url: 'https://example.com/a.png',
  window: '24h',
  limit: 10,
  made_for_kids: false,
  notify_subscribers: false,
  status: 'open',
  item: 0,
  options: {},
  secret: 'not-the-secret',
  code: 'not-a-code',
  state: 'not-a-state',
  strategy: 'fixed',
};

/** A plausible value for a field of a route, taking ids from the tenant's fixtures. */
export function plausible(fn: string, name: string, ids: TenantIds): unknown {
  const kind = idKind(fn, name);
  if (kind) return ids[kind];
  if (name in PLAUSIBLE) return PLAUSIBLE[name];
  return 'x';
}
