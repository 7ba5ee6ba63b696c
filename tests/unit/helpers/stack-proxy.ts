// A proxy on 127.0.0.1 in front of the test stack's gateway that lets one thing break: `mutate`
// may rewrite the upstream answer (status, headers, body) per path before it reaches the client.
// Used by the smoke test's "each check fails when what it guards is broken" and the uptime
// monitor's outage.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function brokenProxy(upstreamUrl: string, mutate: (path: string, res: Upstream) => Upstream) {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers.set(k, v);
    const up = await fetch(`${upstreamUrl}${req.url}`, {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const answer = mutate(new URL(req.url ?? '/', 'http://x').pathname, {
      status: up.status,
      headers: up.headers,
      body: Buffer.from(await up.arrayBuffer()),
    });
    const out: Record<string, string> = {};
    answer.headers.forEach((v, k) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'content-encoding'].includes(k)) out[k] = v;
    });
    res.writeHead(answer.status, out);
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
