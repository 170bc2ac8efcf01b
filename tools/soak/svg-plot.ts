/**
 * A small SVG writer for the soak's series over time: one panel per series (its own y scale,
 * from 0 to its maximum), minutes along x, dashed vertical lines at marked minutes (the API
 * server's restarts). No dependencies: the output is a few hundred lines of plain SVG.
 */
export interface Series {
  name: string;
  unit: string;
  /** [minute, value]; undefined values leave a gap. */
  points: [number, number | undefined][];
}

const W = 720;
const H = 130;
const LEFT = 70;
const RIGHT = 20;
const TOP = 24;
const BOTTOM = 22;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

export function plotSeries(title: string, series: readonly Series[], marks: readonly number[] = []): string {
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const xMax = Math.max(1, ...xs);
  const width = W - LEFT - RIGHT;
  const height = H - TOP - BOTTOM;
  const x = (m: number) => LEFT + (m / xMax) * width;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * series.length + 30}" font-family="sans-serif" font-size="11" role="img">`,
    // Its name for screen readers, and for a page that shows the plot as an image.
    `<title>${esc(title)}</title>`,
    `<text x="${LEFT}" y="18" font-size="14">${esc(title)}</text>`,
  ];
  series.forEach((s, i) => {
    const top = 30 + i * H;
    const values = s.points.map(([, v]) => v).filter((v): v is number => v !== undefined);
    const yMax = Math.max(...values, 0) * 1.1 || 1;
    const y = (v: number) => top + TOP + height - (v / yMax) * height;
    parts.push(
      `<g><text x="${LEFT}" y="${top + 14}">${esc(`${s.name} (${s.unit})`)}</text>`,
      `<rect x="${LEFT}" y="${top + TOP}" width="${width}" height="${height}" fill="none" stroke="#bbb"/>`,
      `<text x="${LEFT - 4}" y="${top + TOP + 8}" text-anchor="end">${fmt(yMax)}</text>`,
      `<text x="${LEFT - 4}" y="${top + TOP + height}" text-anchor="end">0</text>`,
      `<text x="${LEFT + width}" y="${top + TOP + height + 14}" text-anchor="end">${fmt(xMax)} min</text>`,
    );
    for (const m of marks)
      parts.push(
        `<line x1="${x(m)}" x2="${x(m)}" y1="${top + TOP}" y2="${top + TOP + height}" stroke="#d33" stroke-dasharray="4 3"/>`,
      );
    // One polyline per run of defined values.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 0)
        parts.push(`<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="${run.join(' ')}"/>`);
      run = [];
    };
    for (const [m, v] of s.points) {
      if (v === undefined) flush();
      else run.push(`${x(m).toFixed(1)},${y(v).toFixed(1)}`);
    }
    flush();
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
