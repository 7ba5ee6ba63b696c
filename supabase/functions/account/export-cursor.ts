// The cursor of a workspace export part, as the client sends it back: base64url (unpadded) of
// {"p": part number, "t": table, "k": primary key to resume after, or null}, written by the
// database. It is validated here for shape only; the database checks that the table is one of a
// workspace's and that the key fits it, and every row it reads is filtered by the workspace in
// the URL, so a forged cursor cannot reach another tenant's data.
import { z } from 'zod';

export const PartCursorPayload = z.strictObject({
  p: z.number().int().min(2).max(10_000_000),
  t: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must name a table'),
  k: z
    .array(z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
    .min(1)
    .max(8)
    .nullable(),
});

export type PartCursor = z.infer<typeof PartCursorPayload>;

function decodeBase64Url(text: string): unknown {
  const base64 = text.replaceAll('-', '+').replaceAll('_', '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

export const PartCursorText = z
  .string()
  .max(4096, 'must be at most 4096 characters')
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor from a previous part')
  .transform((text, ctx) => {
    try {
      return decodeBase64Url(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a cursor from a previous part' });
      return z.NEVER;
    }
  })
  .pipe(PartCursorPayload);
