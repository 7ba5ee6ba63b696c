// The adversarial walk of every route (issue 14): routes are discovered from the functions' own
// routers, their fields from their own validation answers, and each input of each route gets a NUL
// character, an oversize string, values of the wrong type and the other tenant's ids. No answer may
// be a 5xx, bad input must be refused with a 4xx in the error envelope, and no answer to the
// attacker may show the victim's data, whose own view must not change.
import { assertEquals, assertOk } from '../functions/assert.ts';
import { stack } from '../functions/helpers/users.ts';
import { discoverRoutes, functionNames, routeName, type DiscoveredRoute } from './routes-discovery.ts';
import { cast, resetRateLimits, victimView, type Cast } from './routes-fixtures.ts';
import {
  baseRequest,
  chooseActor,
  discoverShape,
  judge,
  mutations,
  send,
  shotgun,
  type Actor,
  type Answer,
  type Mutation,
} from './routes-walk.ts';

// Routes that must be found; discovery that misses one of these is broken, not the route gone.
const KNOWN = [
  'health GET /',
  'workspaces PATCH /:id',
  'members DELETE /:workspace_id/:user_id',
  'invitations POST /accept',
  'account GET /export/workspaces/:id',
  'content POST /:id/versions',
  'generate-content POST /',
  'render-video POST /',
  'schedules POST /:id/reschedule',
  'youtube-oauth GET /callback',
  'revid-webhook POST /',
  'admin-alerts POST /:id/resolve',
  'backups POST /restore',
];

Deno.test('route discovery finds every function and every known route', async () => {
  const routes = await discoverRoutes();
  assertOk(routes.length > 0, 'discovery found no routes');
  const names = new Set(routes.map(routeName));
  for (const known of KNOWN) assertOk(names.has(known), `discovery missed ${known}`);
  const fns = await functionNames();
  assertOk(fns.length >= 17, `only ${fns.length} functions found`);
  for (const fn of fns)
    assertOk(
      routes.some((r) => r.fn === fn),
      `no route found for function ${fn}`,
    );
});

const CONCURRENCY = 6;

async function pool<T>(items: T[], work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/**
 * Asks again as a client would: after a 429 of the per-user limit (clearing the counters, since
 * the limit and not the route answered) and after a 503 with Retry-After (the route asked for it,
 * e.g. two snapshots at once). Whatever answers last is judged.
 */
async function sendCounted(route: DiscoveredRoute, m: Mutation, limited: string[]): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const a = await send(route, m.request);
    if (attempt === 3) return a;
    // The per-user limit's 429 names the limit; a route's own (one sync per 5 minutes) does not.
    const limit = (a.json as { error?: { code?: string; details?: { limit?: number } } })?.error;
    if (a.status === 429 && limit?.code === 'rate_limited' && limit.details?.limit !== undefined) {
      await resetRateLimits(limited);
    } else if (a.status === 503 && a.retryAfter !== null && a.retryAfter <= 5) {
      await new Promise((r) => setTimeout(r, a.retryAfter! * 1000));
    } else {
      return a;
    }
  }
}

interface Tally {
  requests: number;
  serverErrors: Map<string, number>;
  problems: string[];
  shallow: string[];
}

async function walkRoute(route: DiscoveredRoute, c: Cast, actors: Actor[], tally: Tally) {
  const started = performance.now();
  const limited = [c.attacker.user.id, c.admin.id];
  await resetRateLimits(limited);
  const actor = await chooseActor(route, actors);
  const shape = await discoverShape(route, actor);
  const base = baseRequest(route, actor, shape, c.attacker.ids);
  const all = [
    ...mutations(route, base, shape, c.attacker.ids, c.victim.ids),
    ...(await shotgun(route, base, shape.required.body.length + shape.optional.body.length)),
  ];
  await pool(all, async (m) => {
    const a = await sendCounted(route, m, limited);
    tally.requests++;
    if (a.status >= 500) {
      const key = `${routeName(route)} ${m.slot}`;
      tally.serverErrors.set(key, (tally.serverErrors.get(key) ?? 0) + 1);
    }
    tally.problems.push(...judge(route, m, a, c));
  });
  const fields = [...shape.required.query, ...shape.optional.query, ...shape.required.body, ...shape.optional.body];
  const ms = Math.round(performance.now() - started);
  console.log(`  ${routeName(route)} as ${actor.name}: ${all.length} requests in ${ms} ms; fields: ${fields.join(', ') || '–'}`);
  if (route.params.length + fields.length === 0) tally.shallow.push(routeName(route));
}

Deno.test({
  name: 'every route refuses NUL, oversize, mistyped and other-tenant input without a 5xx or a leak',
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const routes = await discoverRoutes();
    const castStarted = performance.now();
    const c = await cast();
    console.log(`  fixtures of two tenants and an admin in ${Math.round(performance.now() - castStarted)} ms`);
    const actors: Actor[] = [
      { name: 'attacker', token: c.attacker.user.token },
      { name: 'admin', token: c.admin.token },
      { name: 'service', token: stack.serviceKey },
    ];
    // The leak check searches answers for the victim's marker: it must be found where it belongs.
    const own = await c.victim.user.call(`workspaces/${c.victim.ids.team}`);
    assertOk(JSON.stringify(own.body).includes(c.victim.marker), "the victim's marker is not in its own workspace");
    const before = await victimView(c.victim);
    const tally: Tally = { requests: 0, serverErrors: new Map(), problems: [], shallow: [] };
    // Destructive methods last: what they do to the attacker's own fixtures cannot hide another route's answers.
    const order = (r: DiscoveredRoute) => (r.method === 'DELETE' ? 1 : 0);
    for (const route of [...routes].sort((a, b) => order(a) - order(b))) await walkRoute(route, c, actors, tally);
    console.log(`  ${routes.length} routes, ${tally.requests} requests; routes without inputs: ${tally.shallow.join(', ') || 'none'}`);
    for (const [key, n] of tally.serverErrors) console.log(`  5xx: ${key} (${n})`);
    assertOk(tally.requests > routes.length, 'the walk sent almost nothing');
    assertOk(tally.problems.length === 0, `${tally.problems.length} problems:\n${tally.problems.slice(0, 80).join('\n')}`);
    const after = await victimView(c.victim);
    const changed = Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    assertEquals(
      changed,
      [],
      `the victim's data changed during the walk: ${changed
        .map((k) => `${k}: ${JSON.stringify(before[k])} → ${JSON.stringify(after[k])}`)
        .join('; ')
        .slice(0, 2000)}`,
    );
  },
});
