// One PUT of a byte range of the upload, over node:http(s) rather than fetch. Measured: fetch
// copies a Uint8Array body into a new ArrayBuffer per request, and V8 collects those only once
// its external memory grows by tens of MB (a 500 MB upload in 8 MiB chunks peaked above 180 MB of
// RSS); a streamed fetch body avoids the copies but goes out chunked, without the Content-Length
// Google's upload protocol documents. node:http writes the caller's buffer as it is, with its
// exact Content-Length (the same upload peaked under 100 MB).
import http from 'node:http';
import https from 'node:https';

export interface PutAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Rejects on a dropped connection or when nothing is answered within `timeoutMs`. */
export function putBytes(url: string, headers: Record<string, string>, body: Uint8Array, timeoutMs: number): Promise<PutAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(target, { method: 'PUT', headers: { ...headers, 'Content-Length': String(body.byteLength) } }, (res) => {
      const parts: Uint8Array[] = [];
      res.on('data', (d: Uint8Array) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const answer = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) answer.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        }
        const size = parts.reduce((n, p) => n + p.byteLength, 0);
        const all = new Uint8Array(size);
        let at = 0;
        for (const p of parts) {
          all.set(p, at);
          at += p.byteLength;
        }
        resolve({ status: res.statusCode ?? 0, headers: answer, text: new TextDecoder().decode(all) });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end(body);
  });
}
