// A small SVG writer for the scaling curves: one panel per path, log-log axes, each path's
// figure divided by its smallest size's (so "flat" is 1 and "linear" is the size ratio), with
// the linear line and the 2x line of the acceptance drawn for comparison.
import type { PathResult } from './common.ts';

const W = 360;
const H = 260;
const PAD = { left: 48, right: 12, top: 34, bottom: 40 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const log = Math.log10;

function panel(r: PathResult, x0: number, y0: number): string {
  const pts = r.points.filter((p) => Number.isFinite(p.value) && p.value > 0);
  const out = [
    `<g transform="translate(${x0},${y0})">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(r.path)}</text>`,
  ];
  if (pts.length < 2)
    return out.concat([`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">fewer than two sizes measured</text>`, '</g>']).join('');
  const s0 = pts[0].size;
  const v0 = pts[0].value;
  const maxRatio = Math.max(pts[pts.length - 1].size / s0, ...pts.map((p) => p.value / v0));
  const xr = [0, log(pts[pts.length - 1].size / s0) || 1];
  const yr = [Math.min(0, ...pts.map((p) => log(p.value / v0))), log(maxRatio) || 1];
  const X = (ratio: number) => PAD.left + ((log(ratio) - xr[0]) / (xr[1] - xr[0])) * (W - PAD.left - PAD.right);
  const Y = (ratio: number) => H - PAD.bottom - ((log(ratio) - yr[0]) / (yr[1] - yr[0])) * (H - PAD.top - PAD.bottom);
  out.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${H - PAD.top - PAD.bottom}" fill="none" stroke="#999"/>`,
  );
  const last = pts[pts.length - 1].size / s0;
  out.push(`<line x1="${X(1)}" y1="${Y(1)}" x2="${X(last)}" y2="${Y(last)}" stroke="#c33" stroke-dasharray="4 3"/>`);
  if (r.kind === 'read') out.push(`<line x1="${X(1)}" y1="${Y(2)}" x2="${X(last)}" y2="${Y(2)}" stroke="#393" stroke-dasharray="2 2"/>`);
  const line = pts.map((p) => `${X(p.size / s0).toFixed(1)},${Y(p.value / v0).toFixed(1)}`).join(' ');
  out.push(`<polyline points="${line}" fill="none" stroke="#236" stroke-width="2"/>`);
  for (const p of pts) {
    const [cx, cy] = [X(p.size / s0), Y(p.value / v0)];
    // The largest size ends at the plot's right edge, so its labels would run past the image.
    const anchor = p === pts[pts.length - 1] ? 'end' : 'middle';
    out.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="3" fill="#236"/>`);
    out.push(
      `<text x="${cx.toFixed(1)}" y="${(cy - 6).toFixed(1)}" text-anchor="${anchor}" font-size="9">${Math.round(p.value).toLocaleString('en')}</text>`,
    );
    out.push(
      `<text x="${cx.toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="${anchor}" font-size="9">${p.size.toLocaleString('en')}</text>`,
    );
  }
  out.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="10">${esc(r.size_unit)} (log)</text>`);
  out.push(
    `<text x="12" y="${H / 2}" font-size="10" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(r.value_label)} / smallest (log)</text>`,
  );
  return out.concat('</g>').join('');
}

/** The chart of all paths, two panels a row; legend: red dashed = linear, green dotted = 2x. */
export function scalingSvg(results: PathResult[], title: string): string {
  const cols = 2;
  const rows = Math.ceil(results.length / cols);
  const width = cols * W;
  const height = rows * H + 40;
  const panels = results.map((r, i) => panel(r, (i % cols) * W, 40 + Math.floor(i / cols) * H));
  return (
    [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
      `<rect width="100%" height="100%" fill="white"/>`,
      `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
      `<text x="${width / 2}" y="32" text-anchor="middle" font-size="10">figure / figure at the smallest size; red dashed: linear growth; green dotted: 2x (reads' limit)</text>`,
      ...panels,
      '</svg>',
    ].join('\n') + '\n'
  );
}
