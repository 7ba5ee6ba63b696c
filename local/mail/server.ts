// The catcher's HTTP side: the web inbox and the JSON API that tests and tools read.
//   GET    /api/messages?to=<address>   newest first
//   GET    /api/messages/:id            one message;  /api/messages/:id/raw its source
//   DELETE /api/messages                delete every message
import http from 'node:http';
import type { MessageStore } from './store.ts';
import { inboxPage, MESSAGE_HTML_CSP, messagePage, PAGE_CSP } from './pages.ts';

type Reply = { status: number; type: string; body: string | Buffer; headers?: Record<string, string> };

const json = (status: number, body: unknown): Reply => ({ status, type: 'application/json', body: JSON.stringify(body) });
const notFound = () => json(404, { error: { code: 'not_found', message: 'No such message or route' } });
const html = (body: string, csp = PAGE_CSP): Reply => ({
  status: 200,
  type: 'text/html; charset=utf-8',
  body,
  headers: { 'content-security-policy': csp },
});

function routeRequest(store: MessageStore, method: string, url: URL): Reply {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const to = url.searchParams.get('to');
  if (path === '/health' && method === 'GET') return json(200, { status: 'ok', messages: store.list().length });
  if (path === '/api/messages') {
    if (method === 'GET') return json(200, store.list(to ?? undefined));
    if (method === 'DELETE') {
      store.clear();
      return json(200, { deleted: true });
    }
    return json(405, { error: { code: 'method_not_allowed', message: 'Use GET or DELETE' } });
  }
  const api = /^\/api\/messages\/([^/]+)(\/raw)?$/.exec(path);
  if (api && method === 'GET') {
    const message = store.get(api[1]!);
    if (!message) return notFound();
    if (!api[2]) return json(200, message);
    return { status: 200, type: 'message/rfc822', body: store.raw(message.id) ?? '' };
  }
  if (path === '/' && method === 'GET') return html(inboxPage(store.list(to ?? undefined), to, store.list().length));
  if (path === '/clear' && method === 'POST') {
    store.clear();
    return { status: 303, type: 'text/plain', body: '', headers: { location: '/' } };
  }
  const view = /^\/messages\/([^/]+)(\/html)?$/.exec(path);
  if (view && method === 'GET') {
    const message = store.get(view[1]!);
    if (!message) return notFound();
    return view[2] ? html(message.html, MESSAGE_HTML_CSP) : html(messagePage(message));
  }
  return notFound();
}

export function createInboxServer(store: MessageStore): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://mail.local');
    let reply: Reply;
    try {
      reply = routeRequest(store, req.method ?? 'GET', url);
    } catch (err) {
      reply = json(500, { error: { code: 'internal', message: (err as Error).message } });
    }
    res.writeHead(reply.status, {
      'content-type': reply.type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...reply.headers,
    });
    res.end(reply.body);
    // Bodies are never read: drain them so the connection stays usable.
    req.resume();
  });
}
