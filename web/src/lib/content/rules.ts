// What the Studio offers a member for one content item: the same rules the content function
// enforces, checked here only to hide what the server would refuse.
import { roleAtLeast, type Role } from '../roles.ts';

export interface ContentActions {
  edit: boolean;
  submit: boolean;
  approve: boolean;
  reject: boolean;
}

/** The same rules the content function enforces: editors and owners edit and review. */
export function contentActions(status: string, role: Role): ContentActions {
  const editor = roleAtLeast(role, 'editor');
  return {
    edit: editor,
    submit: editor && (status === 'draft' || status === 'rejected'),
    approve: editor && status === 'in_review',
    reject: editor && status === 'in_review',
  };
}

export function canGenerate(role: Role): boolean {
  return roleAtLeast(role, 'editor');
}

/** A rejection needs a reason of 3 to 1000 characters (the function's rule); null when fine. */
export function rejectReasonProblem(reason: string): string | null {
  const t = reason.trim();
  if (t.length < 3) return 'Give a reason of at least 3 characters.';
  if (t.length > 1000) return 'Keep the reason under 1000 characters.';
  return null;
}
