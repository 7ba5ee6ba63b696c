// GET /account/export and GET /account/export/workspaces/:id: the GDPR export as downloads that
// each fit one edge invocation. The account document (every row of the caller's, and the list of
// the workspaces they own) is one download; each owned workspace's data is a chain of parts, each
// a self-contained JSON document of at most about EXPORT_PART_BYTES, whose next_cursor names the
// next. The function spends about 5 ms of CPU per MB it passes on, so one request cannot carry a
// big workspace (400 MB of JSON is 2 s, the hosted limit); a 64 MB part measured 0.51-0.63 s of CPU
// and 127 MB peak RSS.
// The database writes every document as text through a cursor and the function passes the bytes
// on chunk by chunk as Postgres sent them (no decoding, parsing or re-encoding), so memory stays
// flat whatever the size.
import type { Claims } from '../_shared/platform/auth.ts';
import { streamAsUser, type Tx } from '../_shared/platform/db.ts';
import { withStandardHeaders } from '../_shared/platform/http.ts';
import type { PartCursor } from './export-cursor.ts';

// Bytes per round trip: large enough that the per-chunk cost (a statement, a protocol message)
// is nothing next to the bytes, small enough that one chunk in flight and one buffered stay a
// few MB of memory.
export const EXPORT_CHUNK_BYTES = 1024 * 1024;

async function nextChunk(tx: Tx, cursor: string): Promise<Uint8Array | null> {
  // raw(): the column as the bytes Postgres sent, instead of a decoded string.
  const [row] = await tx`select public.fetch_export_chunk(${cursor}, ${EXPORT_CHUNK_BYTES}) as chunk`.raw();
  return (row[0] as Uint8Array | null) ?? null;
}

function download(body: ReadableStream<Uint8Array>, filename: string): Response {
  const headers = withStandardHeaders();
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Content-Disposition', `attachment; filename="${filename}"`);
  return new Response(body, { status: 200, headers });
}

const today = () => new Date().toISOString().slice(0, 10);

export async function exportResponse(claims: Claims): Promise<Response> {
  const body = await streamAsUser(
    claims,
    async (tx) => (await tx<{ cursor: string }[]>`select public.open_account_export() as cursor`)[0].cursor,
    nextChunk,
  );
  return download(body, `account-export-${today()}.json`);
}

/**
 * One part of a workspace's data, from `cursor` (null: the first part), of about `maxBytes`.
 * The database checks that the caller owns the workspace (404 otherwise) and that the cursor fits
 * its tables (400 otherwise) before the response starts.
 */
export async function workspacePartResponse(
  claims: Claims,
  workspaceId: string,
  cursor: PartCursor | null,
  maxBytes: number,
): Promise<Response> {
  const part = cursor?.p ?? 1;
  // The key goes as text cast in SQL: a parameter typed jsonb would be JSON-encoded by the driver
  // a second time, into a JSON string.
  const body = await streamAsUser(
    claims,
    async (tx) =>
      (
        await tx<{ cursor: string }[]>`
        select public.open_workspace_export_part(
          ${workspaceId}::uuid, ${cursor?.t ?? null}::text, (${cursor?.k ? JSON.stringify(cursor.k) : null}::text)::jsonb,
          ${part}::int, ${maxBytes}::int) as cursor`
      )[0].cursor,
    nextChunk,
  );
  return download(body, `workspace-export-${workspaceId}-part-${part}-${today()}.json`);
}
