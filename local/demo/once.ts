// Runs the demo loop (loop.ts) in the background of the first `npm start` of a data dir, after
// the stack is up; a marker file keeps later starts from running it again. CCE_DEMO_LOOP=off skips
// it. A failure is printed and leaves no marker, so the next start tries again.
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Profile } from '../profile.ts';
import type { DemoEnv } from './api.ts';
import { runDemoLoop } from './loop.ts';

export function startDemoLoopOnce(p: Profile, env: Record<string, string | undefined>): void {
  const marker = resolve(p.dataRoot, 'demo-loop.done');
  if (process.env.CCE_DEMO_LOOP === 'off' || existsSync(marker)) return;
  console.log('demo loop: generating, reviewing, rendering, uploading and syncing the demo workspace in the background…');
  runDemoLoop(env as unknown as DemoEnv, (line) => console.log(line)).then(
    () => writeFileSync(marker, new Date().toISOString()),
    (err: unknown) => console.error(`demo loop failed (it runs again on the next start): ${(err as Error).message}`),
  );
}
