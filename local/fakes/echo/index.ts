// A sink that accepts anything and answers with what it got. The pg_net tests point
// net.http_post / http_get at it; what arrived can also be read back from /_control/requests.
import type { RequestContext } from '../core/context.ts';
import { redactHeaders, redactedQuery } from '../core/recorder.ts';
import type { FakeService } from '../core/service.ts';

function echo(ctx: RequestContext) {
  const text = ctx.text();
  let body: unknown = text;
  if (/json/i.test(ctx.header('content-type') ?? '') && text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      // Malformed JSON is echoed as the text it was.
    }
  }
  ctx.sendJson(200, { method: ctx.method, path: ctx.path, query: redactedQuery(ctx.query), headers: redactHeaders(ctx.headers), body });
}

export function echoService(): FakeService {
  return {
    name: 'echo',
    mounts: [{ prefix: '/echo', style: 'plain', label: 'echo sink' }],
    register(router) {
      router.any('/echo', echo);
      router.any('/echo/*', echo);
    },
    reset() {},
  };
}
