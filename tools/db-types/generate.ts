// The database's row types, generated from the live schema by kysely-codegen (it reads the
// catalogue over a plain connection, so it needs no Docker, unlike `supabase gen types`):
// every table and enum of the schemas our code reads (public, private, ops), checked in as
// supabase/functions/_shared/database.types.ts. `npm test` regenerates them against the test
// database and fails when the checked-in file differs (tests/unit/database-types.test.ts).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from '../../local/profile.ts';

export const TYPES_FILE = resolve(ROOT, 'supabase/functions/_shared/database.types.ts');
export const SCHEMAS = ['public', 'private', 'ops'] as const;

/** kysely-codegen's arguments; `verify` compares with the file instead of writing it. */
export function codegenArgs(dbUrl: string, outFile: string, verify: boolean): string[] {
  return [
    '--dialect',
    'postgres',
    '--url',
    dbUrl,
    '--default-schema',
    'public',
    '--include-pattern',
    `{${SCHEMAS.join(',')}}.*`,
    // As postgres.js (the functions' driver) returns them, in Deno and Node alike: an interval as
    // its text (not pg's object), bytea as a Uint8Array (Node's Buffer is one).
    '--type-mapping',
    JSON.stringify({ interval: 'string', bytea: 'Uint8Array' }),
    '--log-level',
    'error',
    '--out-file',
    outFile,
    ...(verify ? ['--verify'] : []),
  ];
}

/** Runs the generator; with `verify`, throws (with its output) when the file is out of date. */
export function runCodegen(dbUrl: string, outFile = TYPES_FILE, verify = false): string {
  return execFileSync(resolve(ROOT, 'node_modules/.bin/kysely-codegen'), codegenArgs(dbUrl, outFile, verify), {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
