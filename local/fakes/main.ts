// `node --import tsx local/fakes/main.ts`: the fakes as a stack process, on LOCAL_FAKES_PORT,
// over HTTPS with the certificate and key named by LOCAL_FAKES_TLS_CERT / LOCAL_FAKES_TLS_KEY
// (PEM files; the stack makes them, see local/stack/tls.ts). The services they stand in for
// speak HTTPS only, and so does this process.
import { readFileSync } from 'node:fs';
import { createFakesServer } from './server.ts';

const port = Number(process.env.LOCAL_FAKES_PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('fakes: LOCAL_FAKES_PORT must be set to a port number');
  process.exit(2);
}
const certFile = process.env.LOCAL_FAKES_TLS_CERT;
const keyFile = process.env.LOCAL_FAKES_TLS_KEY;
if (!certFile || !keyFile) {
  console.error('fakes: LOCAL_FAKES_TLS_CERT and LOCAL_FAKES_TLS_KEY must name the PEM certificate and key to serve');
  process.exit(2);
}

const fakes = await createFakesServer({
  port,
  host: process.env.LOCAL_FAKES_HOST ?? '127.0.0.1',
  tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) },
});
console.log(`fakes listening on ${fakes.url} (control API at ${fakes.url}/_control)`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await fakes.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
