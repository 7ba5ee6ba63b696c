// The demo workspace's whole loop, made once after the first `npm start` through the same
// functions a user and the workers call: content in every review state (generated with the Gemini
// fake), renders (RevID fake, render worker), three scheduled uploads and one published by the
// upload worker (YouTube fake; one upload costs 1,600 of the workspace's 2,500 daily quota units,
// so the others wait for their days), then a sync that brings it back with its analytics, so the
// lineage and outcomes exist. Only time and the audience are simulated: the published video is
// aged 35 days in the YouTube fake and given the audience of the channel's median video (an upload
// has none in the fake), so that its 24-hour, 7-day and 28-day outcomes exist on first run.
import { DemoApi, until, type DemoEnv, type Json } from './api.ts';

export const DEMO_USER = { email: 'demo@example.com', password: 'demo-password' };
const SCRIPTS = [
  { topic: 'a 15-minute weeknight ramen', tone: 'warm and cozy' },
  { topic: 'crispy chickpeas three ways', tone: 'energetic' },
  { topic: 'the perfect soft-boiled egg', tone: 'calm and precise' },
  { topic: 'one-pan lemon pasta', tone: 'warm and cozy' },
];
const AGE_DAYS = 35;

interface Demo {
  api: DemoApi;
  workspaceId: string;
  channelId: string;
  log: (line: string) => void;
}

async function generateAndReview(d: Demo, body: Record<string, unknown>, steps: { action: string; body?: unknown }[]): Promise<Json> {
  const made = await d.api.call('generate-content', { body: { workspace_id: d.workspaceId, channel_id: d.channelId, ...body } });
  for (const s of steps) await d.api.call(`content/${made.content.id}/${s.action}`, { body: s.body ?? {} });
  return made.content;
}

/** Drafts, content in review, a rejection with its reason, approved tags, and four approved scripts. */
async function makeContent(d: Demo): Promise<Json[]> {
  await generateAndReview(d, { kind: 'title', topic: 'weeknight pasta', tone: 'playful', count: 5 }, []);
  await generateAndReview(d, { kind: 'description', topic: 'a pantry-only curry', tone: 'friendly' }, [{ action: 'submit' }]);
  await generateAndReview(d, { kind: 'idea', topic: 'street food at home', tone: 'energetic', count: 3 }, [
    { action: 'submit' },
    { action: 'reject', body: { reason: 'Too close to last week’s ramen video; we need something lighter.' } },
  ]);
  await generateAndReview(d, { kind: 'tags', topic: 'meal prep for the week' }, [{ action: 'submit' }, { action: 'approve' }]);
  const scripts: Json[] = [];
  for (const s of SCRIPTS) {
    scripts.push(
      await generateAndReview(d, { kind: 'script', ...s, target_format: 'short' }, [{ action: 'submit' }, { action: 'approve' }]),
    );
  }
  d.log(`demo loop: content in every state (${scripts.length} approved scripts)`);
  return scripts;
}

/** A render of each script, driven to ready by the render worker. */
async function render(d: Demo, scripts: Json[]): Promise<string[]> {
  const jobs: string[] = [];
  for (const c of scripts) {
    const made = await d.api.call('render-video', { body: { content_id: c.id }, key: `demo-render-${c.id}` });
    jobs.push(made.job.id);
  }
  for (const id of jobs) {
    await until(
      `render ${id}`,
      async () => {
        const { job } = await d.api.call(`render-video/${id}`);
        if (job.status === 'failed' || job.status === 'canceled')
          throw new Error(`demo render ${id} ${job.status}: ${job.last_error ?? ''}`);
        if (job.status === 'ready') return job;
        await d.api.call('render-video/worker', { body: { job_id: id }, service: true });
        return undefined;
      },
      240_000,
      1_500,
    );
  }
  d.log(`demo loop: ${jobs.length} renders ready`);
  return jobs;
}

