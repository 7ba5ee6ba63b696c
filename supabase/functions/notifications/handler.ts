// notifications: product email settings, the one-click unsubscribe and the email worker.
//   GET  /preferences                 the signed-in user's choices (every category on by default)
//   PUT  /preferences  { <category>?: boolean, ... }   changes some, returns all
//   POST /unsubscribe?token=          no sign-in (verify_jwt = false): RFC 8058 one-click from a
//                                     mail client (body `List-Unsubscribe=One-Click`), or the web
//                                     page with `{ token }`; turns the token's category off
//   GET  /unsubscribe?token=          a mail client opening the link: 303 to the web page, which
//                                     asks before unsubscribing (a GET never changes anything)
//   POST /worker { max_rows?, time_budget_ms?, lease_seconds? }   service role (pg_cron, pg_net)
// The token is HMAC-signed (../notifications/unsubscribe-token.ts) and stays out of every log: request
// tracking records query parameter names only.
import { z } from 'zod';
import { requireServiceRole, requireUser } from '../_shared/platform/auth.ts';
import { asService, asUser } from '../_shared/platform/db.ts';
import { env } from '../_shared/platform/env.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, readJson, Router, validate, withStandardHeaders } from '../_shared/platform/http.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { CATEGORIES, verifyUnsubscribeToken } from './unsubscribe-token.ts';
import { DEFAULT_LEASE_SECONDS, DEFAULT_MAX_ROWS, DEFAULT_TIME_BUDGET_MS, runNotificationWorker } from './worker.ts';

const PreferencesBody = z
  .strictObject(
    Object.fromEntries(CATEGORIES.map((c) => [c, z.boolean().optional()])) as Record<
      (typeof CATEGORIES)[number],
      z.ZodOptional<z.ZodBoolean>
    >,
  )
  .refine((b) => Object.keys(b).length > 0, 'name at least one category');

const WorkerBody = z.strictObject({
  max_rows: z.number().int().min(1).max(100).default(DEFAULT_MAX_ROWS),
  time_budget_ms: z.number().int().min(0).max(60_000).default(DEFAULT_TIME_BUDGET_MS),
  lease_seconds: z.number().int().min(5).max(900).default(DEFAULT_LEASE_SECONDS),
});

const MAX_TOKEN_CHARS = 300;
const MAX_FORM_BYTES = 4096;

type Preferences = Record<(typeof CATEGORIES)[number], boolean>;

const DEFAULTS = Object.fromEntries(CATEGORIES.map((c) => [c, true])) as Preferences;

async function readPreferences(userId: string, tx: Parameters<Parameters<typeof asUser>[1]>[0]): Promise<Preferences> {
  const [row] = await tx<Preferences[]>`
    select ${tx.unsafe(CATEGORIES.join(', '))} from public.notification_preferences where user_id = ${userId}`;
  return row ? (Object.fromEntries(CATEGORIES.map((c) => [c, row[c]])) as Preferences) : { ...DEFAULTS };
}

// The token from the query (one-click POST and GET) or the web page's JSON body.
async function tokenOf(req: Request, url: URL): Promise<string> {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) return fromQuery;
  const type = req.headers.get('content-type') ?? '';
  if (!type.includes('application/json')) return '';
  const raw = await req.text();
  if (raw.length > MAX_FORM_BYTES) throw new HttpError(413, 'payload_too_large', 'body too large');
  try {
    const body = JSON.parse(raw) as { token?: unknown };
    return typeof body.token === 'string' ? body.token : '';
  } catch {
    throw new HttpError(400, 'invalid_json', 'body is not valid JSON');
  }
}

function invalidLink() {
  return new HttpError(400, 'invalid_token', 'this unsubscribe link is not valid');
}

export const router = new Router('notifications')
  .on('GET', '/preferences', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const preferences = await asUser(claims, (tx) => readPreferences(claims.sub, tx));
    return json({ preferences });
  })
  .on('PUT', '/preferences', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const body = await parseBody(ctx, PreferencesBody);
    const preferences = await asUser(claims, async (tx) => {
      const current = await readPreferences(claims.sub, tx);
      const next = { ...current, ...body };
      await tx`
        insert into public.notification_preferences ${tx(next as Record<string, boolean>, ...CATEGORIES)}
        on conflict (user_id) do update set ${tx(next as Record<string, boolean>, ...CATEGORIES)}`;
      return next;
    });
    return json({ preferences });
  })
  .on('POST', '/unsubscribe', async (ctx) => {
    const token = await tokenOf(ctx.req, ctx.url);
    if (token === '' || token.length > MAX_TOKEN_CHARS) throw invalidLink();
    const target = await verifyUnsubscribeToken(token);
    if (!target) throw invalidLink();
    await asService((tx) => tx`select private.unsubscribe_notifications(${target.userId}, ${target.category})`);
    return json({ unsubscribed: true, category: target.category });
  })
  .on('GET', '/unsubscribe', (ctx) => {
    const token = ctx.url.searchParams.get('token') ?? '';
    if (token === '' || token.length > MAX_TOKEN_CHARS) throw invalidLink();
    const headers = withStandardHeaders({ location: `${env().WEB_APP_URL}/unsubscribe?token=${encodeURIComponent(token)}` });
    return new Response(null, { status: 303, headers });
  })
  .on('POST', '/worker', async (ctx) => {
    requireServiceRole(ctx.req);
    // pg_net and pg_cron post `{}`; an empty body means the defaults too
    const body = validate(WorkerBody, (await readJson(ctx.req)) ?? {}, 'body');
    const report = await runNotificationWorker({
      maxRows: body.max_rows,
      timeBudgetMs: body.time_budget_ms,
      leaseSeconds: body.lease_seconds,
    });
    return json(report);
  });

export default createHandler(router);
