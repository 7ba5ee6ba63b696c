// GET /account/export: every row of the caller's, and the data of every workspace they own, as
// one JSON document sent as a download. The database writes the document as text through a
// cursor (public.open_account_export) and the function passes it on chunk by chunk, as the bytes
// Postgres sent (no decoding, parsing or re-encoding), so memory and CPU stay flat however big
// the account is: a workspace of 3.65 M metric rows is about 1.2 GB of JSON.
import type { Claims } from '../_shared/auth.ts';
import { streamAsUser, type Tx } from '../_shared/db.ts';
import { withStandardHeaders } from '../_shared/http.ts';

// Bytes per round trip: large enough that the per-chunk cost (a statement, a protocol message)
// is nothing next to the bytes, small enough that one chunk in flight and one buffered stay a
// few MB of memory.
export const EXPORT_CHUNK_BYTES = 1024 * 1024;

async function openExport(tx: Tx): Promise<string> {
  const [{ cursor }] = await tx<{ cursor: string }[]>`select public.open_account_export() as cursor`;
  return cursor;
}

async function nextChunk(tx: Tx, cursor: string): Promise<Uint8Array | null> {
  // raw(): the column as the bytes Postgres sent, instead of a decoded string.
  const [row] = await tx`select public.fetch_export_chunk(${cursor}, ${EXPORT_CHUNK_BYTES}) as chunk`.raw();
  return (row[0] as Uint8Array | null) ?? null;
}

export async function exportResponse(claims: Claims): Promise<Response> {
  const body = await streamAsUser(claims, openExport, nextChunk);
  const headers = withStandardHeaders();
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Content-Disposition', `attachment; filename="account-export-${new Date().toISOString().slice(0, 10)}.json"`);
  return new Response(body, { status: 200, headers });
}
