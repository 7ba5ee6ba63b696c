// What `generateContent` / `streamGenerateContent` / `countTokens` accept, validated like the real
// API: unknown fields are rejected (the famous `Unknown name "additionalProperties"` error when a
// JSON Schema generator's output is sent as responseSchema), enums are checked, and a response
// schema must be the OpenAPI subset Gemini understands. Proto JSON accepts snake_case and
// camelCase field names alike; so does the fake.
import { z } from 'zod';

export const SCHEMA_TYPES = ['OBJECT', 'ARRAY', 'STRING', 'INTEGER', 'NUMBER', 'BOOLEAN'] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

export interface ResponseSchema {
  type: SchemaType;
  format?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  enum?: string[];
  properties?: Record<string, ResponseSchema>;
  required?: string[];
  propertyOrdering?: string[];
  items?: ResponseSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  anyOf?: ResponseSchema[];
}

// int64 fields may arrive as JSON strings (proto JSON), numbers otherwise.
const int64 = z.union([z.number().int().min(0), z.string().regex(/^\d+$/).transform(Number)]);

// The SDK sends lower-case types ("object"); the REST reference writes them upper-case.
const schemaType = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(SCHEMA_TYPES));

export const ResponseSchemaZ: z.ZodType<ResponseSchema> = z.lazy(() =>
  z
    .object({
      type: schemaType,
      format: z.string().optional(),
      title: z.string().optional(),
      description: z.string().optional(),
      nullable: z.boolean().optional(),
      enum: z.array(z.string()).optional(),
      properties: z.record(z.string(), ResponseSchemaZ).optional(),
      required: z.array(z.string()).optional(),
      propertyOrdering: z.array(z.string()).optional(),
      items: ResponseSchemaZ.optional(),
      minItems: int64.optional(),
      maxItems: int64.optional(),
      minLength: int64.optional(),
      maxLength: int64.optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
      minProperties: int64.optional(),
      maxProperties: int64.optional(),
      pattern: z.string().optional(),
      example: z.unknown().optional(),
      default: z.unknown().optional(),
      anyOf: z.array(ResponseSchemaZ).optional(),
    })
    .strict(),
) as z.ZodType<ResponseSchema>;

const Part = z
  .object({
    text: z.string().optional(),
    inlineData: z
      .object({ mimeType: z.string().min(1), data: z.string() })
      .strict()
      .optional(),
    fileData: z
      .object({ mimeType: z.string().optional(), fileUri: z.string().min(1) })
      .strict()
      .optional(),
    thought: z.boolean().optional(),
  })
  .strict();

const Content = z.object({ role: z.string().optional(), parts: z.array(Part) }).strict();

export const HARM_CATEGORIES = [
  'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_HATE_SPEECH',
  'HARM_CATEGORY_SEXUALLY_EXPLICIT',
  'HARM_CATEGORY_DANGEROUS_CONTENT',
  'HARM_CATEGORY_CIVIC_INTEGRITY',
] as const;
const THRESHOLDS = [
  'HARM_BLOCK_THRESHOLD_UNSPECIFIED',
  'BLOCK_LOW_AND_ABOVE',
  'BLOCK_MEDIUM_AND_ABOVE',
  'BLOCK_ONLY_HIGH',
  'BLOCK_NONE',
  'OFF',
] as const;

const SafetySetting = z
  .object({ category: z.enum(HARM_CATEGORIES), threshold: z.enum(THRESHOLDS), method: z.string().optional() })
  .strict();

const RESPONSE_MIME_TYPES = ['text/plain', 'application/json', 'text/x.enum'];

const GenerationConfig = z
  .object({
    stopSequences: z.array(z.string()).max(5).optional(),
    responseMimeType: z.string().optional(),
    responseSchema: ResponseSchemaZ.optional(),
    responseModalities: z.array(z.string()).optional(),
    candidateCount: z.number().int().min(1).max(8).optional(),
    maxOutputTokens: z.number().int().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().min(0).max(1).optional(),
    topK: z.number().int().min(1).optional(),
    seed: z.number().int().optional(),
    presencePenalty: z.number().optional(),
    frequencyPenalty: z.number().optional(),
    responseLogprobs: z.boolean().optional(),
    logprobs: z.number().int().optional(),
    thinkingConfig: z.object({ thinkingBudget: z.number().int().optional(), includeThoughts: z.boolean().optional() }).strict().optional(),
  })
  .strict();

export const GenerateContentRequest = z
  .object({
    model: z.string().optional(),
    contents: z.array(Content),
    systemInstruction: Content.optional(),
    generationConfig: GenerationConfig.optional(),
    safetySettings: z.array(SafetySetting).optional(),
    tools: z.array(z.unknown()).optional(),
    toolConfig: z.unknown().optional(),
    cachedContent: z.string().optional(),
  })
  .strict();

export type GenerateRequest = z.infer<typeof GenerateContentRequest>;
export type ContentZ = z.infer<typeof Content>;

// countTokens takes either `contents` or a whole `generateContentRequest`.
export const CountTokensRequest = z
  .object({ contents: z.array(Content).optional(), generateContentRequest: GenerateContentRequest.optional() })
  .strict();

