// Which fake services the server runs. One module per external service, each in its own folder.
import type { FakeService } from './core/service.ts';
import { echoService } from './echo/index.ts';
import { geminiService } from './gemini/index.ts';
import { resendService } from './resend/index.ts';
import { revidService } from './revid/index.ts';
import { youtubeService } from './youtube/index.ts';

export function defaultServices(): FakeService[] {
  return [echoService(), youtubeService(), geminiService(), revidService(), resendService()];
}
