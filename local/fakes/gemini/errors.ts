// Error bodies of the Generative Language API: `{ error: { code, message, status, details? } }`,
// without the legacy `errors` array the YouTube APIs carry. Messages follow what the real API
// answers for the same mistakes (as seen in public SDK issues), so product code that shows or
// logs them reads the same locally.
import type { RequestContext } from '../core/context.ts';
import { googleStatusInfo } from '../core/error-shapes.ts';

export function sendGeminiError(ctx: RequestContext, code: number, message: string, details?: unknown[]) {
  const error: Record<string, unknown> = { code, message, status: googleStatusInfo(code).status };
  if (details) error.details = details;
  ctx.sendJson(code, { error });
}

export function missingKey(ctx: RequestContext) {
  sendGeminiError(
    ctx,
    403,
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  );
}

export function invalidKey(ctx: RequestContext) {
  sendGeminiError(ctx, 400, 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ]);
}
