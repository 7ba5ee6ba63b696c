// The fake Resend (transactional email): `POST /emails` with its real wire format. Real base:
// https://api.resend.com; here: /resend. Every accepted email is recorded with its id and
// delivered into the local mail catcher over SMTP (LOCAL_SMTP_HOST / LOCAL_SMTP_PORT), so product
// email lands in the same inbox as Auth's. Idempotency-Key behaves as Resend documents it: the
// same key with the same payload within 24 hours answers the first email's id and sends nothing;
// with another payload → 409 invalid_idempotent_request. Errors are `{ statusCode, name, message }`.
import { z } from 'zod';
import { parseJson } from '../control.ts';
import type { RequestContext } from '../core/context.ts';
import { resendError } from '../core/error-shapes.ts';
import type { Router } from '../core/router.ts';
import type { FakeService } from '../core/service.ts';
import { deliver } from './delivery.ts';
import { payloadFingerprint, ResendState } from './state.ts';

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;
const NAMED_ADDRESS = /^[^<>]*<([^\s@<>]+@[^\s@<>]+)>$/;

function validAddress(value: string): boolean {
  const v = value.trim();
  return ADDRESS.test(v) || NAMED_ADDRESS.test(v);
}

const Recipients = z.union([z.string(), z.array(z.string()).min(1).max(50)]).transform((v) => (Array.isArray(v) ? v : [v]));

const SendBody = z
  .object({
    from: z
      .string({ error: 'Missing `from` field.' })
      .refine(
        validAddress,
        'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
      ),
    to: Recipients.refine(
      (list) => list.every(validAddress),
      'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
    ),
    subject: z.string({ error: 'Missing `subject` field.' }).max(998),
    html: z.string().optional(),
    text: z.string().optional(),
    cc: Recipients.optional(),
    bcc: Recipients.optional(),
    reply_to: Recipients.optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

function authorised(ctx: RequestContext, state: ResendState): boolean {
  const auth = ctx.header('authorization') ?? '';
  const key = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
  if (!key) {
    ctx.sendJson(401, resendError(401));
    return false;
  }
  if (state.apiKeys !== null && !state.apiKeys.includes(key)) {
    ctx.sendJson(403, resendError(403));
    return false;
  }
  return true;
}

function parseSend(ctx: RequestContext) {
  let raw: unknown;
  try {
    raw = ctx.json();
  } catch {
    ctx.sendJson(422, resendError(422, 'The request body is not valid JSON.', 'validation_error'));
    return undefined;
  }
  const parsed = SendBody.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    const missing = field !== '' && (typeof raw !== 'object' || raw === null || (raw as Record<string, unknown>)[field] === undefined);
    ctx.sendJson(
      422,
      resendError(
        422,
        missing ? `Missing \`${issue.path.join('.')}\` field.` : issue.message,
        missing ? 'missing_required_field' : 'validation_error',
      ),
    );
    return undefined;
  }
  if (parsed.data.html === undefined && parsed.data.text === undefined) {
    ctx.sendJson(422, resendError(422, 'Missing `html` or `text` field.', 'missing_required_field'));
    return undefined;
  }
  return { body: parsed.data, raw };
}

async function send(ctx: RequestContext, state: ResendState) {
  if (!authorised(ctx, state)) return;
  const key = ctx.header('idempotency-key');
  if (key !== undefined && (key.length < 1 || key.length > 256)) {
    return ctx.sendJson(400, resendError(400, 'The key must be between 1-256 chars.', 'invalid_idempotency_key'));
  }
  const parsed = parseSend(ctx);
  if (!parsed) return;
  const fingerprint = payloadFingerprint(parsed.raw);
  if (key) {
    const earlier = state.replay(key, fingerprint);
    if (earlier === 'conflict') {
      return ctx.sendJson(
        409,
        resendError(409, 'Same idempotency key used with a different request payload.', 'invalid_idempotent_request'),
      );
    }
    if (earlier) return ctx.sendJson(200, { id: earlier.id });
  }
  const { body } = parsed;
  const email = state.accept(
    {
      idempotencyKey: key ?? null,
      from: body.from,
      to: body.to,
      cc: body.cc ?? [],
      bcc: body.bcc ?? [],
      replyTo: body.reply_to ?? [],
      subject: body.subject,
      text: body.text ?? null,
      html: body.html ?? null,
      headers: body.headers ?? {},
    },
    fingerprint,
  );
  if (state.smtp) void deliver(email, state.smtp);
  if (state.answerDelayMs > 0) await new Promise((r) => setTimeout(r, state.answerDelayMs));
  ctx.sendJson(200, { id: email.id });
}

const Settings = z.strictObject({
  apiKeys: z.array(z.string().min(1)).nullable().optional(),
  smtp: z
    .strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })
    .nullable()
    .optional(),
  answerDelayMs: z.number().int().min(0).max(60_000).optional(),
});

function smtpFromEnv(): { host: string; port: number } | null {
  const port = Number(process.env.LOCAL_SMTP_PORT);
  if (!Number.isInteger(port) || port <= 0) return null;
  return { host: process.env.LOCAL_SMTP_HOST || '127.0.0.1', port };
}

export function resendService(): FakeService {
  const state = new ResendState(smtpFromEnv());
  return {
    name: 'resend',
    mounts: [{ prefix: '/resend', style: 'resend', label: 'Resend API' }],
    register(router: Router) {
      router.post('/resend/emails', (ctx) => send(ctx, state));
    },
    registerControl(router: Router) {
      router.get('/_control/resend/emails', (ctx) => {
        const to = ctx.query.get('to')?.toLowerCase();
        const emails = state.emails
          .filter((e) => !to || e.to.some((t) => t.toLowerCase().includes(to)))
          .slice()
          .reverse();
        ctx.sendJson(200, { emails });
      });
      router.get('/_control/resend/emails/:id', (ctx) => {
        const email = state.emails.find((e) => e.id === ctx.params.id);
        if (!email) return ctx.sendJson(404, { error: `no email ${ctx.params.id}` });
        ctx.sendJson(200, email);
      });
      router.delete('/_control/resend/emails', (ctx) => {
        state.emails = [];
        ctx.sendJson(200, { ok: true });
      });
      const settings = () => ({ apiKeys: state.apiKeys, smtp: state.smtp, answerDelayMs: state.answerDelayMs });
      router.get('/_control/resend/settings', (ctx) => ctx.sendJson(200, settings()));
      router.post('/_control/resend/settings', (ctx) => {
        const body = parseJson(ctx, Settings);
        if (!body) return;
        if (body.apiKeys !== undefined) state.apiKeys = body.apiKeys;
        if (body.smtp !== undefined) state.smtp = body.smtp;
        if (body.answerDelayMs !== undefined) state.answerDelayMs = body.answerDelayMs;
        ctx.sendJson(200, settings());
      });
    },
    reset() {
      state.reset();
    },
  };
}
