// What a local HTTP server (gateway, edge runtime) does with a request body it answered before
// reading to the end: a 413 for a large upload, a 401 from verify_jwt, an error.
//
// Left alone, the rest of the body sits unread: the client's upload stalls on a full TCP window
// and the connection hangs until the keep-alive timeout (65 s) destroys it. Closing at once is no
// better: a client still writing gets a reset and may lose the answer it had not read yet. So the
// rest is read and dropped, which lets the client finish its request and read the answer, within
// bounds (bytes and time) past which the connection is closed instead.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

export const DROP_MAX_BYTES = 16 * 1024 * 1024;
export const DROP_MAX_MS = 5_000;

/**
 * Node ends an exchange that must not be kept alive (the client sent `Connection: close`) by
 * destroying the socket as soon as the answer is written. With the client still sending, that
 * is a reset, and the client may lose the answer. The socket is left half-closed instead (the
 * answer and a FIN sent) until the rest is dropped. Returns whether the socket is ours to close.
 */
function lingerBeforeClosing(socket: Socket): boolean {
  const destroy = socket.destroy as (...args: unknown[]) => unknown;
  if (!socket.listeners('finish').includes(destroy)) return false;
  socket.removeListener('finish', destroy);
  return true;
}

/**
 * Reads the rest of `req` and drops it, within DROP_MAX_BYTES and DROP_MAX_MS; from when `res`
 * is finished, see lingerBeforeClosing.
 */
export function dropBody(req: IncomingMessage, res: ServerResponse) {
  if (req.complete || req.destroyed) return;
  const socket = req.socket;
  let dropped = 0;
  let ours = false;
  const close = () => socket.destroy();
  const timer = setTimeout(close, DROP_MAX_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  const answered = () => (ours = lingerBeforeClosing(socket));
  if (res.writableFinished) answered();
  else res.once('finish', () => !req.complete && answered());
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DROP_MAX_BYTES) {
      done();
      close();
    }
  });
  req.once('end', () => {
    done();
    if (ours) close();
  });
  req.once('close', done);
  req.resume();
}

/**
 * Once `res` is finished, stops forwarding the rest of `req` to `upstream` (whose request is
 * abandoned: its errors are to be ignored from then on) and drops it, as dropBody does.
 */
export function dropUnreadBodyAfter(res: ServerResponse, req: IncomingMessage, upstream: Writable & { destroy(): void }) {
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    req.unpipe(upstream);
    upstream.destroy();
    dropBody(req, res);
  });
}
