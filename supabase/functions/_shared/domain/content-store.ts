// Reading and changing generated content through the database's own rules (the SQL functions of
// migration content_generation decide roles and the review state machine; RLS decides what a
// caller sees), and the shape content takes in every API answer.
import { asJson } from '../platform/db-json.ts';
import { asService, type Tx } from '../platform/db.ts';
import { HttpError } from '../platform/http.ts';
import { rethrowPg } from '../platform/pg-errors.ts';
import type { ContentKind, ContentOutput } from './content-kinds.ts';
import type { ContentStatus } from '../contracts/content.ts';

// What a generation quoted and how its model calls went are stored as generate-content built them
// (its prompt.ts and generate.ts own those shapes); this module only passes them to the database,
// so it names them loosely instead of importing from a function's folder.
type StoredDocuments = readonly object[];
interface StoredInputs {
  patterns: unknown;
  totals: unknown;
  own_outcomes: StoredDocuments;
}

/** How many of the workspace's own published suggestions a prompt quotes. */
export const OWN_OUTCOMES_LIMIT = 8;

export type { ContentStatus };
export type ReviewAction = 'submit' | 'approve' | 'reject';

export interface ContentRow {
  id: string;
  workspace_id: string;
  kind: ContentKind;
  status: ContentStatus;
  brief: Record<string, unknown>;
  source_videos: StoredDocuments;
  prompt_version: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  output: ContentOutput;
  current_version: number;
  approved_version: number | null;
  rejection_reason: string | null;
  created_by: string | null;
  submitted_by: string | null;
  submitted_at: Date | null;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const CONTENT_COLUMNS = `id, workspace_id, kind, status, brief, source_videos, prompt_version, model, input_tokens,
  output_tokens, output, current_version, approved_version, rejection_reason, created_by, submitted_by,
  submitted_at, reviewed_by, reviewed_at, created_at, updated_at`;

export function contentNotFound() {
  return new HttpError(404, 'not_found', 'content not found');
}

/** The content SQL's own verdicts, then the shared ones (pg-errors.ts). */
function rethrowContentError(err: unknown): never {
  rethrowPg(err, { area: 'content' });
}

export async function createContent(
  tx: Tx,
  input: {
    id: string;
    workspaceId: string;
    kind: ContentKind;
    brief: Record<string, unknown>;
    sourceVideos: StoredDocuments;
    promptVersion: string;
    model: string;
    inputTokens: number;
    outputTokens: number;
    output: ContentOutput;
  },
): Promise<ContentRow> {
  try {
    const [row] = await tx<ContentRow[]>`
      select ${tx.unsafe(CONTENT_COLUMNS)} from public.create_generated_content(
        ${input.id}, ${input.workspaceId}, ${input.kind}, ${asJson(input.brief)}, ${asJson(input.sourceVideos)},
        ${input.promptVersion}, ${input.model}, ${input.inputTokens}, ${input.outputTokens}, ${asJson(input.output)})`;
    return row;
  } catch (err) {
    rethrowContentError(err);
  }
}

/** The content as the caller sees it; 404 when RLS hides it (another workspace's never leaks). */
export async function getContent(tx: Tx, id: string): Promise<ContentRow> {
  const [row] = await tx<ContentRow[]>`select ${tx.unsafe(CONTENT_COLUMNS)} from public.generated_content where id = ${id}`;
  if (!row) throw contentNotFound();
  return row;
}

export interface ListFilter {
  workspaceId: string;
  status?: ContentStatus;
  kind?: ContentKind;
  limit: number;
  before?: Date;
}

export async function listContent(tx: Tx, f: ListFilter): Promise<ContentRow[]> {
  return await tx<ContentRow[]>`
    select ${tx.unsafe(CONTENT_COLUMNS)} from public.generated_content
    where workspace_id = ${f.workspaceId}
      ${f.status ? tx`and status = ${f.status}` : tx``}
      ${f.kind ? tx`and kind = ${f.kind}` : tx``}
      ${f.before ? tx`and created_at < ${f.before}` : tx``}
    order by created_at desc, id desc
    limit ${f.limit}`;
}

export async function editContent(tx: Tx, id: string, output: ContentOutput, note: string | null): Promise<ContentRow> {
  try {
    const [row] = await tx<ContentRow[]>`
      select ${tx.unsafe(CONTENT_COLUMNS)} from public.edit_generated_content(${id}, ${asJson(output)}, ${note})`;
    return row;
  } catch (err) {
    rethrowContentError(err);
  }
}

export async function reviewContent(tx: Tx, id: string, action: ReviewAction, reason: string | null): Promise<ContentRow> {
  try {
    const [row] = await tx<ContentRow[]>`
      select ${tx.unsafe(CONTENT_COLUMNS)} from public.review_generated_content(${id}, ${action}, ${reason})`;
    return row;
  } catch (err) {
    rethrowContentError(err);
  }
}

export interface VersionRow {
  version: number;
  output: ContentOutput;
  note: string | null;
  created_by: string | null;
  created_at: Date;
}

/** Newest first; `limit` 1 gives the current version. */
export async function listVersions(tx: Tx, contentId: string, limit = 1_000): Promise<VersionRow[]> {
  return await tx<VersionRow[]>`
    select version, output, note, created_by, created_at from public.content_versions
    where content_id = ${contentId} order by version desc limit ${limit}`;
}

export interface TransitionRow {
  action: string;
  from_status: ContentStatus | null;
  to_status: ContentStatus;
  version: number;
  reason: string | null;
  actor: string | null;
  at: Date;
}

export async function listTransitions(tx: Tx, contentId: string): Promise<TransitionRow[]> {
  return await tx<TransitionRow[]>`
    select action, from_status, to_status, version, reason, actor, at from public.content_transitions
    where content_id = ${contentId} order by id`;
}

/**
 * The Gemini calls of one request, with their tokens, and the caller's usage (service role).
 * Committed without waiting for the WAL flush (synchronous_commit off, this transaction only):
 * an accounting row may be lost if Postgres itself crashes in the next fraction of a second,
 * which is worth the flush wait it takes off every generation's path. Content is never written
 * this way.
 */
export async function recordCalls(input: {
  workspaceId: string;
  userId: string;
  contentId: string | null;
  requestId: string;
  kind: ContentKind;
  model: string;
  promptVersion: string;
  calls: StoredDocuments;
}): Promise<void> {
  if (input.calls.length === 0) return;
  await asService(
    (tx) => tx`
    select set_config('synchronous_commit', 'off', true),
      private.record_generation_calls(${input.workspaceId}, ${input.userId}, ${input.contentId}, ${input.requestId},
        ${input.kind}, ${input.model}, ${input.promptVersion}, ${asJson(input.calls)})`,
  );
}

/**
 * What the prompt quoted besides the top videos, written as the service role in the transaction
 * that saves the content (asUserThenService): the review decision and the lineage of an upload
 * copy it from here.
 */
export async function recordInputs(
  tx: Tx,
  input: {
    contentId: string;
    workspaceId: string;
    requestId: string;
    inputs: StoredInputs;
  },
): Promise<void> {
  await tx`
    insert into public.generation_inputs (content_id, workspace_id, request_id, patterns, totals, own_outcomes)
    values (${input.contentId}, ${input.workspaceId}, ${input.requestId}, ${asJson(input.inputs.patterns)},
      ${input.inputs.totals === null ? null : asJson(input.inputs.totals)}, ${asJson(input.inputs.own_outcomes)})
    on conflict (content_id) do nothing`;
}

/** The calls recorded for content whose save failed made nothing after all (service role). */
export async function unlinkCalls(contentId: string): Promise<void> {
  await asService((tx) => tx`select private.unlink_generation_calls(${contentId})`);
}

/** Content as every API answer shows it. */
export function presentContent(r: ContentRow) {
  return {
    id: r.id,
    workspace_id: r.workspace_id,
    kind: r.kind,
    status: r.status,
    current_version: r.current_version,
    approved_version: r.approved_version,
    output: r.output,
    brief: r.brief,
    source_videos: r.source_videos,
    prompt_version: r.prompt_version,
    model: r.model,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    rejection_reason: r.rejection_reason,
    created_by: r.created_by,
    created_at: r.created_at,
    submitted_by: r.submitted_by,
    submitted_at: r.submitted_at,
    reviewed_by: r.reviewed_by,
    reviewed_at: r.reviewed_at,
    updated_at: r.updated_at,
  };
}
