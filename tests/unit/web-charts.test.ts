import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHART_COLORS, chartConfig, chartSummary, type ChartSpec } from '../../web/src/lib/charts/config.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const bars: ChartSpec = {
  kind: 'bar',
  labels: ['Mon', 'Tue', 'Wed'],
  series: [{ label: 'Median score', values: [40, 70, 55], notes: ['3 videos', '5 videos', '4 videos'] }],
  yMin: 0,
  yMax: 100,
  highlightIndex: 1,
  format: (v) => `${v} pts`,
};

test('bar charts draw the highlighted bar in the accent colour and the others muted', () => {
  const config = chartConfig(bars) as Loose;
  assert.equal(config.type, 'bar');
  assert.deepEqual(config.data.labels, ['Mon', 'Tue', 'Wed']);
  assert.deepEqual(config.data.datasets[0].data, [40, 70, 55]);
  assert.deepEqual(config.data.datasets[0].backgroundColor, [CHART_COLORS.muted, CHART_COLORS.accent, CHART_COLORS.muted]);
  assert.deepEqual([config.options.scales.y.min, config.options.scales.y.max], [0, 100]);
  assert.equal(config.options.scales.x.offset, true);
  const all = chartConfig({ ...bars, highlightIndex: null }) as Loose;
  assert.deepEqual(all.data.datasets[0].backgroundColor, [CHART_COLORS.accent, CHART_COLORS.accent, CHART_COLORS.accent]);
});

test('tooltips and ticks use the value format and the point notes', () => {
  const config = chartConfig(bars) as Loose;
  const label = config.options.plugins.tooltip.callbacks.label({ datasetIndex: 0, dataIndex: 1, parsed: { y: 70 } });
  assert.equal(label, 'Median score: 70 pts (5 videos)');
  assert.equal(
    config.options.plugins.tooltip.callbacks.label({ datasetIndex: 0, dataIndex: 0, parsed: { y: null } }),
    'Median score: — (3 videos)',
  );
  assert.equal(config.options.scales.y.ticks.callback(20), '20 pts');
  assert.equal(config.options.plugins.legend.display, false, 'one series needs no legend');
});

test('line charts: a lone point gets a marker and is centred; long series drop markers; motion can be off', () => {
  const one = chartConfig({ kind: 'line', labels: ['Nov 23'], series: [{ label: 'Average score', values: [50] }], fill: true }) as Loose;
  assert.equal(one.data.datasets[0].pointRadius, 5);
  assert.equal(one.data.datasets[0].fill, 'origin');
  assert.equal(one.options.scales.x.offset, true);
  const labels = Array.from({ length: 100 }, (_, i) => String(i));
  const long = chartConfig(
    { kind: 'line', labels, series: [{ label: 'p95', values: labels.map((_, i) => (i % 3 ? i : null)) }] },
    { reducedMotion: true },
  ) as Loose;
  assert.equal(long.data.datasets[0].pointRadius, 0);
  assert.equal(long.data.datasets[0].fill, false);
  assert.equal(long.data.datasets[0].spanGaps, false, 'gaps stay gaps');
  assert.equal(long.options.scales.x.offset, false);
  assert.equal(long.options.animation, false);
});

test('the screen-reader summary names the range, the highest and the lowest point', () => {
  assert.equal(
    chartSummary('Median score per weekday', bars),
    'Median score per weekday: 3 points from Mon to Wed; highest 70 pts (Tue), lowest 40 pts (Mon).',
  );
  assert.equal(chartSummary('Score', { kind: 'line', labels: ['Nov 23'], series: [{ label: 's', values: [50] }] }), 'Score: Nov 23 50.');
  assert.equal(chartSummary('Score', { kind: 'line', labels: [], series: [{ label: 's', values: [] }] }), 'Score: no data.');
  assert.equal(
    chartSummary('Errors', { kind: 'line', labels: ['a', 'b'], series: [{ label: 'e', values: [null, null] }] }),
    'Errors: no data.',
  );
});
