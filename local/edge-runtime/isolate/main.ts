// One isolate of the local edge runtime (runs on Deno): it loads a function's index.ts exactly as
// hosted deploys it, and the Deno.serve call in there is bound to the Unix socket the runtime
// proxies to. Arguments: <index.ts URL> <socket path> <probe token>.
import { applyRestrictions } from './restrictions.ts';
import { dropUnreadBody } from './unread-body.ts';

type ServeHandler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

const [entry, socketPath, probeToken] = Deno.args;
if (!entry || !socketPath || !probeToken) {
  console.error('usage: isolate/main.ts <index.ts URL> <socket path> <probe token>');
  Deno.exit(64);
}

applyRestrictions();

const serve = Deno.serve.bind(Deno) as unknown as (options: Deno.ServeUnixOptions, handler: ServeHandler) => Deno.HttpServer;
let served = false;
// index.ts calls Deno.serve(handler) or Deno.serve(options, handler); hosted ignores the port
// options too, since the platform owns the listener.
(Deno as { serve: unknown }).serve = (first: unknown, second?: unknown) => {
  const handler = (typeof first === 'function' ? first : (second ?? (first as { handler?: unknown }).handler)) as ServeHandler;
  if (typeof handler !== 'function') throw new TypeError('Deno.serve needs a handler');
  if (served) throw new Error('Deno.serve was called twice: one function serves one handler');
  served = true;
  return serve({ path: socketPath, onListen: () => console.log('edge-isolate: ready') }, answerProbe(dropUnreadBody(handler)));
};

/**
 * Hosted measures an isolate's memory as V8 heap plus external memory, not the process: the
 * runtime asks for those figures after each request (with a token the caller never sees) to
 * decide when the isolate has used half of its memory and retires.
 */
function answerProbe(handler: ServeHandler): ServeHandler {
  return (req, info) => {
    if (req.headers.get('x-edge-isolate-probe') !== probeToken) return handler(req, info);
    const { heapTotal, heapUsed, external } = Deno.memoryUsage();
    return Response.json({ heapTotal, heapUsed, external });
  };
}

await import(entry);
if (!served) {
  console.error(`${entry} did not call Deno.serve: nothing to run`);
  Deno.exit(70);
}
