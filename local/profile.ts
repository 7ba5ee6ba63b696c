// One place that names every port, path and URL of a local stack. A "profile" is a whole
// isolated stack: `dev` is what `npm start` runs, `test` is what `npm test` runs, and tests that
// restart a stack use their own profile so they never touch the other two.
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const PORT_BASES: Record<string, number> = { dev: 54321, test: 55321, restart: 56321 };

export interface Profile {
  name: string;
  dataRoot: string; // everything this stack writes: cluster, keys, logs, pids
  pgData: string;
  envFile: string;
  ports: { gateway: number; postgres: number; web: number; mail: number; smtp: number; functions: number; auth: number; fakes: number };
  /** The fakes are the only HTTPS service: they stand in for Google, Gemini and RevID. */
  urls: { gateway: string; auth: string; functions: string; fakes: string; web: string; mail: string };
  dbUrl: string;
}

export function profile(name = process.env.CCE_PROFILE ?? 'dev'): Profile {
  const base = PORT_BASES[name] ?? Number(process.env.CCE_PORT_BASE ?? NaN);
  if (!Number.isInteger(base)) throw new Error(`unknown profile "${name}" (set CCE_PORT_BASE for a custom one)`);
  const dataRoot = resolve(ROOT, '.local', name);
  const ports = {
    gateway: base,
    postgres: base + 1,
    web: base + 2,
    // The mail catcher: web inbox + JSON API, and SMTP (Supabase's local inbucket: 54324, 54325).
    mail: base + 3,
    smtp: base + 4,
    functions: base + 10,
    auth: base + 11,
    fakes: base + 12,
  };
  const host = '127.0.0.1';
  return {
    name,
    dataRoot,
    pgData: resolve(dataRoot, 'pgdata'),
    envFile: resolve(dataRoot, 'stack.env'),
    ports,
    urls: {
      gateway: `http://${host}:${ports.gateway}`,
      auth: `http://${host}:${ports.auth}`,
      functions: `http://${host}:${ports.functions}`,
      fakes: `https://${host}:${ports.fakes}`,
      web: `http://${host}:${ports.web}`,
      mail: `http://${host}:${ports.mail}`,
    },
    // Local superuser, as in `supabase start`; never a real credential.
    dbUrl: `postgresql://postgres:postgres@${host}:${ports.postgres}/postgres`,
  };
}
