// The pg_net worker process of the local stack: sends what net.http_post / http_get / http_delete
// queue, as pg_net's background worker does on hosted Supabase.
import { z } from 'zod';
import { PG_NET_CHANNEL, startPgNetWorker } from './worker.ts';

const envSchema = z.object({
  SUPABASE_DB_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
});

const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  // The issues name the variable, never its value (the URL carries a password).
  console.error(`pg_net worker: bad environment: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  process.exit(1);
}

const dbUrl = new URL(parsed.data.SUPABASE_DB_URL);
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const worker = await startPgNetWorker({ dbUrl: parsed.data.SUPABASE_DB_URL, log });
log(`pg_net worker started: ${dbUrl.host}${dbUrl.pathname}, channel ${PG_NET_CHANNEL}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    // A second signal means "now": requests in flight are abandoned.
    if (stopping) process.exit(1);
    stopping = true;
    log(`pg_net worker: ${signal}, finishing requests in flight`);
    worker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`pg_net worker: stop failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  });
}
