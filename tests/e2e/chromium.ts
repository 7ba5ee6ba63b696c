// How the browser tests start Chromium: Debian's binary, headless and quiet, trusting one
// certificate beyond the public roots: the stack's fakes' (LOCAL_FAKES_TLS_CERT), which serve the
// fake Google consent page over HTTPS. Pinning that certificate's public key lets Chromium accept
// it and nothing else, where --ignore-certificate-errors would accept any certificate at all.
import { spkiSha256 } from '../../local/stack/tls.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export function chromiumArgs(): string[] {
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  const fakesCert = process.env.LOCAL_FAKES_TLS_CERT;
  if (fakesCert) args.push(`--ignore-certificate-errors-spki-list=${spkiSha256(fakesCert)}`);
  return args;
}
