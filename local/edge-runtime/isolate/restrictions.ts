// What hosted Edge Functions do not offer, taken away here too, so that code relying on it fails
// in tests instead of in production: no Web Workers, and no outbound SMTP on ports 25 and 587
// (mail goes through an HTTP API or port 465). Spawning processes, FFI and node:vm's sandbox
// are withheld by the isolate's permissions and the bundle check.
const REFUSED_PORTS = new Set([25, 587]);

function refusedPort(port: number): string | null {
  return REFUSED_PORTS.has(port)
    ? `outbound connections to port ${port} are refused on Supabase Edge Functions (send mail through an HTTP API or port 465)`
    : null;
}

function portOf(input: RequestInfo | URL): number {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

export function applyRestrictions() {
  const NoWorker = class {
    constructor() {
      throw new TypeError('Web Workers are not available on Supabase Edge Functions');
    }
  };
  Object.defineProperty(globalThis, 'Worker', { value: NoWorker, writable: false, configurable: false });

  const fetch = globalThis.fetch;
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const refusal = refusedPort(portOf(input));
    return refusal ? Promise.reject(new TypeError(`error sending request: ${refusal}`)) : fetch(input, init);
  };
  const connect = Deno.connect;
  const connectTls = Deno.connectTls;
  const refused = (port: number) => {
    const refusal = refusedPort(port);
    return refusal ? Promise.reject(new Deno.errors.ConnectionRefused(refusal)) : null;
  };
  (Deno as { connect: unknown }).connect = (options: Deno.ConnectOptions) => refused(options.port) ?? connect(options);
  (Deno as { connectTls: unknown }).connectTls = (options: Deno.ConnectTlsOptions) => refused(options.port) ?? connectTls(options);
}
