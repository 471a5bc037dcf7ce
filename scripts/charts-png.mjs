#!/usr/bin/env node
// Turns every bench/results/*.svg chart into a PNG beside it, for viewers that
// do not show SVG (and for looking at a chart before committing it).
//
//   node scripts/charts-png.mjs            # every chart
//   node scripts/charts-png.mjs sync ops   # some suites
//   node scripts/charts-png.mjs --redraw   # first redraw each SVG from its .md
//
// --redraw rebuilds a chart with the current bench/harness/svg.ts from the
// figures in the suite's Markdown file (medians, min – max, ratios) and the
// old SVG (which groups it charts, which rows are sabre's), so a fix to the
// chart code reaches the committed charts without rerunning the suites.
//
// Rasterizing needs rsvg-convert (Debian: apt-get install -y librsvg2-bin) or
// ImageMagick 7's `magick`.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const results = join(root, "bench/results");
const args = process.argv.slice(2);
const redraw = args.includes("--redraw");
const only = args.filter((a) => !a.startsWith("--"));

const names = readdirSync(results)
  .filter((f) => f.endsWith(".svg"))
  .map((f) => f.slice(0, -4))
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();
if (names.length === 0) {
  console.error(`charts-png: no chart in ${results}${only.length ? ` named ${only.join(", ")}` : ""}`);
  process.exit(1);
}

const rasterizer = pickRasterizer();
const barChart = redraw ? await loadBarChart() : undefined;

for (const name of names) {
  const svgPath = join(results, `${name}.svg`);
  if (barChart) {
    const mdPath = join(results, `${name}.md`);
    if (existsSync(mdPath)) {
      writeFileSync(svgPath, redrawChart(barChart, readFileSync(svgPath, "utf8"), readFileSync(mdPath, "utf8")));
    } else {
      console.error(`charts-png: ${name}.md is missing; ${name}.svg is not redrawn`);
    }
  }
  const pngPath = join(results, `${name}.png`);
  rasterizer(svgPath, pngPath);
  console.log(`wrote ${relative(pngPath)}`);
}

function relative(path) {
  return path.slice(root.length + 1);
}

function pickRasterizer() {
  if (spawnSync("rsvg-convert", ["--version"]).status === 0) {
    return (svg, png) => execFileSync("rsvg-convert", ["--background-color", "white", "--output", png, svg]);
  }
  if (spawnSync("magick", ["-version"]).status === 0) {
    return (svg, png) => execFileSync("magick", ["-background", "white", svg, png]);
  }
  console.error("charts-png: needs rsvg-convert (apt-get install -y librsvg2-bin) or ImageMagick 7's magick");
  process.exit(1);
}

// The chart code is TypeScript; esbuild (a dev dependency) bundles it in memory.
async function loadBarChart() {
  const { build } = await import("esbuild");
  const out = await build({
    entryPoints: [join(root, "bench/harness/svg.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
  });
  const code = out.outputFiles[0].text;
  const mod = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  return mod.barChart;
}

function unescapeXml(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

/** The old chart's title, its panels in order and, per panel, which rows were drawn as sabre's. */
function readSvg(svg) {
  let title = "";
  const panels = [];
  let pendingLabel;
  const element = /<text ([^>]*)>([^<]*)<\/text>|<rect ([^>]*)\/>/g;
  for (const m of svg.matchAll(element)) {
    if (m[1] !== undefined) {
      const attrs = m[1];
      const text = unescapeXml(m[2]);
      if (attrs.includes('font-size="16"')) title = text;
      else if (attrs.includes('font-size="13"')) panels.push({ title: text, ours: new Map() });
      else if (attrs.includes('text-anchor="end"')) pendingLabel = text;
    } else if (pendingLabel !== undefined && panels.length > 0) {
      panels[panels.length - 1].ours.set(pendingLabel, m[3].includes('fill="#d9480f"'));
      pendingLabel = undefined;
    }
  }
  return { title, panels };
}

/** "1,339" -> 1339, "1.33 k" -> 1330, "6.09 G" -> 6.09e9. */
function parseFigure(s) {
  const m = /^(-?[\d,]*\.?\d+(?:e[+-]?\d+)?)\s*([kMG]?)$/.exec(s.trim());
  if (!m) return undefined;
  const scale = { "": 1, k: 1e3, M: 1e6, G: 1e9 }[m[2]];
  return Number(m[1].replace(/,/g, "")) * scale;
}

/** Each "## group" of the Markdown report: its chart title and its rows. */
function readMarkdown(md) {
  const groups = new Map();
  const sections = md.split(/^## /m).slice(1);
  for (const section of sections) {
    const lines = section.split("\n");
    const heading = lines[0].trim();
    const unitLine = lines.find((l) => /, (lower|higher) is better\./.test(l));
    const tableRows = lines.filter((l) => l.startsWith("| ") && !l.startsWith("|  |") && !l.startsWith("| ---"));
    if (!unitLine || tableRows.length === 0) continue;
    const [, unit, better] = /^(.*), (lower|higher) is better\./.exec(unitLine);
    const bars = [];
    for (const row of tableRows) {
      const cells = row
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((c) => c.replace(/\\\|/g, "|").trim());
      const [labelCell, median, , minMax, ratio] = cells;
      const value = parseFigure(median ?? "");
      const [low, high] = (minMax ?? "").split(" – ").map(parseFigure);
      if (value === undefined || low === undefined || high === undefined) continue;
      const reference = labelCell.endsWith(" (reference)");
      const label = reference ? labelCell.slice(0, -" (reference)".length) : labelCell;
      bars.push({ label, value, low, high, caption: reference || !ratio ? median : `${median} (${ratio})` });
    }
    groups.set(`${heading} (${unit}, ${better} is better)`, { unit, bars });
  }
  return groups;
}

function redrawChart(barChart, svg, md) {
  const old = readSvg(svg);
  const groups = readMarkdown(md);
  const panels = [];
  for (const p of old.panels) {
    const g = groups.get(p.title);
    if (!g) throw new Error(`charts-png: the chart's panel "${p.title}" has no group in the Markdown file`);
    panels.push({
      title: p.title,
      unit: g.unit,
      bars: g.bars.map((b) => ({ ...b, ours: p.ours.get(b.label) ?? false })),
    });
  }
  return barChart(old.title, panels);
}
