// Human review of generated content through the content function: edits make new versions (old
// ones kept and listable), submit / approve / reject with a reason follow the state machine,
// every action is recorded with who and when; viewers read but cannot edit or review (403), and
// another workspace's content is a 404.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { addMember, createWorkspace, failedPaths, personalWorkspace, signUp } from './helpers/users.ts';
import { generate, resetFakes } from './helpers/content.ts';

Deno.test('review: edit -> versions, submit, reject with reason, resubmit, approve; transitions with who and when', async () => {
  await resetFakes();
  const owner = await signUp('review-owner');
  const editor = await signUp('review-editor');
  const team = await createWorkspace(owner, 'Review team');
  await addMember(owner, team, editor, 'editor');
  const made = await generate(editor, { workspace_id: team, kind: 'title', topic: 'cold brew at home', count: 2 });
  assertEquals(made.status, 201, JSON.stringify(made.body));
  const id = made.body.content.id;
  const original = made.body.content.output;

  // approve before submit: not allowed in draft
  const early = await owner.call(`content/${id}/approve`, { method: 'POST' });
  assertEquals(early.status, 409, JSON.stringify(early.body));
  assertEquals(early.body.error.code, 'invalid_transition');

  const edited = { items: [{ title: 'Cold Brew in 5 Minutes', reason: 'short how-to titles led the channel' }] };
  const e1 = await editor.call(`content/${id}/versions`, { method: 'POST', body: { output: edited, note: 'tightened' } });
  assertEquals(e1.status, 201, JSON.stringify(e1.body));
  assertEquals(e1.body.content.current_version, 2);
  assertEquals(e1.body.content.output, edited);
  assertEquals(e1.body.version.version, 2);
  assertEquals(e1.body.version.note, 'tightened');
  assertEquals(e1.body.version.created_by, editor.id);

  const badEdit = await editor.call(`content/${id}/versions`, { method: 'POST', body: { output: { items: [{ title: 'x<y>' }] } } });
  assertEquals(badEdit.status, 400, JSON.stringify(badEdit.body));
  assertEquals(failedPaths(badEdit), ['items.0.reason', 'items.0.title']);

  const submitted = await editor.call(`content/${id}/submit`, { method: 'POST' });
  assertEquals(submitted.status, 200);
  assertEquals(submitted.body.content.status, 'in_review');
  assertEquals(submitted.body.content.submitted_by, editor.id);

  const noReason = await owner.call(`content/${id}/reject`, { method: 'POST', body: {} });
  assertEquals(noReason.status, 400);
  assertEquals(failedPaths(noReason), ['reason']);
  const rejected = await owner.call(`content/${id}/reject`, { method: 'POST', body: { reason: 'Too generic for our audience' } });
  assertEquals(rejected.status, 200, JSON.stringify(rejected.body));
  assertEquals(rejected.body.content.status, 'rejected');
  assertEquals(rejected.body.content.rejection_reason, 'Too generic for our audience');
  assertEquals(rejected.body.content.reviewed_by, owner.id);

  const resubmitted = await editor.call(`content/${id}/submit`, { method: 'POST' });
  assertEquals(resubmitted.body.content.status, 'in_review');
  const approved = await owner.call(`content/${id}/approve`, { method: 'POST' });
  assertEquals(approved.status, 200);
  assertEquals(approved.body.content.status, 'approved');
  assertEquals(approved.body.content.approved_version, 2);
  assertEquals(approved.body.content.rejection_reason, null);

  // an approval never covers an edit: editing approved content makes a new draft
  const e2 = await editor.call(`content/${id}/versions`, { method: 'POST', body: { output: original } });
  assertEquals(e2.body.content.status, 'draft');
  assertEquals(e2.body.content.approved_version, null);
  assertEquals(e2.body.content.current_version, 3);

  const versions = await owner.call(`content/${id}/versions`);
  assertEquals(versions.status, 200);
  assertEquals(
    versions.body.versions.map((v: { version: number }) => v.version),
    [3, 2, 1],
  );
  assertEquals(versions.body.versions[2].output, original);
  assertEquals(versions.body.versions[1].output, edited);

  const got = await owner.call(`content/${id}`);
  assertEquals(got.status, 200);
  const t = got.body.transitions;
  assertEquals(
    t.map((x: { action: string; from_status: string | null; to_status: string; version: number }) => [
      x.action,
      x.from_status,
      x.to_status,
      x.version,
    ]),
    [
      ['create', null, 'draft', 1],
      ['edit', 'draft', 'draft', 2],
      ['submit', 'draft', 'in_review', 2],
      ['reject', 'in_review', 'rejected', 2],
      ['submit', 'rejected', 'in_review', 2],
      ['approve', 'in_review', 'approved', 2],
      ['edit', 'approved', 'draft', 3],
    ],
  );
  assertEquals(
    t.map((x: { actor: string }) => x.actor),
    [editor.id, editor.id, editor.id, owner.id, editor.id, owner.id, editor.id],
  );
  assertEquals(t[3].reason, 'Too generic for our audience');
  for (let i = 1; i < t.length; i++) assertOk(new Date(t[i].at) >= new Date(t[i - 1].at), 'in time order');

  const listed = await owner.call(`content?workspace_id=${team}&status=draft&kind=title`);
  assertEquals(
    listed.body.content.map((c: { id: string }) => c.id),
    [id],
  );
  const none = await owner.call(`content?workspace_id=${team}&status=approved`);
  assertEquals(none.body.content, []);
});

