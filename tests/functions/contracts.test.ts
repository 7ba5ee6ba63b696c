// The functions check generated content (Gemini's answers and every edit) against the contract's
// limits: each kind's text fields are exactly the contract's, with its maximum lengths.
import { assertEquals } from './assert.ts';
import { KINDS } from '../../supabase/functions/_shared/domain/content-kinds.ts';
import { CONTENT_KINDS, CONTENT_TEXT_LIMITS } from '../../supabase/functions/_shared/contracts/content.ts';

Deno.test("every text field of every kind has the contract's limit", () => {
  for (const kind of CONTENT_KINDS) {
    const text = Object.entries(KINDS[kind].fields).filter(([, f]) => f.type === 'text');
    assertEquals(Object.fromEntries(text.map(([name, f]) => [name, f.max])), CONTENT_TEXT_LIMITS[kind], kind);
  }
});
