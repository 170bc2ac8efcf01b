// A horizontal bar chart as a standalone SVG string, with no dependency: the performance pages'
// plots are redrawn from bench-results/ JSON by tools/docs/plot.mjs, and a reader's browser or
// GitHub shows them as they are.

/** Fill colours by what a bar measures. */
export const COLOURS = { ours: '#2f6fbb', floor: '#9aa5b1', upstream: '#d9822b' };

const WIDTH = 720;
const LABEL_WIDTH = 250;
const BAR_HEIGHT = 18;
const GAP = 6;
const GROUP_GAP = 16;
const TOP = 56;

function xmlText(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** A value as the chart prints it: at most three significant digits, then the unit. */
export function formatValue(value, unit) {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${Number(value.toFixed(digits)).toLocaleString('en-US')} ${unit}`;
}

/**
 * `spec`: `{ title, unit, note?, groups: [{ label, bars: [{ label, value, kind, text? }] }] }`;
 * `kind` is one of COLOURS' keys, `text` replaces the printed value (e.g. a range).
 */
export function barChart(spec) {
  const bars = spec.groups.flatMap((group) => group.bars);
  if (bars.length === 0) throw new Error(`${spec.title}: no bars to draw`);
  const max = Math.max(...bars.map((bar) => bar.value));
  const plotWidth = WIDTH - LABEL_WIDTH - 110;
  const rows = [];
  let y = TOP;
  for (const group of spec.groups) {
    rows.push(`<text x="12" y="${y + 12}" font-weight="bold">${xmlText(group.label)}</text>`);
    y += BAR_HEIGHT + 2;
    for (const bar of group.bars) {
      const width = max > 0 ? Math.max(1, (bar.value / max) * plotWidth) : 1;
      const colour = COLOURS[bar.kind];
      if (!colour) throw new Error(`${spec.title}: unknown bar kind ${bar.kind}`);
      rows.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + 13}" text-anchor="end">${xmlText(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
        `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + 13}">${xmlText(bar.text ?? formatValue(bar.value, spec.unit))}</text>`,
      );
      y += BAR_HEIGHT + GAP;
    }
    y += GROUP_GAP;
  }
  const legend = Object.entries({ ours: 'nodeagent', floor: 'floor, same run', upstream: 'upstream' })
    .filter(([kind]) => bars.some((bar) => bar.kind === kind))
    .map(([kind, name], i) => {
      const x = 12 + i * 170;
      return `<rect x="${x}" y="32" width="12" height="12" fill="${COLOURS[kind]}"/><text x="${x + 18}" y="42">${name}</text>`;
    });
  const height = y + (spec.note ? 24 : 4);
  const note = spec.note ? `<text x="12" y="${height - 10}" fill="#555">${xmlText(spec.note)}</text>` : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    // The chart's name for screen readers and tooltips, as an image's alternative text.
    `<title>${xmlText(spec.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="20" font-size="15" font-weight="bold">${xmlText(spec.title)}</text>`,
    ...legend,
    ...rows,
    note,
    '</svg>',
    '',
  ].join('\n');
}
