// Which workspace the app shows: the one the user picked last (kept per user in localStorage), as
// long as they still belong to it; otherwise their personal workspace; otherwise the first.

export interface SelectableWorkspace {
  id: string;
  personal: boolean;
}

export function storageKey(userId: string): string {
  return `cce.workspace.${userId}`;
}

export function pickWorkspace<W extends SelectableWorkspace>(workspaces: readonly W[], storedId: string | null | undefined): W | null {
  return (storedId ? workspaces.find((w) => w.id === storedId) : undefined) ?? workspaces.find((w) => w.personal) ?? workspaces[0] ?? null;
}

/** The minimal Storage surface used, so private-mode browsers (which throw) degrade to "not remembered". */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function readStoredWorkspace(store: KeyValueStore | null | undefined, userId: string): string | null {
  try {
    return store?.getItem(storageKey(userId)) ?? null;
  } catch {
    return null;
  }
}

export function storeWorkspace(store: KeyValueStore | null | undefined, userId: string, workspaceId: string): void {
  try {
    store?.setItem(storageKey(userId), workspaceId);
  } catch {
    // Storage full or disabled: the choice lasts for this page only.
  }
}
