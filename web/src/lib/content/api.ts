// The content function as the Studio calls it: list / get / versions / edit / submit / approve /
// reject, each answer checked against the row shapes below.
import * as z from 'zod/mini';
import { callFunction, segment, type FunctionsInvoker } from '../api.ts';
import type { ContentKind, ContentStatus } from './kinds.ts';

const Item = z.record(z.string(), z.unknown());
export const Output = z.object({ items: z.array(Item) });

export const Content = z.object({
  id: z.string(),
  workspace_id: z.string(),
  kind: z.string(),
  status: z.string(),
  current_version: z.number(),
  approved_version: z.nullable(z.number()),
  output: Output,
  brief: z.record(z.string(), z.unknown()),
  model: z.nullable(z.string()),
  rejection_reason: z.nullable(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Content = z.infer<typeof Content>;

export const Transition = z.object({
  action: z.string(),
  from_status: z.nullable(z.string()),
  to_status: z.string(),
  version: z.number(),
  reason: z.nullable(z.string()),
  actor: z.nullable(z.string()),
  at: z.string(),
});
export type Transition = z.infer<typeof Transition>;

export const Version = z.object({
  version: z.number(),
  output: Output,
  note: z.nullable(z.string()),
  created_by: z.nullable(z.string()),
  created_at: z.string(),
});
export type Version = z.infer<typeof Version>;

export async function listContent(
  client: FunctionsInvoker,
  workspaceId: string,
  opts: { status?: ContentStatus; kind?: ContentKind } = {},
) {
  const r = await callFunction(client, 'content', {
    query: { workspace_id: workspaceId, status: opts.status, kind: opts.kind, limit: '50' },
    schema: z.object({ content: z.array(Content) }),
  });
  return r.content;
}

export async function getContent(client: FunctionsInvoker, id: string) {
  return await callFunction(client, `content/${segment(id)}`, { schema: z.object({ content: Content, transitions: z.array(Transition) }) });
}

export async function listVersions(client: FunctionsInvoker, id: string) {
  const r = await callFunction(client, `content/${segment(id)}/versions`, { schema: z.object({ versions: z.array(Version) }) });
  return r.versions;
}

export async function saveVersion(client: FunctionsInvoker, id: string, output: { items: Record<string, unknown>[] }, note?: string) {
  return await callFunction(client, `content/${segment(id)}/versions`, {
    method: 'POST',
    body: { output, ...(note ? { note } : {}) },
    schema: z.object({ content: Content, version: Version }),
  });
}

export type ReviewAction = 'submit' | 'approve' | 'reject';

export async function review(client: FunctionsInvoker, id: string, action: ReviewAction, reason?: string) {
  const r = await callFunction(client, `content/${segment(id)}/${action}`, {
    method: 'POST',
    body: action === 'reject' ? { reason: reason ?? '' } : {},
    schema: z.object({ content: Content }),
  });
  return r.content;
}
