// What a chart shows (labels, series, bounds, the bar to highlight) → a Chart.js configuration in
// the app's colours. Kept apart from Chart.js itself (types only) so it is tested in Node and the
// library stays out of the initial bundle.
import type { ChartConfiguration, ChartDataset, TooltipItem } from 'chart.js';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** Per-point notes for the tooltip (e.g. "12 videos"). */
  notes?: string[];
}

export interface ChartSpec {
  kind: 'line' | 'bar';
  labels: string[];
  series: ChartSeries[];
  yMin?: number;
  yMax?: number;
  /** Bar charts: the one bar drawn in the accent colour (e.g. the best bucket). */
  highlightIndex?: number | null;
  /** How values read in tooltips and ticks, e.g. (v) => `${v} ms`. */
  format?: (value: number) => string;
  /** Line charts: fill the area below the first series. */
  fill?: boolean;
}

// ≥ 3:1 against white for graphics (WCAG 1.4.11): accent 7.9:1, muted 3.7:1, the second and
// third series 6.6:1 and 5.4:1.
export const CHART_COLORS = {
  accent: '#4338ca',
  accentFill: 'rgba(67, 56, 202, 0.12)',
  muted: '#7c8599',
  series: ['#4338ca', '#b42318', '#0e7490'],
  grid: '#e5e7eb',
  text: '#4b5563',
};

export function chartConfig(spec: ChartSpec, options: { reducedMotion?: boolean } = {}): ChartConfiguration<'line' | 'bar'> {
  const format = spec.format ?? ((v: number) => String(v));
  const datasets = spec.series.map((s, i): ChartDataset<'line' | 'bar'> => {
    const color = CHART_COLORS.series[i % CHART_COLORS.series.length];
    if (spec.kind === 'bar') {
      const colors = s.values.map((_, j) =>
        spec.highlightIndex === undefined || spec.highlightIndex === null || spec.highlightIndex === j ? color : CHART_COLORS.muted,
      );
      return {
        type: 'bar',
        label: s.label,
        data: s.values,
        backgroundColor: colors,
        borderRadius: 4,
        maxBarThickness: 48,
      } as ChartDataset<'bar'>;
    }
    const single = s.values.filter((v) => v !== null).length <= 1;
    return {
      type: 'line',
      label: s.label,
      data: s.values,
      borderColor: color,
      backgroundColor: i === 0 && spec.fill ? CHART_COLORS.accentFill : color,
      pointBackgroundColor: color,
      fill: i === 0 && spec.fill ? 'origin' : false,
      borderWidth: 2,
      tension: 0.25,
      // A lone point would be invisible without a marker; long series read better without them.
      pointRadius: single ? 5 : s.values.length > 60 ? 0 : 3,
      pointHoverRadius: 6,
      spanGaps: false,
    } as ChartDataset<'line'>;
  });

  return {
    type: spec.kind,
    data: { labels: spec.labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: options.reducedMotion ? false : { duration: 300 },
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: spec.series.length > 1, labels: { color: CHART_COLORS.text, boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<'line' | 'bar'>) => {
              const s = spec.series[item.datasetIndex];
              const note = s?.notes?.[item.dataIndex];
              const value = item.parsed.y;
              return `${s?.label ?? ''}: ${value === null || value === undefined ? '—' : format(value)}${note ? ` (${note})` : ''}`;
            },
          },
        },
      },
      scales: {
        // A line of one or two points would hug the edges; centre them like bars.
        x: {
          offset: spec.kind === 'bar' || spec.labels.length < 3,
          grid: { display: false },
          ticks: { color: CHART_COLORS.text, maxRotation: 0, autoSkip: true, autoSkipPadding: 12 },
        },
        y: {
          min: spec.yMin,
          max: spec.yMax,
          beginAtZero: true,
          grid: { color: CHART_COLORS.grid },
          ticks: { color: CHART_COLORS.text, callback: (v: string | number) => format(Number(v)) },
        },
      },
    },
  };
}

/** A one-sentence summary for screen readers (the canvas itself says nothing). */
export function chartSummary(title: string, spec: ChartSpec): string {
  const first = spec.series[0];
  const format = spec.format ?? ((v: number) => String(v));
  if (!first || spec.labels.length === 0) return `${title}: no data.`;
  const points = first.values.map((v, i) => ({ v, label: spec.labels[i] })).filter((p): p is { v: number; label: string } => p.v !== null);
  if (points.length === 0) return `${title}: no data.`;
  const max = points.reduce((a, b) => (b.v > a.v ? b : a));
  const min = points.reduce((a, b) => (b.v < a.v ? b : a));
  if (points.length === 1) return `${title}: ${points[0].label} ${format(points[0].v)}.`;
  return `${title}: ${points.length} points from ${points[0].label} to ${points[points.length - 1].label}; highest ${format(max.v)} (${max.label}), lowest ${format(min.v)} (${min.label}).`;
}
