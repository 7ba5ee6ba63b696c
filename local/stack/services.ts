// The processes of a local stack and how to tell that each one answers.
import { resolve } from 'node:path';
import { denoBin } from '../deno.ts';
import { ROOT, type Profile } from '../profile.ts';
import { tlsFiles } from './tls.ts';

export { denoBin };

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  /** URL that answers once the service is ready, or a stdout pattern for port-less workers. */
  readyUrl?: string;
  /** For an https readyUrl: the CA file its certificate must chain to. */
  readyCa?: string;
  readyLine?: RegExp;
}

const tsx = (entry: string) => ({ command: process.execPath, args: ['--import', 'tsx', resolve(ROOT, entry)] });

export function services(p: Profile): ServiceSpec[] {
  return [
    { name: 'fakes', ...tsx('local/fakes/main.ts'), readyUrl: `${p.urls.fakes}/_control/health`, readyCa: tlsFiles(p).caFile },
    { name: 'mail', ...tsx('local/mail/main.ts'), readyUrl: `${p.urls.mail}/health` },
    { name: 'auth', ...tsx('local/auth/main.ts'), readyUrl: `${p.urls.auth}/health` },
    { name: 'functions', ...tsx('local/edge-runtime/main.ts'), readyUrl: `${p.urls.functions}/health` },
    { name: 'gateway', ...tsx('local/gateway/main.ts'), readyUrl: `${p.urls.gateway}/functions/v1/health` },
    { name: 'pgnet', ...tsx('local/pgnet/main.ts'), readyLine: /./ },
    {
      name: 'web',
      command: process.execPath,
      args: [resolve(ROOT, 'web/scripts/serve.mjs')],
      readyUrl: `${p.urls.web}/config.json`,
    },
  ];
}
