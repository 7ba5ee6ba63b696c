// Public health check: is the database reachable and how fast. Answers 503 when it is not, so
// load balancers and the smoke test can act on the status code alone.
import { createHandler } from '../_shared/handler.ts';
import { json, Router } from '../_shared/http.ts';
import { sql } from '../_shared/db.ts';

const VERSION = Deno.env.get('APP_VERSION') ?? '0.1.0';
const STARTED_AT = Date.now();
const DB_TIMEOUT_MS = 3000;

type Status = 'healthy' | 'degraded' | 'unhealthy';

interface ServiceHealth {
  status: Status;
  response_time: number;
  last_checked: string;
  error?: string;
}

async function checkDatabase(): Promise<ServiceHealth> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      sql()`select 1`,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${DB_TIMEOUT_MS} ms`)), DB_TIMEOUT_MS);
      }),
    ]);
    return { status: 'healthy', response_time: Math.round(performance.now() - started), last_checked: new Date().toISOString() };
  } catch (err) {
    return {
      status: 'unhealthy',
      response_time: Math.round(performance.now() - started),
      last_checked: new Date().toISOString(),
      error: `database unreachable: ${(err as Error).message.replace(/postgres(ql)?:\/\/\S+/g, '<db-url>')}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

const router = new Router('health').on('GET', '/', async () => {
  const database = await checkDatabase();
  const status: Status = database.status;
  const mem = Deno.memoryUsage();
  return json(
    {
      status,
      timestamp: new Date().toISOString(),
      version: VERSION,
      services: { database },
      system: {
        memory_usage: Math.round((mem.heapUsed / 1024 / 1024) * 10) / 10,
        uptime: Math.round((Date.now() - STARTED_AT) / 1000),
      },
    },
    status === 'unhealthy' ? 503 : 200,
  );
});

export default createHandler(router);
