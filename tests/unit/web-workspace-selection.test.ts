import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pickWorkspace,
  readStoredWorkspace,
  storageKey,
  storeWorkspace,
  type KeyValueStore,
} from '../../web/src/lib/workspace-selection.ts';

const personal = { id: 'p', personal: true };
const team = { id: 't', personal: false };
const other = { id: 'o', personal: false };

test('the stored choice wins while the user still belongs to it', () => {
  assert.equal(pickWorkspace([personal, team], 't'), team);
});

test('a stale or missing choice falls back to the personal workspace, then the first', () => {
  assert.equal(pickWorkspace([team, personal], 'gone'), personal);
  assert.equal(pickWorkspace([team, personal], null), personal);
  assert.equal(pickWorkspace([team, other], undefined), team);
  assert.equal(pickWorkspace([], 't'), null);
});

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

test('the choice is stored per user', () => {
  const store = memoryStore();
  storeWorkspace(store, 'user-a', 't');
  storeWorkspace(store, 'user-b', 'p');
  assert.equal(readStoredWorkspace(store, 'user-a'), 't');
  assert.equal(readStoredWorkspace(store, 'user-b'), 'p');
  assert.equal(readStoredWorkspace(store, 'user-c'), null);
  assert.equal(store.data.get(storageKey('user-a')), 't');
});

test('a storage that throws (private mode, quota) is treated as empty', () => {
  const broken: KeyValueStore = {
    getItem: () => {
      throw new Error('SecurityError');
    },
    setItem: () => {
      throw new Error('QuotaExceededError');
    },
  };
  assert.equal(readStoredWorkspace(broken, 'u'), null);
  assert.doesNotThrow(() => storeWorkspace(broken, 'u', 'w'));
  assert.equal(readStoredWorkspace(null, 'u'), null);
});
