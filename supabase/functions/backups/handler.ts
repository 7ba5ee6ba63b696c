// Backups of single workspaces (snapshots taken daily by pg_cron, see the 0900 migration): list
// the snapshots that cover a workspace, restore a workspace to one (its owner or a platform
// admin; the database does the restore in one transaction and verifies it against the snapshot's
// checksums), and take a snapshot on demand (platform admins). Other members get 403, callers who
// cannot see the workspace 404, as everywhere else.
import { z } from 'zod';
import { requireAdmin, requireUser, type Claims } from '../_shared/platform/auth.ts';
import { asService, asUser } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { rethrowPg } from '../_shared/platform/pg-errors.ts';
import { parseBody, parseQuery } from '../_shared/platform/request.ts';
import { requireRole, Uuid } from '../_shared/platform/tenancy.ts';
import { BodyId } from '../_shared/platform/integers.ts';

const ListQuery = z.strictObject({ workspace_id: Uuid });
const RestoreBody = z.strictObject({
  workspace_id: Uuid,
  snapshot_id: BodyId,
  confirm: z.literal('RESTORE', { message: 'must be "RESTORE" to confirm that current data is replaced' }),
});

function isAdmin(claims: Claims): boolean {
  return claims.app_metadata?.role === 'admin';
}

/** Owners of the workspace and platform admins may manage its backups; 404/403 for the rest. */
async function requireBackupAccess(claims: Claims, workspaceId: string, action: string): Promise<void> {
  if (isAdmin(claims)) return;
  await asUser(claims, (tx) => requireRole(tx, workspaceId, 'owner', action));
}

interface SnapshotRow {
  snapshot_id: string;
  taken_at: Date;
  tables: number;
  row_count: string;
}

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
        (tx) => tx<{ result: Record<string, unknown> }[]>`
        select ops.restore_workspace(${body.snapshot_id}, ${body.workspace_id}) as result`,
      );
      return json({ restored: row.result });
    } catch (err) {
      rethrowPg(err, { area: 'restore' });
    }
  });

export default createHandler(router);
