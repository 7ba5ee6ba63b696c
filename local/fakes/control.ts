// The control API under /_control: faults, the request log, reset and health. Services add their
// own routes under /_control/<service>/. Control requests are never recorded nor faulted.
import { z } from 'zod';
import type { RequestContext } from './core/context.ts';
import { FaultRuleSchema, type FaultStore } from './core/faults.ts';
import type { RequestRecorder } from './core/recorder.ts';
import type { Router } from './core/router.ts';
import type { FakeService } from './core/service.ts';

export function registerControl(router: Router, deps: { faults: FaultStore; recorder: RequestRecorder; services: FakeService[] }) {
  const { faults, recorder, services } = deps;

  router.get('/_control/health', (ctx) => ctx.sendJson(200, { ok: true, services: services.map((s) => s.name) }));

  router.post('/_control/reset', (ctx) => {
    faults.clear();
    recorder.clear();
    for (const s of services) s.reset();
    ctx.sendJson(200, { ok: true });
  });

  router.post('/_control/faults', (ctx) => {
    const rule = parseJson(ctx, FaultRuleSchema);
    if (!rule) return;
    const fault = faults.add(rule);
    ctx.sendJson(201, { id: fault.id });
  });
  router.get('/_control/faults', (ctx) => ctx.sendJson(200, { faults: faults.list() }));
  router.delete('/_control/faults', (ctx) => {
    faults.clear();
    ctx.sendJson(200, { ok: true });
  });
  router.delete('/_control/faults/:id', (ctx) => {
    if (faults.remove(ctx.params.id!)) ctx.sendJson(200, { ok: true });
    else ctx.sendJson(404, { error: `no fault ${ctx.params.id}` });
  });

  router.get('/_control/requests', (ctx) => {
    const sinceRaw = ctx.query.get('since');
    let since: Date | undefined;
    if (sinceRaw) {
      since = /^\d+$/.test(sinceRaw) ? new Date(Number(sinceRaw)) : new Date(sinceRaw);
      if (Number.isNaN(since.getTime())) return ctx.sendJson(400, { error: 'since must be an ISO timestamp or epoch milliseconds' });
    }
    const requests = recorder.list({
      pathPrefix: ctx.query.get('pathPrefix') ?? undefined,
      method: ctx.query.get('method') ?? undefined,
      since,
    });
    ctx.sendJson(200, { requests });
  });
  router.delete('/_control/requests', (ctx) => {
    recorder.clear();
    ctx.sendJson(200, { ok: true });
  });

  for (const s of services) s.registerControl?.(router);
}

/** Parses and validates a control body; answers 400 itself and returns undefined when invalid. */
export function parseJson<T>(ctx: RequestContext, schema: z.ZodType<T>): T | undefined {
  let raw: unknown;
  try {
    raw = ctx.json() ?? {};
  } catch (err) {
    ctx.sendJson(400, { error: (err as Error).message });
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    ctx.sendJson(400, {
      error: 'invalid request body',
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
    return undefined;
  }
  return parsed.data;
}
