// One upload chunk's PUT (upload-put-bytes.ts): the caller's buffer goes out in place, with its
// exact Content-Length (Google's upload protocol; a chunked body has none), the buffer stays
// usable for a resend, and a connection closed mid-body or an exchange that takes too long is a
// rejection, not a hang. Every server here listens on 127.0.0.1 and stops at the end of its test.
import { assertEquals, assertOk } from './assert.ts';
import { ChunkBlob, chunkRequest, putBytes } from '../../supabase/functions/_shared/integrations/youtube/upload-put-bytes.ts';

const MiB = 1024 * 1024;

function pattern(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 13 + 5) % 251;
  return bytes;
}

Deno.test('chunkRequest: this runtime takes the chunk in place, and the request carries exactly its bytes', async () => {
  const chunk = pattern(3 * MiB + 17);
  const { request, inPlace } = chunkRequest('http://127.0.0.1:9/upload', { 'Content-Range': 'bytes 0-3145744/*' }, chunk, 1_000);
  // Without this the runtime would copy every chunk again (the fallback): the in-place path is
  // what the upload's CPU and memory figures are measured with.
  assertOk(inPlace, 'the runtime did not take the body through the chunk blob');
  const sent = new Uint8Array(await request.arrayBuffer());
  assertEquals(sent.byteLength, chunk.byteLength);
  assertOk(
    sent.every((b, i) => b === chunk[i]),
    'the request body differs from the chunk',
  );
  assertEquals(chunk.byteLength, 3 * MiB + 17, 'the chunk buffer was detached');
});

Deno.test('ChunkBlob: every reader of the blob sees the chunk, never the empty Blob it extends', async () => {
  const chunk = new TextEncoder().encode('eight MiB stand-in');
  const blob = new ChunkBlob(chunk);
  assertEquals(blob.size, chunk.byteLength);
  assertEquals(await blob.text(), 'eight MiB stand-in');
  assertEquals(new Uint8Array(await blob.arrayBuffer()), chunk);
  assertEquals(await blob.slice(6, 9).text(), 'MiB');
  assertEquals(await new Response(blob.stream()).text(), 'eight MiB stand-in');
});

Deno.test('putBytes: the chunk arrives whole with its Content-Length, not chunked, and the buffer can be sent again', async () => {
  const seen: { length: string | null; encoding: string | null; bytes: Uint8Array }[] = [];
  const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen() {} }, async (req) => {
    seen.push({
      length: req.headers.get('content-length'),
      encoding: req.headers.get('transfer-encoding'),
      bytes: new Uint8Array(await req.arrayBuffer()),
    });
    return new Response(null, { status: 308, headers: { range: `bytes=0-${seen.at(-1)!.bytes.byteLength - 1}` } });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/upload`;
    const chunk = pattern(8 * MiB);
    for (let round = 0; round < 2; round++) {
      const answer = await putBytes(url, { 'Content-Range': `bytes 0-${8 * MiB - 1}/*` }, chunk, 10_000);
      assertEquals(answer.status, 308);
      assertEquals(answer.headers.get('range'), `bytes=0-${8 * MiB - 1}`);
    }
    assertEquals(seen.length, 2);
    for (const s of seen) {
      assertEquals(s.length, String(8 * MiB));
      assertEquals(s.encoding, null);
      assertOk(
        s.bytes.every((b, i) => b === chunk[i]),
        'the bytes that arrived differ from the chunk',
      );
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test('putBytes: a connection closed mid-body rejects, and an unanswered one times out', async () => {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(64 * 1024);
      let got = 0;
      // The first connection is closed once 1 MiB has arrived; the second is read and never answered.
      const closeAt = held.length === 0 ? MiB : Infinity;
      held.push(conn);
      (async () => {
        try {
          while (got < closeAt) {
            const n = await conn.read(buf);
            if (n === null) return;
            got += n;
          }
          conn.close();
        } catch {
          // closed by the test's end
        }
      })();
    }
  })();
  try {
    const url = `http://127.0.0.1:${port}/upload`;
    const chunk = pattern(8 * MiB);
    const closed = await putBytes(url, {}, chunk, 10_000).then(
      () => 'answered',
      (e: Error) => e.name,
    );
    assertEquals(closed, 'TypeError');
    const started = Date.now();
    const unanswered = await putBytes(url, {}, chunk, 500).then(
      () => 'answered',
      (e: Error) => e.name,
    );
    assertEquals(unanswered, 'TimeoutError');
    assertOk(Date.now() - started < 5_000, 'the timeout did not end the exchange');
  } finally {
    listener.close();
    for (const c of held) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    await accepting.catch(() => {});
  }
});
