// Reading value lists and upper bounds out of check constraints as pg_get_constraintdef prints
// them, e.g. `CHECK ((privacy = ANY (ARRAY['public'::text, 'unlisted'::text])))` and
// `CHECK ((char_length(title) <= 100))`.

/** The values of the one `column = ANY (ARRAY[...])` check on the column. */
export function checkValues(defs: string[], column: string): string[] {
  const pattern = new RegExp(`^CHECK \\(\\(${column} = ANY \\(ARRAY\\[(.*)\\]\\)\\)\\)$`);
  const lists = defs.map((d) => pattern.exec(d)?.[1]).filter((l): l is string => l !== undefined);
  if (lists.length !== 1) throw new Error(`expected one value-list check on ${column}, found ${lists.length}`);
  return [...lists[0].matchAll(/'((?:[^']|'')*)'::text/g)].map((m) => m[1].replaceAll("''", "'"));
}

/** The bound of the one `<expression> <= N` among the checks. */
export function checkLimit(defs: string[], expression: string): number {
  const escaped = expression.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const bounds = defs.flatMap((d) => [...d.matchAll(new RegExp(`\\(${escaped} <= (\\d+)\\)`, 'g'))].map((m) => Number(m[1])));
  if (bounds.length !== 1) throw new Error(`expected one upper bound on ${expression}, found ${bounds.length}`);
  return bounds[0];
}
