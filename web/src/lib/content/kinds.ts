// Content kinds as the Studio shows them: labels, the fields of one item per kind (what an edit
// must keep) and the conversions between a field's value and the editor's text.
import { CONTENT_KINDS, type ContentKind, type ContentStatus } from '../../../../supabase/functions/_shared/contracts/content.ts';

export { CONTENT_KINDS, type ContentKind, type ContentStatus };
export const GENERATABLE_KINDS = ['idea', 'title', 'script', 'description'] as const satisfies readonly ContentKind[];

export const KIND_LABELS: Record<ContentKind, string> = {
  idea: 'Ideas',
  title: 'Titles',
  script: 'Script',
  description: 'Descriptions',
  tags: 'Tags',
  thumbnail_prompt: 'Thumbnail prompts',
};

export const STATUS_LABELS: Record<ContentStatus, string> = {
  draft: 'Draft',
  in_review: 'In review',
  approved: 'Approved',
  rejected: 'Rejected',
};
export function contentStatusLabel(status: string): string {
  return (STATUS_LABELS as Record<string, string>)[status] ?? status;
}

/** The fields of one item per kind, mirroring the backend's kinds.ts (what an edit must keep). */
export type FieldType = 'text' | 'long_text' | 'seconds' | 'list';
export interface FieldSpec {
  name: string;
  label: string;
  type: FieldType;
  max?: number;
}
const f = (name: string, label: string, type: FieldType, max?: number): FieldSpec => ({ name, label, type, max });
export const KIND_FIELDS: Record<ContentKind, FieldSpec[]> = {
  idea: [
    f('title', 'Title', 'text', 100),
    f('hook', 'Hook', 'long_text', 500),
    f('summary', 'Summary', 'long_text', 1500),
    f('why_it_fits', 'Why it fits', 'long_text', 800),
  ],
  title: [f('title', 'Title', 'text', 100), f('reason', 'Reason', 'long_text', 800)],
  script: [
    f('title', 'Title', 'text', 100),
    f('hook', 'Hook', 'long_text', 600),
    f('script', 'Script', 'long_text', 30_000),
    f('call_to_action', 'Call to action', 'long_text', 400),
    f('estimated_duration_seconds', 'Estimated duration (seconds)', 'seconds'),
  ],
  description: [f('description', 'Description', 'long_text', 5000), f('hashtags', 'Hashtags (comma-separated)', 'list')],
  tags: [f('tags', 'Tags (comma-separated)', 'list'), f('rationale', 'Rationale', 'long_text', 800)],
  thumbnail_prompt: [
    f('prompt', 'Prompt', 'long_text', 1500),
    f('text_overlay', 'Text overlay', 'text', 60),
    f('rationale', 'Rationale', 'long_text', 800),
  ],
};

/** An item's field as the editor shows it (lists as "a, b, c"). */
export function fieldToText(value: unknown, type: FieldType): string {
  if (type === 'list') return Array.isArray(value) ? value.join(', ') : '';
  if (value === null || value === undefined) return '';
  return String(value);
}

/** The editor's text back to the field's value; a problem for a number that is not one. */
export function textToField(text: string, type: FieldType): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (type === 'list')
    return {
      ok: true,
      value: text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    };
  if (type === 'seconds') {
    const n = Number(text.trim());
    if (!Number.isInteger(n) || n < 5 || n > 3600) return { ok: false, problem: 'must be a whole number of seconds between 5 and 3600' };
    return { ok: true, value: n };
  }
  return { ok: true, value: text };
}

/** A one-line summary of an item for lists ("title" or the first text field). */
export function itemHeadline(kind: string, item: Record<string, unknown>): string {
  const fields = KIND_FIELDS[kind as ContentKind] ?? [];
  for (const spec of fields) {
    const v = item[spec.name];
    if (typeof v === 'string' && v.trim()) return v.trim().length > 90 ? `${v.trim().slice(0, 89)}…` : v.trim();
  }
  return '(empty)';
}
