// One request as the fakes see it: the body is read up front (the request log and the fault
// layer need it before any handler runs) and every response leaves through `send`, so the fault
// layer can add headers or cut a body short without each handler knowing about it.
import type { IncomingMessage, ServerResponse, IncomingHttpHeaders } from 'node:http';

export interface BodyConsumer {
  data(chunk: Buffer): void;
  /** The whole body arrived. */
  end(): void;
  /** The connection went away before the body was complete (the client's doing or ours). */
  aborted(): void;
}

export class RequestContext {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  params: Record<string, string> = {};
  /** Set by the fault layer: headers added to whatever the handler answers. */
  extraHeaders: Record<string, string> = {};
  /** Set by the fault layer: announce the full body, write half of it, then kill the socket. */
  truncateBody = false;
  /** True on routes that stream their body: `body` is empty and `consumeBody` reads it. */
  streaming = false;
  /** Bytes of a streamed body read so far (what the request log reports). */
  streamedBytes = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly url: URL,
    readonly body: Buffer,
  ) {
    this.method = (req.method ?? 'GET').toUpperCase();
    this.path = url.pathname;
    this.query = url.searchParams;
    this.headers = req.headers;
  }

  /** Whether the request came over TLS (the stack's fakes) or plain HTTP (in-process test fakes). */
  get scheme(): 'https' | 'http' {
    return 'encrypted' in this.req.socket && this.req.socket.encrypted ? 'https' : 'http';
  }

  /** The base URL the client used to reach us (pages and redirects must point back at it). */
  get origin(): string {
    return `${this.scheme}://${this.req.headers.host ?? this.url.host}`;
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  text(): string {
    return this.body.toString('utf8');
  }

  /** Parsed JSON body; `undefined` for an empty body; throws `BodyParseError` when malformed. */
  json(): unknown {
    if (this.body.length === 0) return undefined;
    try {
      return JSON.parse(this.text());
    } catch {
      throw new BodyParseError('request body is not valid JSON');
    }
  }

  form(): URLSearchParams {
    return new URLSearchParams(this.text());
  }

  /**
   * Reads a streamed body chunk by chunk. Exactly one of `end` / `aborted` is called, and no
   * `data` after it. Nothing is kept: what to remember is the consumer's business.
   */
  consumeBody(consumer: BodyConsumer) {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    this.req.on('data', (chunk: Buffer) => {
      if (settled) return;
      this.streamedBytes += chunk.length;
      consumer.data(chunk);
    });
    this.req.on('end', () => settle(() => consumer.end()));
    this.req.on('error', () => settle(() => consumer.aborted()));
    this.req.on('close', () => {
      if (!this.req.complete) settle(() => consumer.aborted());
    });
  }

  /** Throws away a streamed body nobody will read, so the connection can serve the next request. */
  discardBody() {
    if (this.streaming && !this.req.complete) this.req.resume();
  }

  get sent(): boolean {
    return this.res.headersSent || this.res.destroyed;
  }

  sendJson(status: number, value: unknown, headers: Record<string, string> = {}) {
    this.send(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }, JSON.stringify(value));
  }

  sendHtml(status: number, html: string, headers: Record<string, string> = {}) {
    this.send(status, { 'content-type': 'text/html; charset=utf-8', ...headers }, html);
  }

  redirect(location: string, status = 302) {
    this.send(status, { location }, '');
  }

  send(status: number, headers: Record<string, string>, body: string | Buffer) {
    if (this.sent) return;
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const all = { ...headers, ...this.extraHeaders, 'content-length': String(bytes.length) };
    this.res.writeHead(status, all);
    if (!this.truncateBody) {
      this.res.end(bytes);
      return;
    }
    // The client was promised `content-length` bytes and gets half: it must see a broken body,
    // not a short but complete one.
    const half = bytes.subarray(0, Math.floor(bytes.length / 2));
    this.res.write(half, () => this.res.socket?.destroy());
  }

  /** Status and headers with no body, keeping the caller's content-length (answers to HEAD). */
  sendHeaders(status: number, headers: Record<string, string>) {
    if (this.sent) return;
    this.res.writeHead(status, { ...headers, ...this.extraHeaders });
    this.res.end();
  }

  /**
   * A body written as separate frames (server-sent events), `delayMs` apart. A mid-body fault
   * sends the first half of the frames and then kills the connection.
   */
  async sendFrames(status: number, headers: Record<string, string>, frames: string[], delayMs = 0) {
    if (this.sent) return;
    this.res.writeHead(status, { ...headers, ...this.extraHeaders });
    const count = this.truncateBody ? Math.floor(frames.length / 2) : frames.length;
    for (let i = 0; i < count; i++) {
      if (i > 0 && delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (this.res.destroyed) return;
      await writeFlushed(this.res, frames[i]!);
    }
    if (this.truncateBody) this.res.socket?.destroy();
    else this.res.end();
  }

  /**
   * A body of `length` bytes produced by `source` as the client reads it (with backpressure, so a
   * 500 MB body never sits in memory). A mid-body fault stops at half and kills the connection.
   */
  async sendStream(status: number, headers: Record<string, string>, length: number, source: Iterable<Buffer> | AsyncIterable<Buffer>) {
    if (this.sent) return;
    this.res.writeHead(status, { ...headers, ...this.extraHeaders, 'content-length': String(length) });
    let budget = this.truncateBody ? Math.floor(length / 2) : length;
    if (budget > 0) {
      for await (const chunk of source) {
        if (this.res.destroyed) return;
        const piece = chunk.length > budget ? chunk.subarray(0, budget) : chunk;
        budget -= piece.length;
        if (!this.res.write(piece)) await drainedOrClosed(this.res);
        if (budget === 0) break;
      }
    }
    if (this.res.destroyed) return;
    if (this.truncateBody) {
      await writeFlushed(this.res, Buffer.alloc(0));
      this.res.socket?.destroy();
    } else {
      this.res.end();
    }
  }
}

function writeFlushed(res: ServerResponse, chunk: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('close', done);
      resolve();
    };
    res.on('close', done);
    res.write(chunk, done);
  });
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export class BodyParseError extends Error {}
