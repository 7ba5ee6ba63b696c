// Two users signed up through the auth emulator cannot reach each other's workspaces through any
// function. The walk is checked against the routers' own route lists, so a route added later
// without an entry here fails this test instead of going unchecked.
import { assertEquals, assertOk } from './assert.ts';
import { router as account } from '../../supabase/functions/account/handler.ts';
import { router as invitations } from '../../supabase/functions/invitations/handler.ts';
import { router as members } from '../../supabase/functions/members/handler.ts';
import { router as workspaces } from '../../supabase/functions/workspaces/handler.ts';
import { addMember, createWorkspace, personalWorkspace, signUp, type TestUser } from './helpers/users.ts';

const ROUTERS = { workspaces, members, invitations, account };

interface Tenant {
  user: TestUser;
  helper: TestUser; // an editor in the team workspace
  team: string;
  personal: string;
  invitationId: string;
  invitationToken: string;
}

async function tenant(label: string): Promise<Tenant> {
  const user = await signUp(`iso-${label}`);
  const helper = await signUp(`iso-${label}-helper`);
  const team = await createWorkspace(user, `${label} team`);
  await addMember(user, team, helper, 'editor');
  const invited = await user.call('invitations', {
    method: 'POST',
    body: { workspace_id: team, email: `iso-${label}-guest-${crypto.randomUUID().slice(0, 8)}@example.com`, role: 'owner' },
  });
  assertEquals(invited.status, 201);
  return {
    user,
    helper,
    team,
    personal: await personalWorkspace(user),
    invitationId: invited.body.invitation.id,
    invitationToken: new URL(invited.body.accept_url).searchParams.get('token') ?? '',
  };
}

/** What a victim's data looks like from the victim's side; must not change during an attack. */
async function snapshot(t: Tenant) {
  const ws = (await t.user.call('workspaces')).body.workspaces;
  const mem = (await t.user.call(`members?workspace_id=${t.team}`)).body.members;
  const inv = (await t.user.call(`invitations?workspace_id=${t.team}`)).body.invitations;
  const profile = (await t.user.call('account')).body.profile;
  return {
    workspaces: ws.map((w: { id: string; name: string; role: string }) => [w.id, w.name, w.role]),
    members: mem.map((m: { user_id: string; role: string }) => [m.user_id, m.role]),
    invitations: inv.map((i: { id: string; status: string }) => [i.id, i.status]),
    profile: [profile.display_name, profile.timezone, profile.locale],
  };
}

type Probe = (attacker: Tenant, victim: Tenant) => Promise<void>;

