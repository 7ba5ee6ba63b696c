// Raw HTTP/1.1 over a socket for the local servers' tests: a chunked upload that goes on
// sending while the server answers, and the answers' status lines.
import net from 'node:net';

const CHUNK = Buffer.alloc(64 * 1024, 'a');
const FRAME = Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')]);

/**
 * A raw HTTP/1.1 connection to a local server (Node's own client stops writing a body once it has
 * read an answer, so it cannot show what a client that goes on sending meets).
 */
export function rawConnection(base: string) {
  const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
  let received = '';
  let closed = false;
  const errors: string[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  socket.on('data', (d) => {
    received += d.toString();
    wake();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message)); // e.g. a reset after the server closed
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('drain', wake);
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((r) => waiters.push(r));
  };
  return {
    socket,
    // Not anchored to a line start: an answer with a content-length ends without a newline.
    answers: () => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])),
    isClosed: () => closed,
    /** Error codes the socket saw (ECONNRESET, EPIPE: the server reset the connection). */
    errors: () => [...errors],
    until,
    /** Sends a chunked POST of `total` bytes (or until the server closes); returns the bytes sent. */
    async upload(path: string, total: number, headers = '') {
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: local\r\ncontent-type: application/json\r\n${headers}transfer-encoding: chunked\r\n\r\n`,
      );
      let sent = 0;
      while (!closed && sent < total) {
        sent += CHUNK.length;
        if (!socket.write(FRAME)) await until(() => closed || socket.writableNeedDrain === false);
      }
      if (!closed) socket.write('0\r\n\r\n');
      return sent;
    },
  };
}
