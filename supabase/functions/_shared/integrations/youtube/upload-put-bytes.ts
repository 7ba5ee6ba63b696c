// One PUT of a byte range of the upload, with fetch and the chunk as a Uint8Array body, so it goes
// out with the exact Content-Length Google's upload protocol documents (a streamed body would go
// out chunked). Not node:http: on Deno 2.1 (the hosted runtime's) its client ignores a connection
// closed mid-request (no 'error', no 'response': the request hangs) and its response reader
// rejects with an uncaught BadResource that ends the whole process. fetch reports both as a
// rejection. fetch copies the body per request and V8 frees those copies late: measured on
// Deno 2.1.4, 256 chunks of 8 MiB peaked at 135 MB RSS (node:http: 82 MB), flat after the first
// few hundred MB; the upload-memory benchmark's 500 MB upload peaked at 138 MB (node:http: 104 MB).

export interface PutAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Rejects on a dropped connection, or with a TimeoutError when the exchange takes over `timeoutMs`. */
export async function putBytes(url: string, headers: Record<string, string>, body: Uint8Array, timeoutMs: number): Promise<PutAnswer> {
  const res = await fetch(url, { method: 'PUT', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
