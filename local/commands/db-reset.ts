// `npm run db:reset`: wipes the database of a profile and rebuilds it from platform SQL,
// migrations and the seed. Refuses while the stack runs, so no process keeps stale connections.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { profile } from '../profile.ts';
import { destroyCluster, initCluster, startCluster, stopCluster } from '../stack/cluster.ts';
import { applyPlatformSql, runMigrations, seedOnce } from '../stack/db-setup.ts';
import { alive, readState } from '../stack/lifecycle.ts';

const p = profile();
const state = readState(p);
if (state && alive(state.supervisor)) {
  console.error(`The ${p.name} stack is running (pid ${state.supervisor}); stop it first with: npm run stop`);
  process.exit(1);
}
destroyCluster(p);
rmSync(resolve(p.dataRoot, 'seeded'), { force: true });
initCluster(p);
startCluster(p);
await applyPlatformSql(p);
console.log(runMigrations(p));
await seedOnce(p);
stopCluster(p);
console.log(`Rebuilt the ${p.name} database (platform SQL, migrations, seed). Start the stack with: npm start`);
