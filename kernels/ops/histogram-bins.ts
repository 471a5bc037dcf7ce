// Which bin a value falls in, computed as numpy 1.24's histogram computes
// it, so that values on or near an edge land where numpy puts them.
//
// Equal bins: numpy keeps lo <= v <= hi, takes trunc((v - lo) * norm)
// (norm = bins / (hi - lo)), moves the top value into the last bin, then
// corrects by one against the edges array (linspace's edges are not exactly
// lo + i / norm). For float32 data its arithmetic is float32 (the array's
// dtype wins over scalars), which `Math.fround` reproduces.
// Explicit edges: numpy counts by searchsorted, i.e. bin i holds
// edges[i] <= v < edges[i + 1], the last bin also v == its right edge.

/** A count mode: equal bins in float64 or float32 arithmetic, explicit edges, or bincount's integers. */
export type BinMode = "uniform64" | "uniform32" | "edges" | "int";

export interface BinSpec {
  mode: BinMode;
  /** Number of bins. */
  nb: number;
  /** Equal bins: the outer edges and bins / (hi - lo), in the mode's arithmetic. */
  lo: number;
  hi: number;
  norm: number;
  /** Every edge (nb + 1), as the dtype numpy's edges have (float32 values for uniform32). */
  edges: Float64Array;
}

/** The bin of v, or -1 when numpy leaves v out (outside the range, NaN). */
export function binOf(spec: BinSpec, v: number): number {
  const { nb, edges } = spec;
  if (spec.mode === "uniform64") {
    if (!(v >= spec.lo && v <= spec.hi)) return -1;
    let i = Math.trunc((v - spec.lo) * spec.norm);
    if (i === nb) i--;
    if (v < edges[i]!) i--;
    else if (i !== nb - 1 && v >= edges[i + 1]!) i++;
    return i;
  }
  if (spec.mode === "uniform32") {
    if (!(v >= spec.lo && v <= spec.hi)) return -1;
    let i = Math.trunc(Math.fround(Math.fround(v - spec.lo) * spec.norm));
    if (i === nb) i--;
    if (v < edges[i]!) i--;
    else if (i !== nb - 1 && v >= edges[i + 1]!) i++;
    return i;
  }
  if (spec.mode === "edges") {
    if (!(v >= edges[0]! && v <= edges[nb]!)) return -1;
    // The last edge <= v among edges[0..nb-1]: bin i with edges[i] <= v.
    let a = 0;
    let b = nb; // invariant: edges[a] <= v, and the answer is < b
    while (b - a > 1) {
      const m = (a + b) >>> 1;
      if (edges[m]! <= v) a = m;
      else b = m;
    }
    // Repeated edges: the upper bound lands past empty bins, as numpy's cumulative counts do.
    return a === nb - 1 || v < edges[a + 1]! ? a : -1;
  }
  return v < nb ? v : -1;
}