const expect404 = async (attacker: TestUser, path: string, init: { method: string; body?: unknown }) => {
  const res = await attacker.call(path, init);
  assertEquals(res.status, 404, `${init.method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
};

const victimIds = (v: Tenant) => [v.team, v.personal];

// One entry per route of every tenancy function: "<function> <METHOD> <declared path>".
const PROBES: Record<string, Probe> = {
  'workspaces GET /': async (a, v) => {
    const ids = (await a.user.call('workspaces')).body.workspaces.map((w: { id: string }) => w.id);
    for (const id of victimIds(v)) assertEquals(ids.includes(id), false);
  },
  'workspaces POST /': async (a, v) => {
    const created = await a.user.call('workspaces', { method: 'POST', body: { name: 'attacker made' } });
    assertEquals(created.status, 201);
    assertEquals(victimIds(v).includes(created.body.workspace.id), false);
    const victims = (await v.user.call('workspaces')).body.workspaces.map((w: { id: string }) => w.id);
    assertEquals(victims.includes(created.body.workspace.id), false);
  },
  'workspaces GET /:id': async (a, v) => {
    for (const id of victimIds(v)) await expect404(a.user, `workspaces/${id}`, { method: 'GET' });
  },
  'workspaces PATCH /:id': async (a, v) => {
    for (const id of victimIds(v)) await expect404(a.user, `workspaces/${id}`, { method: 'PATCH', body: { name: 'taken over' } });
  },
  'workspaces DELETE /:id': async (a, v) => {
    for (const id of victimIds(v)) await expect404(a.user, `workspaces/${id}`, { method: 'DELETE' });
  },
  'members GET /': async (a, v) => {
    for (const id of victimIds(v)) await expect404(a.user, `members?workspace_id=${id}`, { method: 'GET' });
  },
  'members PATCH /:workspace_id/:user_id': async (a, v) => {
    for (const id of victimIds(v)) {
      for (const target of [v.user.id, v.helper.id, a.user.id]) {
        await expect404(a.user, `members/${id}/${target}`, { method: 'PATCH', body: { role: 'owner' } });
      }
    }
  },
  'members DELETE /:workspace_id/:user_id': async (a, v) => {
    for (const id of victimIds(v)) {
      for (const target of [v.user.id, v.helper.id, a.user.id]) {
        await expect404(a.user, `members/${id}/${target}`, { method: 'DELETE' });
      }
    }
  },
  'members POST /:workspace_id/leave': async (a, v) => {
    for (const id of victimIds(v)) await expect404(a.user, `members/${id}/leave`, { method: 'POST' });
  },
  'invitations POST /': async (a, v) => {
    for (const id of victimIds(v)) {
      await expect404(a.user, 'invitations', { method: 'POST', body: { workspace_id: id, email: a.user.email, role: 'owner' } });
    }
  },
  'invitations GET /': async (a, v) => {
    for (const id of victimIds(v)) await expect404(a.user, `invitations?workspace_id=${id}`, { method: 'GET' });
  },
  'invitations DELETE /:id': async (a, v) => {
    await expect404(a.user, `invitations/${v.invitationId}`, { method: 'DELETE' });
  },
  'invitations POST /accept': async (a, v) => {
    // Even a leaked link does not let someone else in: the invitation is for another address.
    const res = await a.user.call('invitations/accept', { method: 'POST', body: { token: v.invitationToken } });
    assertEquals(res.status, 403);
    await expect404(a.user, `workspaces/${v.team}`, { method: 'GET' });
  },
  'account GET /': async (a, v) => {
    const profile = (await a.user.call('account')).body.profile;
    assertEquals(profile.id, a.user.id);
    assertEquals(profile.email === v.user.email, false);
  },
  'account PATCH /': async (a) => {
    const res = await a.user.call('account', { method: 'PATCH', body: { display_name: 'changed by attacker', timezone: 'Europe/Paris' } });
    assertEquals(res.status, 200);
    assertEquals(res.body.profile.id, a.user.id);
  },
  'account GET /export': async (a, v) => {
    const res = await a.user.call('account/export');
    assertEquals(res.status, 200);
    const text = JSON.stringify(res.body);
    for (const foreign of [v.team, v.personal, v.user.id, v.user.email, v.helper.id, v.invitationId]) {
      assertEquals(text.includes(foreign), false, `export of ${a.user.email} contains ${foreign}`);
    }
  },
  'account GET /export/workspaces/:id': async (a, v) => {
    for (const id of [v.team, v.personal]) {
      const res = await a.user.call(`account/export/workspaces/${id}`);
      assertEquals(res.status, 404, `part of ${id}`);
    }
    const own = await a.user.call(`account/export/workspaces/${a.team}`);
    assertEquals(own.status, 200);
    const text = JSON.stringify(own.body);
    for (const foreign of [v.team, v.personal, v.user.id, v.user.email, v.invitationId]) {
      assertEquals(text.includes(foreign), false, `part of ${a.team} contains ${foreign}`);
    }
  },
  'account DELETE /': async (a, v) => {
    // The attacker's own erasure: it must not take any of the victim's data along. Their team
    // goes to its editor first (sole owners of shared workspaces cannot leave).
    const handover = await a.user.call(`members/${a.team}/${a.helper.id}`, { method: 'PATCH', body: { role: 'owner' } });
    assertEquals(handover.status, 200);
    const res = await a.user.call('account', { method: 'DELETE', body: { confirm: 'DELETE' } });
    assertEquals(res.status, 200);
    const deleted = res.body.workspaces_deleted.map((w: { id: string }) => w.id);
    for (const id of victimIds(v)) assertEquals(deleted.includes(id), false);
  },
};

Deno.test('the isolation walk has a probe for every route of every tenancy function', () => {
  const declared = Object.entries(ROUTERS)
    .flatMap(([name, router]) => router.list().map((r) => `${name} ${r.method} ${r.path}`))
    .sort();
  assertEquals(Object.keys(PROBES).sort(), declared);
});

Deno.test('two users cannot reach each other’s workspaces through any function route', async () => {
  const alice = await tenant('alice');
  const bob = await tenant('bob');
  const before = { alice: await snapshot(alice), bob: await snapshot(bob) };

  // Both directions; each side's own erasure comes last, so it runs once, by bob, at the end.
  for (const [attacker, victim] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    for (const [route, probe] of Object.entries(PROBES)) {
      if (route === 'account DELETE /' && attacker === alice) continue;
      try {
        await probe(attacker, victim);
      } catch (err) {
        throw new Error(`${attacker.user.email} → ${route}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  const after = await snapshot(alice);
  // Alice changed only her own profile (the PATCH probe); everything of hers others could touch is as it was.
  assertEquals(
    after.workspaces.filter((w: string[]) => w[1] !== 'attacker made'),
    before.alice.workspaces,
  );
  assertEquals(after.members, before.alice.members);
  assertEquals(after.invitations, before.alice.invitations);
  assertOk(before.bob.workspaces.length === 2);
  // Bob's team outlived him, owned by his helper; none of it moved to alice.
  const bobsTeam = await bob.helper.call(`workspaces/${bob.team}`);
  assertEquals(bobsTeam.body.workspace.role, 'owner');
});
