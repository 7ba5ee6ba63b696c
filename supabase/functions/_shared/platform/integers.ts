// Integers as callers send them. z.coerce.number() took whatever Number() takes: `true` became 1
// (so a boolean named snapshot 1), `null`, `''` and `[]` 0, '0x10' 16, '1e3' 1000, ' 7 ' 7. A JSON
// body's integer is a JSON number; a query string's is decimal digits; anything else is a 400.
import { z } from 'zod';

const DECIMAL = /^-?\d{1,16}$/;

/** A query parameter holding an integer, checked by `schema` once parsed. */
export function queryInt(schema: z.ZodNumber) {
  return z.string().regex(DECIMAL, 'must be a whole number in decimal digits').transform(Number).pipe(schema);
}

/** A positive integer id in a JSON body (bigint ids fit while below 2^53). */
export const BodyId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
