import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionsInvoker } from '../../web/src/lib/api.ts';
import { ApiError } from '../../web/src/lib/api-error.ts';
import { getLoop, titlePickLabel, titlePickLines, type TitleChoices } from '../../web/src/lib/loop.ts';

const few = (videos: number) => ({ videos, status: 'not_enough_data', median_score: null, ci: null, median_velocity_percentile: null });
const measured = {
  videos: 7,
  status: 'ok',
  median_score: 72,
  ci: { low: 60, high: 81, level: 0.95, method: 'order statistics' },
  median_velocity_percentile: 70,
};

const titles = {
  uploads: 10,
  picks: [
    { choice: 'variant', position: 0, uploads: 7, pick_rate: 0.7, outcome: measured },
    { choice: 'variant', position: 2, uploads: 1, pick_rate: 0.1, outcome: few(1) },
    { choice: 'edited', position: null, uploads: 2, pick_rate: 0.2, outcome: few(2) },
  ],
  variant: { ...measured, videos: 8 },
  edited: few(2),
};

/** GET insights/loop as public.loop_insights answers it, title choices included. */
const doc = {
  workspace_id: 'w1',
  channel_id: null,
  age_days: 7,
  min_videos: 6,
  time_zone: 'UTC',
  generated_at: '2026-12-07T04:00:00Z',
  comparison: { engine: few(3), organic: measured, verdict: 'not_enough_data', difference: null },
  breakdowns: {},
  rejections: { rejected: 0, approved: 0, by_kind: [], recent: [] },
  variants: { uploads: 10, with_variants: 0, chosen: [], titles },
  recent_uploads: [],
};

const answering = (loop: unknown): FunctionsInvoker => ({
  functions: { invoke: async () => ({ data: { loop, summary: 'At 7 days, …' }, error: null }) },
});

test('the learned page reads the title choices from insights/loop', async () => {
  const answer = await getLoop(answering(doc), 'w1', 7);
  assert.deepEqual(
    answer.loop.variants.titles.picks.map((p) => [p.choice, p.position, p.uploads]),
    [
      ['variant', 0, 7],
      ['variant', 2, 1],
      ['edited', null, 2],
    ],
  );
});

test('an answer without the title choices is refused at the boundary', async () => {
  const { titles: _dropped, ...variants } = doc.variants;
  await assert.rejects(
    getLoop(answering({ ...doc, variants }), 'w1', 7),
    (err: unknown) => err instanceof ApiError && err.code === 'unexpected_response',
  );
});

test('title choices in words: offered positions from 1, own titles, pick rate and outcome or not enough data', () => {
  assert.equal(titlePickLabel({ choice: 'variant', position: 0 }), 'Offered title 1');
  assert.equal(titlePickLabel({ choice: 'edited', position: null }), 'Their own title');
  assert.deepEqual(titlePickLines(titles as TitleChoices, 6), [
    { label: 'Offered title 1', text: 'picked for 7 of 10 uploads (70%); median percentile 72 (95% interval 60–81), 7 videos' },
    { label: 'Offered title 3', text: 'picked for 1 of 10 uploads (10%); not enough data (1 video, at least 6 needed)' },
    { label: 'Their own title', text: 'picked for 2 of 10 uploads (20%); not enough data (2 videos, at least 6 needed)' },
  ]);
});
