// The fakes process: one HTTP server that speaks YouTube, Google OAuth, YouTube Analytics,
// Gemini and RevID (each under its own prefix, see services.ts), plus an echo sink and the
// /_control API that tests use to inject faults, read what arrived and reset state.
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { registerControl } from './control.ts';
import { BodyParseError, RequestContext } from './core/context.ts';
import { defaultErrorBody, type ErrorStyle } from './core/error-shapes.ts';
import { FaultStore, type FaultRule } from './core/faults.ts';
import { bodyAsText, RequestRecorder, redactedQuery, redactHeaders } from './core/recorder.ts';
import { Router, type RouteMatch } from './core/router.ts';
import { mountFor, type FakeService, type Mount } from './core/service.ts';
import { defaultServices } from './services.ts';

// Buffered bodies (JSON, forms, thumbnails) stay small; video uploads use streaming routes and
// never pass through this buffer.
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface FakesServer {
  url: string;
  close(): Promise<void>;
}

export interface FakesOptions {
  port: number;
  host?: string;
  services?: FakeService[];
  /** PEM certificate chain and key: the server speaks HTTPS only, as the real services do. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** What every request sees: the routers, the fault and request stores, and the shutdown signal. */
interface Fakes {
  mounts: Mount[];
  faults: FaultStore;
  recorder: RequestRecorder;
  control: Router;
  routes: Router;
  // Injected latency must not keep a closing server (or the test process) alive.
  shutdown: AbortController;
}

export async function createFakesServer(opts: FakesOptions): Promise<FakesServer> {
  const host = opts.host ?? '127.0.0.1';
  const services = opts.services ?? defaultServices();
  const fakes: Fakes = {
    mounts: services.flatMap((s) => s.mounts),
    faults: new FaultStore(),
    recorder: new RequestRecorder(),
    control: new Router(),
    routes: new Router(),
    shutdown: new AbortController(),
  };
  registerControl(fakes.control, { faults: fakes.faults, recorder: fakes.recorder, services });
  for (const s of services) s.register(fakes.routes);

  const listener: RequestListener = (req, res) => {
    handle(fakes, req, res).catch((err) => {
      console.error('fakes: unhandled error', err);
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, listener) : createServer(listener);
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        fakes.shutdown.abort();
        for (const s of services) s.close?.();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(fakes: Fakes, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://fakes.invalid');
  const isControl = url.pathname === '/_control' || url.pathname.startsWith('/_control/');
  const method = (req.method ?? 'GET').toUpperCase();
  const route = isControl ? fakes.control.match(method, url.pathname) : fakes.routes.match(method, url.pathname);
  const streaming = route.kind === 'found' && route.options.streamBody?.(url.searchParams) === true;

  let body: Buffer;
  if (streaming) {
    body = Buffer.alloc(0);
  } else {
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch {
      if (!res.headersSent) res.writeHead(413, { connection: 'close' }).end();
      req.socket.destroy();
      return;
    }
  }
  const ctx = new RequestContext(req, res, url, body);
  ctx.streaming = streaming;

  if (isControl) {
    await dispatch(route, ctx, 'plain', 'control API');
    return;
  }

  const mount = mountFor(fakes.mounts, ctx.path);
  const style = mount?.style ?? 'plain';
  const entry = record(fakes.recorder, ctx, body);
  const fault = fakes.faults.pick(ctx.method, ctx.path, ctx.query);
  if (fault) {
    entry.fault = fault.id;
    const answered = await applyFault(ctx, fault.rule, style, fakes.shutdown.signal);
    if (answered) {
      ctx.discardBody();
      return;
    }
  }
  await dispatch(route, ctx, style, mount?.label);
}

/** Records the request for the control API; status and streamed size are filled in when known. */
function record(recorder: RequestRecorder, ctx: RequestContext, body: Buffer) {
  const recorded = bodyAsText(body, ctx.header('content-type'));
  const entry = recorder.add({
    scheme: ctx.scheme,
    method: ctx.method,
    path: ctx.path,
    query: redactedQuery(ctx.query),
    headers: redactHeaders(ctx.headers),
    body: recorded.text,
    bodyBytes: body.length,
    bodyTruncated: recorded.truncated,
  });
  ctx.res.on('finish', () => {
    entry.status = ctx.res.statusCode;
  });
  if (ctx.streaming) {
    ctx.res.on('close', () => {
      entry.bodyBytes = ctx.streamedBytes;
      entry.body = `<streamed ${ctx.streamedBytes} bytes of ${ctx.header('content-type') ?? 'unknown type'}>`;
    });
  }
  return entry;
}

async function dispatch(m: RouteMatch, ctx: RequestContext, style: ErrorStyle, label: string | undefined) {
  if (m.kind === 'none') {
    const where = label ? ` in the fake ${label}` : '';
    ctx.sendJson(404, defaultErrorBody(style, 404, `no route ${ctx.method} ${ctx.path}${where} (not implemented by local/fakes)`));
    return;
  }
  if (m.kind === 'method-not-allowed') {
    ctx.sendJson(405, defaultErrorBody(style, 405, `${ctx.method} is not allowed on ${ctx.path}`), { allow: m.allow.join(', ') });
    return;
  }
  ctx.params = m.params;
  try {
    await m.handler(ctx);
  } catch (err) {
    if (err instanceof BodyParseError) {
      ctx.sendJson(400, defaultErrorBody(style, 400, err.message));
      return;
    }
    console.error(`fakes: ${ctx.method} ${ctx.path} failed`, err);
    ctx.sendJson(500, defaultErrorBody(style, 500));
    ctx.discardBody();
  }
}

/** Applies a fault; true when the fault answered (or dropped) the request itself. */
async function applyFault(ctx: RequestContext, rule: FaultRule, style: ErrorStyle, signal: AbortSignal): Promise<boolean> {
  if (rule.latencyMs) {
    const completed = await sleep(rule.latencyMs, signal);
    if (!completed) {
      ctx.req.socket.destroy();
      return true;
    }
  }
  if (rule.drop === 'before-response') {
    ctx.req.socket.destroy();
    return true;
  }
  if (rule.drop === 'mid-body') ctx.truncateBody = true;
  if (rule.headers) ctx.extraHeaders = { ...rule.headers };
  if (rule.status === undefined && rule.retryAfterSeconds === undefined) return false;

  const status = rule.status ?? 429;
  const headers: Record<string, string> = {};
  if (rule.retryAfterSeconds !== undefined) headers['retry-after'] = String(rule.retryAfterSeconds);
  const body = rule.body !== undefined ? rule.body : defaultErrorBody(style, status);
  if (typeof body === 'string') ctx.send(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }, body);
  else ctx.sendJson(status, body, headers);
  return true;
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
