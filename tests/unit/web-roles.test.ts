import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRole, memberActions, roleAtLeast, workspacePermissions, type MemberLike } from '../../web/src/lib/roles.ts';

const owner: MemberLike = { user_id: 'o1', role: 'owner' };
const owner2: MemberLike = { user_id: 'o2', role: 'owner' };
const editor: MemberLike = { user_id: 'e1', role: 'editor' };
const viewer: MemberLike = { user_id: 'v1', role: 'viewer' };

test('role order and names', () => {
  assert.equal(roleAtLeast('owner', 'editor'), true);
  assert.equal(roleAtLeast('editor', 'editor'), true);
  assert.equal(roleAtLeast('viewer', 'editor'), false);
  assert.equal(isRole('editor'), true);
  assert.equal(isRole('admin'), false);
});

test('only owners rename, manage members and invite; editors edit content', () => {
  assert.deepEqual(workspacePermissions('owner'), { rename: true, manageMembers: true, invite: true, editContent: true });
  assert.deepEqual(workspacePermissions('editor'), { rename: false, manageMembers: false, invite: false, editContent: true });
  assert.deepEqual(workspacePermissions('viewer'), { rename: false, manageMembers: false, invite: false, editContent: false });
});

test('an owner manages other members but cannot remove themselves (they leave instead)', () => {
  const members = [owner, editor, viewer];
  const onEditor = memberActions('o1', 'owner', editor, members);
  assert.equal(onEditor.changeRole, true);
  assert.deepEqual(onEditor.roleChoices, ['viewer', 'editor', 'owner']);
  assert.equal(onEditor.remove, true);
  assert.equal(onEditor.leave, false);
});

test('the last owner can neither be demoted, removed nor leave', () => {
  const members = [owner, editor];
  assert.deepEqual(memberActions('o1', 'owner', owner, members), { changeRole: false, roleChoices: [], remove: false, leave: false });
});

test('with a second owner, an owner may step down or leave', () => {
  const members = [owner, owner2, viewer];
  const self = memberActions('o1', 'owner', owner, members);
  assert.equal(self.changeRole, true);
  assert.equal(self.leave, true);
  assert.equal(self.remove, false);
  assert.equal(memberActions('o1', 'owner', owner2, members).remove, true);
});

test('editors and viewers get no controls on others, and may leave themselves', () => {
  const members = [owner, editor, viewer];
  for (const [actor, role] of [
    ['e1', 'editor'],
    ['v1', 'viewer'],
  ] as const) {
    for (const target of members.filter((m) => m.user_id !== actor)) {
      assert.deepEqual(memberActions(actor, role, target, members), { changeRole: false, roleChoices: [], remove: false, leave: false });
    }
    const self = memberActions(
      actor,
      role,
      members.find((m) => m.user_id === actor)!,
      members,
    );
    assert.deepEqual(self, { changeRole: false, roleChoices: [], remove: false, leave: true }, `${role} on self`);
  }
});
