/**
 * A small hand-written SVG bar chart: one panel per group, one horizontal bar
 * per row on a log scale (figures in one group span orders of magnitude: 4 ns
 * for pthreads, microseconds for a message round trip), with a min – max
 * whisker. No dependency: the output is plain text a browser or GitHub shows.
 */

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly ours: boolean;
  readonly caption: string;
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
}

const MIN_WIDTH = 840;
const MIN_LABEL_W = 290;
const PLOT_W = 410;
const CAPTION_W = 120;
// No text measuring in a plain SVG: widths are estimated from the character
// count (DejaVu Sans / Helvetica average under these sizes), generously, so a
// long row label is never cut off at the left edge.
const LABEL_CHAR_W = 6.9;
const TITLE_CHAR_W = 8.4;
const BAR_H = 18;
const GAP = 6;
const PANEL_HEAD = 30;
const PANEL_FOOT = 22;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function barChart(title: string, panels: readonly Panel[]): string {
  const longestLabel = Math.max(0, ...panels.flatMap((p) => p.bars.map((b) => b.label.length)));
  const LABEL_W = Math.max(MIN_LABEL_W, Math.ceil(longestLabel * LABEL_CHAR_W) + 20);
  const longestTitle = Math.max(title.length * 1.25, ...panels.map((p) => p.title.length));
  const WIDTH = Math.max(MIN_WIDTH, LABEL_W + PLOT_W + CAPTION_W + 20, Math.ceil(longestTitle * TITLE_CHAR_W) + 20);
  const plotW = WIDTH - LABEL_W - CAPTION_W - 20;
  const parts: string[] = [];
  let y = 36;
  parts.push(`<text x="10" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`);
  for (const p of panels) {
    if (p.bars.length === 0) continue;
    const positive = p.bars.flatMap((b) => [b.low, b.value, b.high]).filter((v) => v > 0);
    // The axis starts at least 0.3 decades below the smallest figure, so that
    // row still gets a visible bar (a figure on a power of ten would get none).
    const lo = Math.floor(Math.log10(Math.min(...positive)) - 0.3);
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive))));
    const x = (v: number) => LABEL_W + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotW;
    parts.push(`<text x="10" y="${y + 18}" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
    y += PANEL_HEAD;
    const top = y;
    const barParts: string[] = [];
    for (const b of p.bars) {
      const fill = b.ours ? "#d9480f" : "#868e96";
      const cy = y + BAR_H / 2;
      barParts.push(
        `<text x="${LABEL_W - 8}" y="${cy + 4}" font-size="12" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${LABEL_W}" y="${y}" width="${(x(b.value) - LABEL_W).toFixed(1)}" height="${BAR_H}" fill="${fill}"/>`,
        `<line x1="${x(b.low).toFixed(1)}" x2="${x(b.high).toFixed(1)}" y1="${cy}" y2="${cy}" stroke="#212529" stroke-width="1.5"/>`,
        `<text x="${LABEL_W + plotW + 8}" y="${cy + 4}" font-size="12">${esc(b.caption)}</text>`,
      );
      y += BAR_H + GAP;
    }
    for (let d = lo; d <= hi; d++) {
      const gx = x(10 ** d).toFixed(1);
      parts.push(
        `<line x1="${gx}" x2="${gx}" y1="${top - 2}" y2="${y}" stroke="#ced4da" stroke-dasharray="2,2"/>`,
        `<text x="${gx}" y="${y + 13}" font-size="10" text-anchor="middle" fill="#495057">${esc(tick(10 ** d))}</text>`,
      );
    }
    parts.push(...barParts);
    y += PANEL_FOOT;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 10}" viewBox="0 0 ${WIDTH} ${y + 10}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

function tick(v: number): string {
  if (v >= 1e9) return `${v / 1e9}G`;
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}
