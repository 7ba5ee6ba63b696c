// One PUT of a byte range of the upload, with fetch, the chunk going out with the exact
// Content-Length Google's upload protocol documents. Not node:http: on Deno 2.1 (the hosted
// runtime's) its client ignores a connection closed mid-request (no 'error', no 'response': the
// request hangs) and its response reader rejects with an uncaught BadResource that ends the whole
// process. fetch reports both as a rejection.
//
// The body is the caller's buffer, read in place (ChunkBlob). The other bodies fetch takes each
// cost more: a Uint8Array is copied whole first (the Fetch standard's body extraction), into fresh
// memory every chunk, and V8 frees those copies late; a ReadableStream goes out chunked, with no
// Content-Length. Measured on Deno 2.1.4, 2 GiB in 8 MiB PUTs over TLS: 6.1 s of CPU, 9.7 s,
// 137 MB peak RSS with a Uint8Array body; 2.0 s, 2.7 s, 73 MB in place.

export interface PutAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A Blob whose contents are the caller's bytes, unread until fetch sends them. Deno's fetch takes
 * a Blob body through the Blob's public `size` and `stream()` and sends that stream with the size
 * as its Content-Length, no copy made; this class answers both from the caller's buffer. The
 * buffer is not detached (a default stream, not a byte stream), so the caller can resend it.
 */
export class ChunkBlob extends Blob {
  /** The stream handed to fetch, once asked for. */
  streamed: ReadableStream<Uint8Array> | null = null;

  constructor(private readonly chunk: Uint8Array) {
    super();
  }

  override get size(): number {
    return this.chunk.byteLength;
  }

  override stream(): ReadableStream<Uint8Array> {
    const chunk = this.chunk;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    this.streamed = stream;
    return stream;
  }
}

/**
 * The PUT of `body`: in place when the runtime took the body through ChunkBlob's stream (checked
 * per request: a runtime that read the Blob's own, empty, contents would send nothing), else with
 * the body copied as a Uint8Array.
 */
export function chunkRequest(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
  timeoutMs: number,
): { request: Request; inPlace: boolean } {
  const init: RequestInit = { method: 'PUT', headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) };
  const blob = new ChunkBlob(body);
  const request = new Request(url, { ...init, body: blob });
  if (request.body !== null && request.body === blob.streamed) return { request, inPlace: true };
  return { request: new Request(url, { ...init, body }), inPlace: false };
}

/** Rejects on a dropped connection, or with a TimeoutError when the exchange takes over `timeoutMs`. */
export async function putBytes(url: string, headers: Record<string, string>, body: Uint8Array, timeoutMs: number): Promise<PutAnswer> {
  const res = await fetch(chunkRequest(url, headers, body, timeoutMs).request);
  return { status: res.status, headers: res.headers, text: await res.text() };
}
