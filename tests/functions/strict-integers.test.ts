// Integers are taken as sent, never coerced: a JSON body's id must be a JSON number (`true` once
// became snapshot 1) and a query string's integer decimal digits ('0x10', '1e1', ' 5' and ''
// were read as 16, 10, 5 and 0). Each wrong form is a 400 naming the field.
import { assertEquals } from './assert.ts';
import { createWorkspace, failedPaths, signUp } from './helpers/users.ts';

Deno.test('a snapshot id that is not a JSON integer is a 400, whatever Number() would make of it', async () => {
  const owner = await signUp('int-owner');
  const team = await createWorkspace(owner, 'Integer team');
  for (const snapshot_id of [true, false, null, '1', '', [], [1], 1.5, 0, -1]) {
    const answer = await owner.call('backups/restore', { method: 'POST', body: { workspace_id: team, snapshot_id, confirm: 'RESTORE' } });
    assertEquals(answer.status, 400, `snapshot_id ${JSON.stringify(snapshot_id)}: ${JSON.stringify(answer.body)}`);
    assertEquals(failedPaths(answer), ['snapshot_id'], JSON.stringify(snapshot_id));
  }
});

Deno.test('a query-string limit must be decimal digits', async () => {
  const owner = await signUp('int-query');
  const team = await createWorkspace(owner, 'Query team');
  for (const route of ['content', 'render-video']) {
    for (const limit of ['0x10', '1e1', ' 5', '5 ', '', 'true', '+5', '5.0', 'Infinity']) {
      const answer = await owner.call(`${route}?workspace_id=${team}&limit=${encodeURIComponent(limit)}`);
      assertEquals(answer.status, 400, `${route} limit=${JSON.stringify(limit)}: ${JSON.stringify(answer.body)}`);
      assertEquals(failedPaths(answer), ['limit'], `${route} limit=${JSON.stringify(limit)}`);
    }
    assertEquals((await owner.call(`${route}?workspace_id=${team}&limit=5`)).status, 200, `${route} limit=5`);
    assertEquals((await owner.call(`${route}?workspace_id=${team}`)).status, 200, `${route} without a limit`);
  }
});