Deno.test("review: viewers read but cannot edit or review (403); another workspace's content is 404", async () => {
  await resetFakes();
  const owner = await signUp('review-roles-owner');
  const viewer = await signUp('review-roles-viewer');
  const stranger = await signUp('review-roles-stranger');
  const team = await createWorkspace(owner, 'Review roles');
  await addMember(owner, team, viewer, 'viewer');
  const made = await generate(owner, { workspace_id: team, kind: 'idea', topic: 'cold brew at home', count: 2 });
  const id = made.body.content.id;
  const submitted = await owner.call(`content/${id}/submit`, { method: 'POST' });
  assertEquals(submitted.status, 200);

  assertEquals((await viewer.call(`content/${id}`)).status, 200);
  assertEquals((await viewer.call(`content/${id}/versions`)).status, 200);
  assertEquals((await viewer.call(`content?workspace_id=${team}`)).body.content.length, 1);
  const output = made.body.content.output;
  for (const [path, body] of [
    [`content/${id}/versions`, { output }],
    [`content/${id}/submit`, undefined],
    [`content/${id}/approve`, undefined],
    [`content/${id}/reject`, { reason: 'not for us' }],
  ] as const) {
    const r = await viewer.call(path, { method: 'POST', body });
    assertEquals(r.status, 403, `${path}: ${JSON.stringify(r.body)}`);
    assertMatch(r.body.error.message, /your role here is viewer/);
  }

  const strangerWs = await personalWorkspace(stranger);
  for (const path of [`content/${id}`, `content/${id}/versions`]) {
    const r = await stranger.call(path);
    assertEquals(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
    assertEquals(r.body.error.message, 'content not found');
  }
  for (const [path, body] of [
    [`content/${id}/versions`, { output }],
    [`content/${id}/submit`, undefined],
    [`content/${id}/approve`, undefined],
    [`content/${id}/reject`, { reason: 'not for us' }],
  ] as const) {
    const r = await stranger.call(path, { method: 'POST', body });
    assertEquals(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
  }
  assertEquals((await stranger.call(`content?workspace_id=${team}`)).status, 404);
  assertEquals((await stranger.call(`content?workspace_id=${strangerWs}`)).body.content, []);

  // Nothing changed.
  const after = await owner.call(`content/${id}`);
  assertEquals(after.body.content.status, 'in_review');
  assertEquals(after.body.content.current_version, 1);
  assertEquals(after.body.transitions.length, 2);
});
