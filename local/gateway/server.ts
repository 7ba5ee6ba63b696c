// Local stand-in for Supabase's API gateway (Kong + edge runtime routing) on one port, with
// hosted Supabase's URL layout: /auth/v1 → auth emulator, /functions/v1/<name> → functions
// server (verify_jwt enforced first), and a clear 501 for the APIs the local stack lacks.
import http from 'node:http';
import { importJWK, SignJWT, type JWK } from 'jose';
import { dropBody, dropUnreadBodyAfter } from '../unread-body.ts';
import { createApiKeyCheck, type ApiKeyOptions, type KeyRole } from './api-keys.ts';
import { createJwtCheck } from './jwt-check.ts';

export interface GatewayOptions {
  port: number;
  host?: string;
  authUrl: string;
  functionsUrl: string;
  publicJwk: JWK;
  verifyJwt: Map<string, boolean>;
  /** The project's API keys; without them only requests without an `apikey` header pass. */
  apiKeys?: ApiKeyOptions;
  /** Signs the short-lived role JWTs that stand for an opaque key towards Auth (see roleToken). */
  privateJwk?: JWK;
}

// Auth (like PostgREST and Storage) only understands JWTs: for a request that authenticates with
// an opaque key (no user JWT, or the key itself as the bearer, as supabase-js sends it), hosted's
// gateway hands the upstream a short-lived JWT of the key's role instead. Functions get the
// request as sent, and check the apikey themselves.
const ROLE_TOKEN_SECONDS = 300;

function roleTokens(privateJwk: JWK | undefined) {
  const cached = new Map<KeyRole, { token: string; until: number }>();
  return async (role: KeyRole): Promise<string | null> => {
    if (!privateJwk?.kid) return null;
    const hit = cached.get(role);
    if (hit && hit.until > Date.now()) return hit.token;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role, iss: 'supabase' })
      .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid, typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + ROLE_TOKEN_SECONDS)
      .sign(await importJWK(privateJwk, 'ES256'));
    cached.set(role, { token, until: (now + ROLE_TOKEN_SECONDS - 60) * 1000 });
    return token;
  };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'access-control-allow-headers':
    'authorization, x-client-info, apikey, content-type, x-supabase-api-version, idempotency-key, x-request-id, x-retry-count',
  'access-control-max-age': '86400',
};

const NOT_OFFERED = ['rest', 'storage', 'realtime', 'graphql', 'pg'];

// Connection headers describe one hop, never the next: a client's `Connection: close` forwarded
// made the upstream close a pooled connection still carrying a body, and the upstream's
// `Connection: keep-alive` passed back overrode a client's request to close.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding']);
// x-forwarded-for is rebuilt below with the connecting address last; hop-by-hop headers are not passed on.
const NOT_FORWARDED = new Set(['host', 'x-forwarded-for', 'connection', 'keep-alive', 'proxy-connection']);

function sendJson(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', ...CORS });
  res.end(JSON.stringify(body));
}

function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * X-Forwarded-For as the hosted gateway (Kong's proxy_add_x_forwarded_for) passes it on: what the
 * caller sent, then the address that connected, last. Only that last entry is the gateway's word.
 */
export function forwardedFor(req: Pick<http.IncomingMessage, 'headers' | 'socket'>): string {
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  const sent = req.headers['x-forwarded-for'];
  const prior = (Array.isArray(sent) ? sent.join(', ') : (sent ?? '')).trim();
  return prior ? `${prior}, ${remote}` : remote;
}

interface Gateway {
  opts: GatewayOptions;
  agent: http.Agent;
  checkJwt: Awaited<ReturnType<typeof createJwtCheck>>;
  checkApiKey: ReturnType<typeof createApiKeyCheck>;
  roleToken: ReturnType<typeof roleTokens>;
}

/** The Authorization Auth should see, or undefined to pass the caller's on unchanged. */
async function authorizationForAuth(gw: Gateway, req: http.IncomingMessage, role: KeyRole | null): Promise<string | undefined> {
  const apikey = header(req, 'apikey');
  const sent = header(req, 'authorization');
  if (!role || !apikey?.startsWith('sb_') || (sent !== undefined && sent !== `Bearer ${apikey}`)) return undefined;
  const token = await gw.roleToken(role);
  return token ? `Bearer ${token}` : undefined;
}

// Raw header lists in and out, as they arrived: no header object is built and re-validated
// per request, which is most of what proxying costs in Node.
function upstreamRequestHeaders(req: http.IncomingMessage, target: URL, authorization?: string): string[] {
  const headers: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!NOT_FORWARDED.has(name) && !(authorization && name === 'authorization')) headers.push(raw[i], raw[i + 1]);
  }
  if (authorization) headers.push('authorization', authorization);
  headers.push(
    'host',
    target.host,
    'x-forwarded-host',
    req.headers.host ?? '',
    'x-forwarded-proto',
    'http',
    'x-forwarded-for',
    forwardedFor(req),
  );
  return headers;
}

