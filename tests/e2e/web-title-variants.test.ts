// Browser test of title variants in the Studio against a running stack (generate-content with the
// Gemini fake, the content function): a generated suggestion shows its title options, the user
// picks the second one, the page and the API show it recorded (the title, title_choice 1, a new
// version with its note) and it survives a reload; an edited title is recorded as the user's own.
// Env: SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, WEB_URL (optional).
// Screenshots go to tests/e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConfirmedUser } from '../unit/helpers/auth-users.ts';
import { APP_PAGE, callFunction, openPage, pageErrors, shot, signInInUi, stackAuth, useWebSuite, type Json } from './web-suite.ts';

useWebSuite();

/** A GET of a function that must answer 200; its JSON body. */
async function call(token: string, path: string): Promise<Json> {
  const { status, body } = await callFunction(token, path);
  assert.equal(status, 200, `${path}: ${JSON.stringify(body)}`);
  return body;
}

test("the Studio shows a suggestion's title options; the pick and an own title are recorded", { timeout: 180_000 }, async () => {
  const suffix = Math.random().toString(36).slice(2, 10);
  const who = { email: `e2e-variants-${suffix}@example.com`, password: `pw-${suffix}-long` };
  const user = await createConfirmedUser(stackAuth(), who.email, who.password, { full_name: 'Variant Picker' });

  const page = await openPage(APP_PAGE);
  await signInInUi(page, who, '/studio');

  await page.getByLabel('What to generate').selectOption('title');
  await page.getByLabel('Topic').fill(`weeknight pasta ${suffix}`);
  await page.getByRole('button', { name: 'Generate' }).click();
  await page
    .getByTestId('generation-progress')
    .getByText(/saved as a draft/)
    .waitFor({ timeout: 60_000 });

  const token = user.accessToken;
  const workspaceId = ((await call(token, 'workspaces')).workspaces as Json[]).find((w) => w.personal)?.id as string;
  const [content] = (await call(token, `content?workspace_id=${workspaceId}`)).content as Json[];
  const variants = content.output.items[0].title_variants as string[];
  // Up to three: the Gemini fake, like a model, sometimes offers the same title twice, and the
  // product keeps each title once (two or more are still a choice).
  assert.ok(Array.isArray(variants) && variants.length >= 2 && variants.length <= 3, JSON.stringify(content.output.items[0]));
  assert.equal(new Set(variants.map((v) => v.trim().toLowerCase())).size, variants.length, 'no title offered twice');

  const options = page.getByTestId('title-variants').first();
  for (const [k, title] of variants.entries()) {
    await options.getByRole('radio', { name: `Option ${k + 1} ${title}` }).waitFor();
  }
  assert.equal(await options.getAttribute('data-choice'), 'none');
  await options.getByText('Not picked yet').waitFor();
  await shot(page, 'variants-offered');

  await options.getByRole('radio', { name: `Option 2 ${variants[1]}` }).check();
  const picked = page.getByTestId('title-variants').first();
  await picked.getByText('Picked option 2').waitFor();
  assert.equal(await picked.getAttribute('data-choice'), '1');
  assert.ok(await picked.getByRole('radio', { name: `Option 2 ${variants[1]}` }).isChecked());
  await page.getByRole('button', { name: 'v2', exact: true }).waitFor();
  await page.getByText('Picked title option 2').waitFor();
  await shot(page, 'variants-picked');

  const versions = (await call(token, `content/${content.id}/versions`)).versions as Json[];
  assert.equal(versions[0].version, 2);
  assert.equal(versions[0].output.items[0].title, variants[1]);
  assert.equal(versions[0].output.items[0].title_choice, 1);
  assert.deepEqual(versions[0].output.items.slice(1), content.output.items.slice(1), 'the other suggestions are untouched');

  // Recorded, not just shown: a fresh page load reads it back.
  await page.reload();
  await page
    .getByRole('button', { name: new RegExp(variants[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) })
    .first()
    .click();
  await page.getByTestId('title-variants').first().getByText('Picked option 2').waitFor();

  await page.getByRole('button', { name: 'Edit' }).click();
  const own = `My own pasta title ${suffix}`;
  await page.locator('#edit-0-title').fill(own);
  await page.getByRole('button', { name: 'Save new version' }).click();
  const edited = page.getByTestId('title-variants').first();
  await edited.getByTestId('title-choice').getByText('Your own title, none of the options').waitFor();
  await page.getByTestId('content-item').first().getByRole('definition').getByText(own, { exact: true }).waitFor();
  assert.equal(await edited.getAttribute('data-choice'), 'edited');
  await shot(page, 'variants-own-title');
  const after3 = (await call(token, `content/${content.id}`)).content as Json;
  assert.equal(after3.current_version, 3);
  assert.equal(after3.output.items[0].title, own);
  assert.equal(after3.output.items[0].title_choice, 'edited');

  await page.context().close();
  assert.deepEqual(pageErrors, []);
});
