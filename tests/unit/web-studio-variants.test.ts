// The Studio's title picks (web/src/routes/(app)/studio/variants.ts): a pick sets the title and
// records its position on that item only; an edit records a changed title as the variant it now
// equals or as the person's own, and leaves an unchanged title's record alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choiceLabel, pickVariant, recordedChoice, titleVariants, withEditedChoice } from '../../web/src/routes/(app)/studio/variants.ts';

const variants = ['Alpha', 'Beta', 'Gamma'];
const item = { title: 'Alpha', reason: 'r', title_variants: variants };

test('a pick sets the title and its position on the one item', () => {
  const other = { title: 'Other', reason: 'o' };
  const out = pickVariant({ items: [item, other] }, 0, 2);
  assert.deepEqual(out.items[0], { ...item, title: 'Gamma', title_choice: 2 });
  assert.equal(out.items[1], other);
  assert.deepEqual(pickVariant({ items: [item] }, 0, 3).items[0], item, 'a position past the variants changes nothing');
});

test("an edit records a changed title as a variant or as the person's own", () => {
  assert.deepEqual(withEditedChoice(item, { ...item, title: 'Beta' }), { ...item, title: 'Beta', title_choice: 1 });
  assert.deepEqual(withEditedChoice(item, { ...item, title: 'Mine' }), { ...item, title: 'Mine', title_choice: 'edited' });
  const picked = { ...item, title: 'Gamma', title_choice: 2 };
  assert.deepEqual(
    withEditedChoice(picked, { ...picked, reason: 'new reason' }),
    { ...picked, reason: 'new reason' },
    'unchanged title keeps its record',
  );
  assert.deepEqual(withEditedChoice(item, { ...item, reason: 'x' }), { ...item, reason: 'x' }, 'nothing picked stays unpicked');
  const plain = { title: 'A', reason: 'r' };
  assert.deepEqual(withEditedChoice(plain, { ...plain, title: 'B' }), { ...plain, title: 'B' }, 'no variants, no record');
});

test('what the page reads and says about a pick', () => {
  assert.deepEqual(titleVariants(item), variants);
  assert.equal(titleVariants({ title: 'A', title_variants: ['only one'] }), null);
  assert.equal(recordedChoice({ ...item, title_choice: 1 }), 1);
  assert.equal(recordedChoice({ ...item, title_choice: 'other' }), null);
  assert.equal(choiceLabel({ ...item, title_choice: 1 }), 'Picked option 2');
  assert.equal(choiceLabel({ ...item, title_choice: 'edited' }), 'Your own title, none of the options');
  assert.match(choiceLabel(item), /^Not picked yet/);
});
