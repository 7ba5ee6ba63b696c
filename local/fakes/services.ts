// Which fake services the server runs. One module per external service; the upload, Gemini and
// RevID fakes land in their own folders and are added here.
import type { FakeService } from './core/service.ts';
import { echoService } from './echo/index.ts';
import { youtubeService } from './youtube/index.ts';

/** A prefix whose service is not faked yet: faults on it get the right error shape, routes 404. */
function reservedService(name: string, prefix: string, style: 'gemini' | 'revid', label: string): FakeService {
  return { name, mounts: [{ prefix, style, label }], register() {}, reset() {} };
}

export function defaultServices(): FakeService[] {
  return [
    echoService(),
    youtubeService(),
    reservedService('gemini', '/gemini', 'gemini', 'Gemini API'),
    reservedService('revid', '/revid', 'revid', 'RevID API'),
  ];
}
