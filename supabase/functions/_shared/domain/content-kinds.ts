// What each kind of content looks like: one field list per kind, from which both the response
// schema sent to Gemini and the zod schema that checks its answer (and every later edit) are
// made, so the two can never drift apart. Every output is `{ items: [...] }` with as many items as
// were asked for; limits follow YouTube's (title ≤ 100 characters, description ≤ 5,000, tags
// ≤ 500 characters in total).
import { SchemaType, type Schema } from '@google/generative-ai';
import { z } from 'zod';
import { CONTENT_KINDS } from '../contracts/content.ts';

export { CONTENT_KINDS };
export const ContentKind = z.enum(CONTENT_KINDS);
export type ContentKind = z.infer<typeof ContentKind>;

export type ContentOutput = { items: Record<string, unknown>[] };

type Field =
  | { type: 'text'; max: number; describe: string }
  | { type: 'seconds'; min: number; max: number; describe: string }
  | { type: 'list'; min: number; max: number; itemMax: number; totalMax?: number; describe: string };

interface KindSpec {
  /** How the prompt names n items of this kind ("5 video titles"). */
  noun: string;
  fields: Record<string, Field>;
}

const text = (max: number, describe: string): Field => ({ type: 'text', max, describe });

export const KINDS: Record<ContentKind, KindSpec> = {
  idea: {
    noun: 'video ideas',
    fields: {
      title: text(100, 'Working title, at most 100 characters'),
      hook: text(500, 'The first sentence viewers hear or read'),
      summary: text(1500, 'What the video covers, in two or three sentences'),
      why_it_fits: text(800, "Which of the channel's top videos or patterns this idea builds on, and how"),
    },
  },
  title: {
    noun: 'video titles',
    fields: {
      title: text(100, 'The title, at most 100 characters, without < or >'),
      reason: text(800, 'Why this title should perform, with reference to what worked on the channel'),
    },
  },
  script: {
    noun: 'video scripts',
    fields: {
      title: text(100, 'Title of the video, at most 100 characters'),
      hook: text(600, 'The opening lines, meant to stop the scroll in the first seconds'),
      script: text(30_000, 'The full narration, in paragraphs, ready to be read aloud'),
      call_to_action: text(400, 'The closing call to action'),
      estimated_duration_seconds: { type: 'seconds', min: 5, max: 3_600, describe: 'Estimated spoken length in seconds' },
    },
  },
  description: {
    noun: 'video descriptions',
    fields: {
      description: text(5_000, 'The YouTube description, at most 5,000 characters'),
      hashtags: { type: 'list', min: 0, max: 15, itemMax: 100, describe: 'Hashtags, each starting with #' },
    },
  },
  tags: {
    noun: 'tag sets',
    fields: {
      tags: { type: 'list', min: 1, max: 30, itemMax: 100, totalMax: 500, describe: 'YouTube tags, 500 characters in total at most' },
      rationale: text(800, "Why these tags, with reference to the channel's audience"),
    },
  },
  thumbnail_prompt: {
    noun: 'thumbnail image prompts',
    fields: {
      prompt: text(1_500, 'A prompt for an image generator describing the thumbnail'),
      text_overlay: text(60, 'The few words printed on the thumbnail'),
      rationale: text(800, 'Why this thumbnail should earn the click'),
    },
  },
};

// The Gemini API's Schema has maxLength and propertyOrdering, which the SDK's types (0.24.1)
// do not declare yet; the object is sent as is.
type WireSchema = Schema & { maxLength?: number; propertyOrdering?: string[] };

function fieldSchema(f: Field): WireSchema {
  switch (f.type) {
    case 'text':
      return { type: SchemaType.STRING, description: f.describe, maxLength: f.max };
    case 'seconds':
      return { type: SchemaType.INTEGER, description: f.describe } as WireSchema;
    case 'list':
      return {
        type: SchemaType.ARRAY,
        description: f.describe,
        items: { type: SchemaType.STRING, maxLength: f.itemMax } as WireSchema,
        minItems: f.min,
        maxItems: f.max,
      };
  }
}

/** How many titles each suggestion with a title offers to choose from (one answer, one call). */
export const TITLE_VARIANTS = 3;

/** Kinds whose items have a title, and so title variants to pick from. */
export function hasTitleVariants(kind: ContentKind): boolean {
  return 'title' in KINDS[kind].fields;
}

const titleVariantsSchema: WireSchema = {
  type: SchemaType.ARRAY,
  description: `${TITLE_VARIANTS} different titles for this same video, each from another angle, the first being the title above; a person picks one`,
  items: { type: SchemaType.STRING, maxLength: 100 } as WireSchema,
  minItems: TITLE_VARIANTS,
  maxItems: TITLE_VARIANTS,
};