async function schedule(d: Demo, jobId: string, title: string, key: string, inHours: number): Promise<Json> {
  const { schedule: s } = await d.api.call('schedules', {
    key,
    body: {
      workspace_id: d.workspaceId,
      channel_id: d.channelId,
      video_job_id: jobId,
      title: title.slice(0, 100).replace(/[<>]/g, ''),
      description: 'Made with Content Catalyst.',
      tags: ['recipe', 'quick dinner'],
      category_id: '26',
      publish_at: new Date(Date.now() + inHours * 3_600_000).toISOString(),
      time_zone: 'Europe/Berlin',
      strategy: 'upload_at_time',
    },
  });
  return s;
}

/** Three uploads scheduled for the coming days, one published now by the upload worker. */
async function upload(d: Demo, scripts: Json[], jobs: string[]): Promise<string> {
  for (let i = 1; i < jobs.length; i++) {
    await schedule(d, jobs[i], scripts[i].output.items[0].title, `demo-upload-${jobs[i]}`, 24 * (i + 1));
  }
  const s = await schedule(d, jobs[0], scripts[0].output.items[0].title, `demo-upload-${jobs[0]}`, 2);
  await d.api.call(`schedules/${s.id}/publish-now`, { body: {} });
  const done = await until(
    `upload ${s.id}`,
    async () => {
      const { schedule: row } = await d.api.call(`schedules/${s.id}`);
      if (['failed', 'canceled'].includes(row.status) || (row.waiting_reason && row.waiting_reason !== 'retry')) {
        throw new Error(`demo upload ${s.id} ${row.status} ${row.waiting_reason ?? ''}: ${row.last_error ?? ''}`);
      }
      if (row.status === 'published') return row;
      await d.api.call('schedules/worker', { body: { schedule_id: s.id }, service: true });
      return undefined;
    },
    240_000,
    1_000,
  );
  d.log(`demo loop: ${jobs.length - 1} uploads scheduled, 1 published`);
  return done.youtube.video_id as string;
}

/** A sync (as "Sync now") driven by the sync worker, so the published videos come back with analytics. */
async function sync(d: Demo): Promise<void> {
  const { run } = await d.api.call('youtube-sync', { body: { channel_id: d.channelId } });
  await until(
    'the demo sync',
    async () => {
      const { runs } = await d.api.call(`youtube-sync/runs?channel_id=${d.channelId}`);
      const r = runs.find((x: Json) => x.id === run.id);
      if (r?.status === 'failed') throw new Error(`demo sync failed: ${r.last_error ?? ''}`);
      if (r?.status === 'succeeded') return r;
      await d.api.call('youtube-sync/worker', { body: { run_id: run.id }, service: true });
      return undefined;
    },
    300_000,
    2_000,
  );
}

async function firstSyncDone(d: Demo): Promise<void> {
  await until(
    "the demo channel's first sync",
    async () => {
      const { runs } = await d.api.call(`youtube-sync/runs?channel_id=${d.channelId}`);
      return runs.some((r: Json) => r.status === 'succeeded') ? true : undefined;
    },
    600_000,
    5_000,
  );
}

export async function runDemoLoop(env: DemoEnv, log: (line: string) => void): Promise<void> {
  const api = new DemoApi(env);
  await api.signIn(DEMO_USER.email, DEMO_USER.password);
  const { workspaces } = await api.call('workspaces');
  const workspaceId = workspaces.find((w: Json) => w.personal).id as string;
  const { channels } = await api.call(`channels?workspace_id=${workspaceId}`);
  if (channels.length === 0) throw new Error('demo loop: the demo workspace has no channel');
  const d: Demo = { api, workspaceId, channelId: channels[0].id, log };
  await firstSyncDone(d);
  const scripts = await makeContent(d);
  const jobs = await render(d, scripts);
  const published = await upload(d, scripts, jobs);
  await api.fakes(`youtube/videos/${published}/age`, { days: AGE_DAYS, audience: 'typical' });
  await sync(d);
  log('demo loop: the published upload is back with its analytics; see Dashboard → What we learned');
}
