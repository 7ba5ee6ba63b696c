// Deno closes a connection whose request body was not read to the end by the time the answer
// was sent (the handler answered early, e.g. 413, or cancelled the body). The runtime is then
// often still writing that body, gets a reset before it parsed the answer, and the client gets a
// 500 instead of the 413. So the handler gets the body through a stream of our own, and what it
// left unread (cancelled, or never touched by the time it answered) is read and dropped: the
// answer goes out once the body has ended, or once DROP_MAX_BYTES are dropped (the runtime in
// front then closes the client's connection, and with it this one), and dropping goes on until
// then, for at most DROP_MAX_MS.
const DROP_MAX_BYTES = 16 * 1024 * 1024;
const DROP_MAX_MS = 5_000;

type ServeHandler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

/** Drops the rest of `source`; resolves when it ended or once DROP_MAX_BYTES were dropped. */
function dropRest(source: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  return new Promise((ready) => {
    const timer = setTimeout(() => {
      ready();
      source.cancel().catch(() => {});
    }, DROP_MAX_MS);
    void (async () => {
      let dropped = 0;
      try {
        for (;;) {
          const { done, value } = await source.read();
          if (done) break;
          dropped += value.byteLength;
          if (dropped > DROP_MAX_BYTES) ready();
        }
      } catch {
        // cancelled at the deadline, or the connection is gone: nothing left to drop
      }
      clearTimeout(timer);
      ready();
    })();
  });
}

export function dropUnreadBody(handler: ServeHandler): ServeHandler {
  return async (req, info) => {
    if (!req.body) return await handler(req, info);
    const source = req.body.getReader();
    let state: 'untouched' | 'reading' | 'cancelled' | 'read' = 'untouched';
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (state === 'untouched') state = 'reading';
          const { done, value } = await source.read();
          if (done) {
            state = 'read';
            controller.close();
          } else controller.enqueue(value);
        },
        cancel() {
          state = 'cancelled';
        },
      },
      { highWaterMark: 0 },
    );
    const res = await handler(new Request(req, { body }), info);
    // A handler still reading (a streamed answer) owns the body; the others left it unread.
    if (state === 'untouched' || state === 'cancelled') await dropRest(source);
    return res;
  };
}