/** The response schema for `count` items of a kind (exactly that many are asked for). */
export function responseSchema(kind: ContentKind, count: number): Schema {
  const fields = KINDS[kind].fields;
  const names = Object.keys(fields);
  const properties: Record<string, WireSchema> = Object.fromEntries(names.map((n) => [n, fieldSchema(fields[n])]));
  const ordered = [...names];
  if (hasTitleVariants(kind)) {
    properties.title_variants = titleVariantsSchema;
    ordered.splice(names.indexOf('title') + 1, 0, 'title_variants');
  }
  const item: WireSchema = {
    type: SchemaType.OBJECT,
    properties,
    required: ordered,
    propertyOrdering: ordered,
  };
  return {
    type: SchemaType.OBJECT,
    properties: { items: { type: SchemaType.ARRAY, items: item, minItems: count, maxItems: count } },
    required: ['items'],
  };
}

function fieldZod(name: string, f: Field): z.ZodType {
  switch (f.type) {
    case 'text': {
      let s = z.string().trim().min(1, 'must not be empty').max(f.max, `must be at most ${f.max} characters`);
      if (name === 'title') s = s.regex(/^[^<>]*$/, 'must not contain < or >');
      return s;
    }
    case 'seconds':
      return z.number().int().min(f.min).max(f.max);
    case 'list': {
      const list = z.array(z.string().trim().min(1).max(f.itemMax)).min(f.min).max(f.max);
      const total = f.totalMax;
      return total === undefined
        ? list
        : list.refine((items) => items.join(',').length <= total, `must be at most ${total} characters in total`);
    }
  }
}

const VariantTitle = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[^<>]*$/, 'must not contain < or >');

/**
 * The pick must agree with the title (the database checks the same, migration title_variants):
 * a position names the variant the title equals, "edited" a title that is none of them.
 */
function checkTitleChoice(item: { title?: unknown; title_variants?: string[]; title_choice?: number | 'edited' }, ctx: z.RefinementCtx) {
  const { title, title_variants: variants, title_choice: choice } = item;
  if (choice === undefined) return;
  if (!variants) {
    ctx.addIssue({ code: 'custom', path: ['title_choice'], message: 'needs title_variants' });
  } else if (choice === 'edited') {
    if (variants.includes(title as string))
      ctx.addIssue({ code: 'custom', path: ['title_choice'], message: 'is "edited" but the title is one of the variants' });
  } else if (choice >= variants.length) {
    ctx.addIssue({ code: 'custom', path: ['title_choice'], message: `must be a position from 0 to ${variants.length - 1} or "edited"` });
  } else if (variants[choice] !== title) {
    ctx.addIssue({ code: 'custom', path: ['title_choice'], message: 'names a variant the title does not equal' });
  }
}

function itemZod(kind: ContentKind): z.ZodType<Record<string, unknown>> {
  const fields = KINDS[kind].fields;
  const shape = Object.fromEntries(Object.entries(fields).map(([n, f]) => [n, fieldZod(n, f)]));
  if (!hasTitleVariants(kind)) return z.strictObject(shape);
  return z
    .strictObject({
      ...shape,
      title_variants: z.array(VariantTitle).min(2, 'must hold 2 to 5 entries').max(5, 'must hold 2 to 5 entries').optional(),
      title_choice: z.union([z.number().int().min(0), z.literal('edited')]).optional(),
    })
    .superRefine(checkTitleChoice);
}

/**
 * A model answer's variants as stored: the item's own title first, then the others it offered,
 * without repeats (ignoring case), at most TITLE_VARIANTS; fewer than two leave none to pick from.
 * Nothing is picked yet: the title is the model's first choice until a person picks.
 */
export function normalizeTitleVariants(item: Record<string, unknown>): Record<string, unknown> {
  const { title_variants: offered, title_choice: _ignored, ...rest } = item;
  if (typeof rest.title !== 'string' || !Array.isArray(offered)) return rest;
  const seen = new Set<string>();
  const variants: string[] = [];
  for (const t of [rest.title, ...offered] as string[]) {
    const key = t.trim().toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    variants.push(t);
  }
  return variants.length >= 2 ? { ...rest, title_variants: variants.slice(0, TITLE_VARIANTS) } : rest;
}

type OutputSchema = z.ZodType<ContentOutput>;

const outputSchemas = Object.fromEntries(
  CONTENT_KINDS.map((k) => [
    k,
    z.strictObject({ items: z.array(itemZod(k)).min(1, 'must hold at least one item').max(20) }) as OutputSchema,
  ]),
) as Record<ContentKind, OutputSchema>;

/** The zod schema of a kind's output: what a model answer and every edit must satisfy. */
export function outputSchema(kind: ContentKind) {
  return outputSchemas[kind];
}

/** A model answer checked against the kind, or why it is not acceptable. */
export function parseModelOutput(
  kind: ContentKind,
  count: number,
  raw: string,
): { ok: true; output: ContentOutput } | { ok: false; problem: string } {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, problem: 'the answer is not valid JSON' };
  }
  const parsed = outputSchema(kind).safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`);
    return { ok: false, problem: `the answer does not match the schema (${first.join('; ')})` };
  }
  if (parsed.data.items.length > count) {
    return { ok: false, problem: `the answer holds ${parsed.data.items.length} items, ${count} were asked for` };
  }
  return { ok: true, output: { items: parsed.data.items.map(normalizeTitleVariants) } };
}
