// Starts (creating if needed) the cluster of a profile and brings its schema up to date, without
// starting the rest of the stack. Handy for working on SQL: `npm run db:up`.
import { profile } from '../profile.ts';
import { initCluster, startCluster } from '../stack/cluster.ts';
import { applyPlatformSql, runMigrations, seedOnce } from '../stack/db-setup.ts';

const p = profile();
const created = initCluster(p);
startCluster(p);
await applyPlatformSql(p);
console.log(runMigrations(p));
if (process.argv.includes('--seed')) await seedOnce(p);
console.log(`${created ? 'created' : 'started'} ${p.name} database: ${p.dbUrl}`);
