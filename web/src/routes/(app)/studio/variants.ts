// Title variants of a suggestion (generate-content offers several titles per item) and the pick a
// person makes in the Studio. The pick is stored in the item as `title_choice`: the position of
// the variant now in `title`, or "edited" for a title of their own; the API refuses a pick that
// does not agree with the title.
export type TitleChoice = number | 'edited';
type Item = Record<string, unknown>;

export function titleVariants(item: Item): string[] | null {
  const v = item.title_variants;
  return Array.isArray(v) && v.length >= 2 && v.every((t) => typeof t === 'string') ? (v as string[]) : null;
}

export function recordedChoice(item: Item): TitleChoice | null {
  const c = item.title_choice;
  return c === 'edited' || (typeof c === 'number' && Number.isInteger(c)) ? c : null;
}

/** The output with variant `position` of item `index` as its title, recorded as picked. */
export function pickVariant(output: { items: Item[] }, index: number, position: number): { items: Item[] } {
  return {
    items: output.items.map((item, i) => {
      const variants = titleVariants(item);
      if (i !== index || !variants || position < 0 || position >= variants.length) return item;
      return { ...item, title: variants[position], title_choice: position };
    }),
  };
}

/**
 * After an edit: a changed title is recorded as the variant it now equals, or as the person's
 * own ("edited"); an unchanged one keeps whatever was recorded (nothing, when nobody picked yet).
 */
export function withEditedChoice(before: Item, after: Item): Item {
  const variants = titleVariants(after);
  if (!variants || after.title === before.title) return after;
  const position = variants.indexOf(String(after.title));
  return { ...after, title_choice: position >= 0 ? position : 'edited' };
}

export function choiceLabel(item: Item): string {
  const c = recordedChoice(item);
  if (c === 'edited') return 'Your own title, none of the options';
  if (c === null) return 'Not picked yet: option 1 is the model\u2019s first choice';
  return `Picked option ${c + 1}`;
}
