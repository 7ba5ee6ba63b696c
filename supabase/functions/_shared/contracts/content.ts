// Generated content as the database and every client name it: its kinds and review statuses
// (public.content_kind and public.content_status) and the most characters each text field of a
// kind may hold. The functions check Gemini's answers and every edit against these limits, the
// web app's editor shows them; tests compare both sides with this file and the enums with SQL.

export const CONTENT_KINDS = ['idea', 'title', 'script', 'description', 'tags', 'thumbnail_prompt'] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

export const CONTENT_STATUSES = ['draft', 'in_review', 'approved', 'rejected'] as const;
export type ContentStatus = (typeof CONTENT_STATUSES)[number];

/** The most characters of each text field, per kind (YouTube's limits where it has one). */
export const CONTENT_TEXT_LIMITS = {
  idea: { title: 100, hook: 500, summary: 1_500, why_it_fits: 800 },
  title: { title: 100, reason: 800 },
  script: { title: 100, hook: 600, script: 30_000, call_to_action: 400 },
  description: { description: 5_000 },
  tags: { rationale: 800 },
  thumbnail_prompt: { prompt: 1_500, text_overlay: 60, rationale: 800 },
} as const satisfies Record<ContentKind, Record<string, number>>;
