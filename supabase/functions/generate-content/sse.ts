// A server-sent events answer: `event: <name>` + `data: <json>` frames written as the work
// produces them, a comment line every 15 s so proxies keep an idle stream open, and an
// AbortSignal that fires when the client goes away (so the work can stop instead of running on
// for nobody).
import { withStandardHeaders } from '../_shared/platform/http.ts';

export const HEARTBEAT_MS = 15_000;

export interface SseWriter {
  send(event: string, data: unknown): void;
  /** Fires when the client disconnected. */
  signal: AbortSignal;
}

/** True when the caller asked for `text/event-stream`. */
export function wantsEventStream(req: Request): boolean {
  return (req.headers.get('accept') ?? '').toLowerCase().includes('text/event-stream');
}

export function sseFrame(event: string, data: unknown): string {
  // JSON.stringify never emits a raw newline, so one data line always suffices.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Streams what `work` sends; the stream ends when `work` settles (it reports its own errors). */
export function sseResponse(work: (out: SseWriter) => Promise<void>, headers: HeadersInit = {}): Response {
  const encoder = new TextEncoder();
  const aborted = new AbortController();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          open = false;
        }
      };
      heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
      const writer: SseWriter = { send: (event, data) => write(sseFrame(event, data)), signal: aborted.signal };
      work(writer)
        .catch((err) =>
          console.error(
            JSON.stringify({ level: 'error', msg: 'event stream work failed', error: err instanceof Error ? err.message : String(err) }),
          ),
        )
        .finally(() => {
          clearInterval(heartbeat);
          if (open) {
            open = false;
            controller.close();
          }
        });
    },
    cancel() {
      open = false;
      clearInterval(heartbeat);
      aborted.abort();
    },
  });
  const h = withStandardHeaders(headers);
  h.set('Content-Type', 'text/event-stream; charset=utf-8');
  h.set('Cache-Control', 'no-store');
  // nginx-style proxies buffer responses unless told otherwise.
  h.set('X-Accel-Buffering', 'no');
  return new Response(body, { status: 200, headers: h });
}