/** snake_case keys to camelCase, except the user-named keys of a schema's `properties`. */
export function camelize(value: unknown, userKeys = false): unknown {
  if (Array.isArray(value)) return value.map((v) => camelize(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = userKeys ? k : k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    out[key] = camelize(v, !userKeys && key === 'properties');
  }
  return out;
}

/** A zod path as the API names fields: `generation_config.response_schema.properties[title]`. */
function protoPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  let inProperties = false;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (inProperties) out += `[${String(seg)}]`;
    else out += (out ? '.' : '') + String(seg).replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
    inProperties = !inProperties && seg === 'properties';
  }
  return out;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; status?: number };

/** Validates with zod and words the first problem the way the real API does. */
export function parseRequest<T>(schema: z.ZodType<T>, raw: unknown, requestName: string): Parsed<T> {
  const parsed = schema.safeParse(camelize(raw));
  if (parsed.success) return { ok: true, value: parsed.data };
  // The API reports a field it does not know before anything else about the request.
  const issues = parsed.error.issues;
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const at = protoPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return {
      ok: false,
      message: `Invalid JSON payload received. Unknown name "${String(issue.keys[0])}"${at ? ` at '${at}'` : ''}: Cannot find field.`,
    };
  }
  if (issue.code === 'invalid_value' || issue.code === 'invalid_union') {
    return { ok: false, message: `Invalid value at '${at}', ${JSON.stringify(valueAt(raw, issue.path))}` };
  }
  if (issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined) {
    return { ok: false, message: `* ${requestName}.${at}: required field is not specified` };
  }
  return { ok: false, message: `* ${requestName}.${at}: ${issue.message}` };
}

function valueAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = camelize(raw);
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg as string];
  }
  return v;
}

/** Rules beyond the shape: the ones the API checks with its own messages. */
export function checkSemantics(req: GenerateRequest): string | undefined {
  if (req.contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified';
  for (const [i, c] of req.contents.entries()) {
    if (c.role !== undefined && c.role !== '' && c.role !== 'user' && c.role !== 'model') return 'Please use a valid role: user, model.';
    if (c.parts.length === 0) return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
    for (const [j, p] of c.parts.entries()) {
      if (p.text === undefined && !p.inlineData && !p.fileData) {
        return `* GenerateContentRequest.contents[${i}].parts[${j}].data: required oneof field 'data' must have one initialized field`;
      }
    }
  }
  const cfg = req.generationConfig;
  if (cfg?.responseMimeType !== undefined && !RESPONSE_MIME_TYPES.includes(cfg.responseMimeType)) {
    return `* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are ${RESPONSE_MIME_TYPES.map((m) => `\`${m}\``).join(', ')}.`;
  }
  if (cfg?.responseSchema) {
    if (cfg.responseMimeType !== 'application/json' && cfg.responseMimeType !== 'text/x.enum') {
      return '* GenerateContentRequest.generation_config.response_schema: only allowed when response_mime_type is `application/json` or `text/x.enum`.';
    }
    const problem = checkSchema(cfg.responseSchema, 'generation_config.response_schema');
    if (problem) return `* GenerateContentRequest.${problem}`;
    if (cfg.responseMimeType === 'text/x.enum' && !(cfg.responseSchema.type === 'STRING' && cfg.responseSchema.enum?.length)) {
      return '* GenerateContentRequest.generation_config.response_schema: text/x.enum needs a STRING schema with an enum.';
    }
  }
  return undefined;
}

function checkSchema(s: ResponseSchema, at: string): string | undefined {
  if (s.type === 'OBJECT') {
    const props = s.properties ?? {};
    if (Object.keys(props).length === 0 && !s.anyOf) return `${at}.properties: should be non-empty for OBJECT type`;
    for (const name of s.required ?? []) if (!(name in props)) return `${at}.required[${name}]: property is not defined`;
    for (const name of s.propertyOrdering ?? []) if (!(name in props)) return `${at}.property_ordering[${name}]: property is not defined`;
    for (const [name, sub] of Object.entries(props)) {
      const problem = checkSchema(sub, `${at}.properties[${name}]`);
      if (problem) return problem;
    }
  } else if (s.properties) {
    return `${at}.properties: only allowed for OBJECT type`;
  }
  if (s.type === 'ARRAY') {
    if (!s.items) return `${at}.items: missing field.`;
    if (s.minItems !== undefined && s.maxItems !== undefined && s.minItems > s.maxItems)
      return `${at}.min_items: must not be greater than max_items`;
    const problem = checkSchema(s.items, `${at}.items`);
    if (problem) return problem;
  } else if (s.items) {
    return `${at}.items: only allowed for ARRAY type`;
  }
  if (s.enum && s.type !== 'STRING') return `${at}.enum: only allowed for STRING type`;
  if (s.enum && s.enum.length === 0) return `${at}.enum: must not be empty`;
  for (const [i, sub] of (s.anyOf ?? []).entries()) {
    const problem = checkSchema(sub, `${at}.any_of[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}

/** All text a turn list carries, for token counts and for what the fake "reads". */
export function textOf(contents: ContentZ[]): string {
  return contents.flatMap((c) => c.parts.map((p) => p.text ?? '')).join('\n');
}

/** Images and files count as a fixed number of tokens each (Gemini bills an image as 258). */
export function mediaPartsOf(contents: ContentZ[]): number {
  return contents.reduce((n, c) => n + c.parts.filter((p) => p.inlineData || p.fileData).length, 0);
}
