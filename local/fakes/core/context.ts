// One request as the fakes see it: the body is read up front (the request log and the fault
// layer need it before any handler runs) and every response leaves through `send`, so the fault
// layer can add headers or cut a body short without each handler knowing about it.
import type { IncomingMessage, ServerResponse, IncomingHttpHeaders } from 'node:http';

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

  /** The base URL the client used to reach us (pages and redirects must point back at it). */
  get origin(): string {
    return `http://${this.req.headers.host ?? this.url.host}`;
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
}

export class BodyParseError extends Error {}
