// A GET that reports only the status, over http or https. For https, `ca` is the one CA to trust:
// a process that starts a stack cannot make its own fetch trust that stack's CA, because Node reads
// NODE_EXTRA_CA_CERTS once at start-up, before the CA may exist.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export function probeStatus(url: string, opts: { ca?: string | Buffer; timeoutMs?: number } = {}): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const done = (res: { statusCode?: number; resume(): void }) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(target, { ca: opts.ca, agent: false }, done)
        : httpRequest(target, { agent: false }, done);
    req.setTimeout(opts.timeoutMs ?? 2000, () => req.destroy(new Error(`no answer from ${url} within ${opts.timeoutMs ?? 2000} ms`)));
    req.on('error', reject);
    req.end();
  });
}
