// Backups of single workspaces (snapshots taken daily by pg_cron, see the 0900 migration): list
// the snapshots that cover a workspace, restore a workspace to one (its owner or a platform
// admin), follow a restore, and take a snapshot on demand (platform admins). Other members get
// 403, callers who cannot see the workspace 404, as everywhere else.
//
// A restore is a job: POST /restore checks the snapshot, records the job and answers 202; the
// database does the work in steps of a few seconds, each one transaction that saves its cursor
// and calls POST /restores/step for the next (20261210000100_stepped_workspace_restore), so no
// request has to outlive the runtime's wall clock however big the workspace is.
import { z } from 'zod';
import { requireAdmin, requireServiceRole, requireUser, type Claims } from '../_shared/platform/auth.ts';
import { asService, asUser } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { rethrowPg } from '../_shared/platform/pg-errors.ts';
import { parseBody, parseParams, parseQuery } from '../_shared/platform/request.ts';
import { requireRole, Uuid } from '../_shared/platform/tenancy.ts';
import { BodyId, queryInt } from '../_shared/platform/integers.ts';

const ListQuery = z.strictObject({ workspace_id: Uuid });
const RestoreBody = z.strictObject({
  workspace_id: Uuid,
  snapshot_id: BodyId,
  confirm: z.literal('RESTORE', { message: 'must be "RESTORE" to confirm that current data is replaced' }),
});
const RestoreParams = z.strictObject({ id: queryInt(BodyId) });
const StepBody = z.strictObject({ restore_id: BodyId });

function isAdmin(claims: Claims): boolean {
  return claims.app_metadata?.role === 'admin';
}

/**
 * Owners of the workspace and platform admins may manage its backups; 404/403 for the rest. The
 * user who asked for the restore holding the workspace may follow and retry it: the memberships
 * that make them its owner are rewritten (or gone) while it runs.
 */
async function requireBackupAccess(claims: Claims, workspaceId: string, action: string): Promise<void> {
  if (isAdmin(claims)) return;
  const [held] = await asService((tx) => tx<{ mine: boolean }[]>`select ops.holds_restore_of(${workspaceId}, ${claims.sub!}) as mine`);
  if (held.mine) return;
  await asUser(claims, (tx) => requireRole(tx, workspaceId, 'owner', action));
}

interface SnapshotRow {
  snapshot_id: string;
  taken_at: Date;
  tables: number;
  row_count: string;
}

interface RestoreStatusRow {
  workspace_id: string;
  requested_by: string | null;
  progress: Record<string, unknown>;
}

const notFound = () => new HttpError(404, 'not_found', 'restore not found');

export const router = new Router('backups')
  .on('GET', '/snapshots', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { workspace_id } = parseQuery(ctx, ListQuery);
    await requireBackupAccess(claims, workspace_id, 'see backups');
    const rows = await asService(
      (tx) => tx<SnapshotRow[]>`
      select snapshot_id, taken_at, tables, row_count from ops.workspace_snapshots(${workspace_id})`,
    );
    return json({
      snapshots: rows.map((r) => ({ ...r, snapshot_id: Number(r.snapshot_id), row_count: Number(r.row_count) })),
    });
  })
  .on('POST', '/snapshots', async ({ req }) => {
    await requireAdmin(req);
    // ops.take_snapshot reads every table at one moment only in a repeatable read transaction (it
    // refuses others).
    const backup = await asService(
      async (tx) => {
        const [row] = await tx<{ id: string }[]>`select ops.take_snapshot('on_demand') as id`;
        const [taken] = await tx<{ id: string; status: string; details: Record<string, unknown> }[]>`
        select id, status, details from ops.backups where id = ${row.id}`;
        return taken;
      },
      { isolation: 'repeatable read' },
    );
    if (backup.status !== 'succeeded') {
      throw new HttpError(500, 'snapshot_failed', 'the snapshot failed; see ops.system_logs (backup_failed)', {
        snapshot_id: Number(backup.id),
      });
    }
    return json({ snapshot_id: Number(backup.id), details: backup.details }, 201);
  })
  .on('POST', '/restore', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const body = await parseBody(ctx, RestoreBody);
    await requireBackupAccess(claims, body.workspace_id, 'restore backups');
    try {
      const [row] = await asService(
        (tx) => tx<{ id: string }[]>`
        select ops.start_restore(${body.snapshot_id}, ${body.workspace_id}, ${claims.sub!}) as id`,
      );
      const id = Number(row.id);
      return json({ restore_id: id, status: 'running', status_url: `/backups/restores/${id}` }, 202);
    } catch (err) {
      rethrowPg(err, { area: 'restore' });
    }
  })
  .on('GET', '/restores/:id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, RestoreParams);
    const [row] = await asService((tx) => tx<RestoreStatusRow[]>`select * from ops.restore_status(${id})`);
    if (!row) throw notFound();
    if (!isAdmin(claims) && row.requested_by !== claims.sub) {
      // the same answers as the workspace's other backup routes: 404 unless the caller can see it
      await requireBackupAccess(claims, row.workspace_id, 'see restores').catch((err) => {
        throw err instanceof HttpError && err.status === 403 ? err : notFound();
      });
    }
    return json({ restore: row.progress });
  })
  .on('POST', '/restores/step', async (ctx) => {
    // service role only: pg_net calls it for the next step (ops.restore_step, ops.recover_restores)
    requireServiceRole(ctx.req);
    const { restore_id } = await parseBody(ctx, StepBody);
    const [row] = await asService((tx) => tx<{ step: Record<string, unknown> }[]>`select ops.restore_step(${restore_id}) as step`);
    return json({ step: row.step });
  });

export default createHandler(router);
