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

// Monitors poll this without limit (signed-in users are not limited; anonymous callers per
// address, counted in memory); the probe lease already keeps the external services safe. Their
// calls are counted per minute, not recorded one by one: a poll costs no database write.
export default createHandler(router, { rateLimit: false, countAnonymous: true });