function downstreamResponseHeaders(upstreamRes: http.IncomingMessage): string[] {
  const out: string[] = [];
  const rawOut = upstreamRes.rawHeaders;
  for (let i = 0; i < rawOut.length; i += 2) {
    if (!HOP_BY_HOP.has(rawOut[i].toLowerCase())) out.push(rawOut[i], rawOut[i + 1]);
  }
  if (upstreamRes.headers['access-control-allow-origin'] === undefined) out.push('access-control-allow-origin', '*');
  return out;
}

function forward(
  gw: Gateway,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  base: string,
  path: string,
  upstream: string,
  authorization?: string,
) {
  const target = new URL(base);
  const headers = upstreamRequestHeaders(req, target, authorization);
  const proxied = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path,
      headers: headers as unknown as http.OutgoingHttpHeaders,
      agent: gw.agent,
    },
    (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, downstreamResponseHeaders(upstreamRes));
      upstreamRes.pipe(res);
    },
  );
  proxied.on('error', (err) => {
    if (res.writableFinished) return; // abandoned after the answer, see dropUnreadBodyAfter
    if (!res.headersSent) sendJson(res, 502, { code: 502, message: `${upstream} is unavailable: ${err.message}` });
    else res.destroy(err);
  });
  res.on('close', () => {
    if (!res.writableFinished) proxied.destroy();
  });
  // Most calls are GETs without a body: ending the upstream request at once spares a stream
  // pipe per request, a measurable part of the gateway's CPU under load.
  if (hasBody(req)) {
    req.pipe(proxied);
    dropUnreadBodyAfter(res, req, proxied);
  } else proxied.end();
}

async function routeToFunction(gw: Gateway, req: http.IncomingMessage, res: http.ServerResponse, rest: string[], search: string) {
  const name = rest[0] ?? '';
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    sendJson(res, 404, { code: 404, message: 'Requested function was not found' });
    return;
  }
  if (gw.opts.verifyJwt.get(name) ?? true) {
    const verdict = await gw.checkJwt(req.headers.authorization);
    if (!verdict.ok) {
      dropBody(req, res);
      sendJson(res, 401, { code: 401, message: verdict.message });
      return;
    }
  }
  forward(gw, req, res, gw.opts.functionsUrl, `/${rest.join('/')}${search}`, 'functions');
}

async function route(gw: Gateway, req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://gateway');
  const [, service, version, ...rest] = url.pathname.split('/');
  if (req.method === 'OPTIONS') {
    res.writeHead(200, CORS);
    res.end();
    return;
  }
  const offered = (service === 'auth' || service === 'functions') && version === 'v1';
  const key = offered ? await gw.checkApiKey(header(req, 'apikey'), header(req, 'user-agent')) : null;
  if (key && !key.ok) {
    dropBody(req, res);
    sendJson(res, 401, { message: key.message, hint: key.hint });
    return;
  }
  if (service === 'auth' && version === 'v1') {
    const authorization = await authorizationForAuth(gw, req, key?.ok ? key.role : null);
    forward(gw, req, res, gw.opts.authUrl, `/${rest.join('/')}${url.search}`, 'auth', authorization);
    return;
  }
  if (service === 'functions' && version === 'v1') return routeToFunction(gw, req, res, rest, url.search);
  if (NOT_OFFERED.includes(service) && version === 'v1') {
    dropBody(req, res);
    sendJson(res, 501, {
      code: 501,
      message: `/${service}/v1 is not offered by the local stack (no Docker here); tenant isolation for direct SDK access is tested in the database with pgTAP`,
    });
    return;
  }
  dropBody(req, res);
  sendJson(res, 404, { code: 404, message: `no route for ${url.pathname}` });
}

export async function createGateway(opts: GatewayOptions) {
  const gw: Gateway = {
    opts,
    agent: new http.Agent({ keepAlive: true, maxSockets: 512 }),
    checkJwt: await createJwtCheck(opts.publicJwk, Date.now, opts.apiKeys?.legacyJwtSecret),
    checkApiKey: createApiKeyCheck(opts.apiKeys ?? {}),
    roleToken: roleTokens(opts.privateJwk),
  };
  const server = http.createServer(async (req, res) => {
    try {
      await route(gw, req, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { code: 500, message: `gateway error: ${(err as Error).message}` });
    }
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        gw.agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
