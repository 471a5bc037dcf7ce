/** Number formatting shared by the terminal tables, the Markdown files and the charts. */

/** A figure with about three significant digits; throughputs (units ending in "/s") get SI prefixes. */
export function formatValue(value: number, unit = ""): string {
  if (unit.endsWith("/s")) return formatSI(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString("en-US");
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** 1234567 -> "1.23 M". */
export function formatSI(value: number): string {
  const prefixes: [number, string][] = [
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [scale, p] of prefixes) {
    if (Math.abs(value) >= scale) return `${(value / scale).toPrecision(3)} ${p}`;
  }
  return value.toPrecision(3);
}

/** A ratio against a reference: "0.42x", "1.5x", "123x". */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  if (ratio >= 100) return `${Math.round(ratio)}x`;
  if (ratio >= 10) return `${ratio.toFixed(1)}x`;
  return `${ratio.toFixed(2)}x`;
}
