// `npm run db:types [-- --db-url <url>] [--check]`: regenerates supabase/functions/_shared/
// database.types.ts from a database with every migration applied (default: the profile's, see
// `npm run db:up`); `--check` only says whether the checked-in file is up to date (exit 1 if not).
import { parseArgs } from 'node:util';
import { profile } from '../local/profile.ts';
import { runCodegen, TYPES_FILE } from './db-types/generate.ts';

const { values } = parseArgs({ options: { 'db-url': { type: 'string' }, check: { type: 'boolean', default: false } } });
const dbUrl = values['db-url'] ?? process.env.SUPABASE_DB_URL ?? profile().dbUrl;
try {
  runCodegen(dbUrl, TYPES_FILE, values.check);
  console.log(values.check ? `${TYPES_FILE} is up to date` : `wrote ${TYPES_FILE}`);
} catch (err) {
  const e = err as { stdout?: string; stderr?: string; message: string };
  console.error(`${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message);
  process.exit(1);
}
