// The workspaces of the signed-in user and the one currently shown. Every page that shows
// tenant data reads `workspaces.current`.
import { toApiError, type ApiError } from '$lib/api-error.ts';
import { createWorkspace, listWorkspaces, renameWorkspace, type Workspace } from '$lib/tenancy.ts';
import { pickWorkspace, readStoredWorkspace, storeWorkspace } from '$lib/workspace-selection.ts';
import { session, withSession } from './session.svelte.ts';

function browserStorage() {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

class Workspaces {
  list = $state<Workspace[]>([]);
  status = $state<'idle' | 'loading' | 'ready' | 'error'>('idle');
  error = $state<ApiError | null>(null);
  selectedId = $state<string | null>(null);
  current = $derived(this.list.find((w) => w.id === this.selectedId) ?? null);

  #userId: string | null = null;

  /** Loads the list for the signed-in user; `prefer` selects a workspace just created or joined. */
  async load(prefer?: string | null): Promise<void> {
    const userId = session.user?.id ?? null;
    if (!userId) return;
    if (userId !== this.#userId) this.reset();
    this.#userId = userId;
    if (this.list.length === 0) this.status = 'loading';
    try {
      const list = await withSession(() => listWorkspaces(session.client));
      this.list = list;
      const chosen = pickWorkspace(list, prefer ?? this.selectedId ?? readStoredWorkspace(browserStorage(), userId));
      this.selectedId = chosen?.id ?? null;
      if (chosen) storeWorkspace(browserStorage(), userId, chosen.id);
      this.error = null;
      this.status = 'ready';
    } catch (err) {
      this.error = toApiError(err);
      this.status = 'error';
    }
  }

  select(id: string) {
    if (!this.list.some((w) => w.id === id)) return;
    this.selectedId = id;
    if (this.#userId) storeWorkspace(browserStorage(), this.#userId, id);
  }

  async create(name: string): Promise<Workspace> {
    const created = await withSession(() => createWorkspace(session.client, name));
    await this.load(created.id);
    return created;
  }

  async rename(id: string, name: string): Promise<void> {
    await withSession(() => renameWorkspace(session.client, id, name));
    this.list = this.list.map((w) => (w.id === id ? { ...w, name } : w));
  }

  /** After leaving a workspace: drop it and fall back to another one. */
  async forget(id: string): Promise<void> {
    if (this.selectedId === id) this.selectedId = null;
    await this.load();
  }

  reset() {
    this.list = [];
    this.status = 'idle';
    this.error = null;
    this.selectedId = null;
    this.#userId = null;
  }
}

export const workspaces = new Workspaces();
