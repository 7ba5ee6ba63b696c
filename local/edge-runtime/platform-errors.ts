// The answers hosted Supabase gives when the platform, not the function, ends a request
// (Edge Functions "Status codes" and the 546 troubleshooting page).
import type http from 'node:http';

export interface PlatformError {
  status: number;
  body: { code: string; message: string };
}

const ERRORS = {
  limit: {
    status: 546,
    body: { code: 'WORKER_RESOURCE_LIMIT', message: 'Function failed due to not having enough compute resources (please check logs)' },
  },
  idle: {
    status: 504,
    body: { code: 'IDLE_TIMEOUT', message: 'Function did not respond before the request idle timeout (please check logs)' },
  },
  crash: { status: 500, body: { code: 'WORKER_ERROR', message: 'Function exited due to an error (please check logs)' } },
  boot: { status: 503, body: { code: 'BOOT_ERROR', message: 'Function failed to start (please check logs)' } },
  notFound: { status: 404, body: { code: 'NOT_FOUND', message: 'Requested function was not found' } },
} satisfies Record<string, PlatformError>;

export function platformError(kind: keyof typeof ERRORS): PlatformError {
  return ERRORS[kind];
}

export function sendPlatformError(res: http.ServerResponse, error: PlatformError) {
  res.writeHead(error.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(error.body));
}
