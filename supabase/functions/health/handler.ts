// Public health check: the database, YouTube, Gemini and RevID, each with status, response time,
// last check and error; overall healthy / degraded / unhealthy. 200 while the database answers
// (degraded when an external service is down: the product still works in part), 503 when it does
// not, so load balancers and the smoke test can act on the status code alone.
import { createHandler } from '../_shared/platform/handler.ts';
import { json, Router } from '../_shared/platform/http.ts';
import { healthReport } from './report.ts';

export const router = new Router('health').on('GET', '/', async () => {
  const report = await healthReport();
  return json(report, report.status === 'unhealthy' ? 503 : 200);
});

// Monitors poll this without limit; the probe lease already keeps the external services safe.
export default createHandler(router, { rateLimit: false });
