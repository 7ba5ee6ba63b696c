// The web app's content editor limits each text field to what the contract allows, for every kind
// (the functions check the same limits against supabase/functions/_shared/contracts/content.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_KINDS as WEB_KINDS, KIND_FIELDS } from '../../web/src/lib/content/kinds.ts';
import { CONTENT_KINDS, CONTENT_TEXT_LIMITS } from '../../supabase/functions/_shared/contracts/content.ts';
import { ROLES as WEB_ROLES } from '../../web/src/lib/roles.ts';
import { ROLES } from '../../supabase/functions/_shared/contracts/roles.ts';

test("the web app uses the contract's kinds and roles", () => {
  assert.equal(WEB_KINDS, CONTENT_KINDS);
  assert.equal(WEB_ROLES, ROLES);
});

test("every text field of every kind has the contract's limit in the editor", () => {
  for (const kind of CONTENT_KINDS) {
    const limits: Record<string, number> = CONTENT_TEXT_LIMITS[kind];
    const textFields = KIND_FIELDS[kind].filter((f) => f.type === 'text' || f.type === 'long_text');
    assert.deepEqual(
      Object.fromEntries(textFields.map((f) => [f.name, f.max])),
      limits,
      `${kind}: the editor's text fields and limits differ from the contract`,
    );
  }
});
