// KBinsDiscretizer's strategy "kmeans": scikit-learn 1.2 runs KMeans(n_bins,
// init = the centres of uniform bins, n_init=1) on each column: Lloyd's
// iterations, at most 300, stopping when no label changes or the squared
// centre shift is within 1e-4 x the column's variance, empty clusters
// relocated to the points farthest from their centres. On one sorted
// dimension a cluster is a run of consecutive values, so an iteration costs
// k binary searches and prefix sums instead of n x k distances.
import type { Column } from "./select.js";

const MAX_ITER = 300;
const TOL = 1e-4;

/**
 * The sorted cluster centres of the n sorted values v[0..n-1] (no NaN, at
 * least two distinct values), from the uniform initial centres.
 */
export function kmeans1d(v: Column, n: number, k: number, f32: boolean): Float64Array {
  const lo = v[0]!;
  const hi = v[n - 1]!;
  const step = (hi - lo) / k;
  const edges = new Float64Array(k + 1);
  for (let i = 0; i < k; i++) edges[i] = i * step + lo;
  edges[k] = hi;
  // sklearn centres the data on its mean before Lloyd (KMeans.fit), and so do we.
  const prefix = new Float64Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) total += v[i]!;
  const mean = total / n;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const d = v[i]! - mean;
    prefix[i + 1] = prefix[i]! + d;
    m2 += d * d;
  }
  const tol = (m2 / n) * TOL;
  const x = (i: number): number => v[i]! - mean;
  let centers = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const c = (edges[i]! + edges[i + 1]!) * 0.5;
    centers[i] = (f32 ? Math.fround(c) : c) - mean;
  }
  // labels as runs: cluster runLabel[r] holds sorted positions [runStart[r], runStart[r + 1])
  let runLabel: number[] = [];
  let runStart: number[] = [];
  let prevLabel: number[] | null = null;
  let prevStart: number[] | null = null;
  const weight = new Float64Array(k);
  const sums = new Float64Array(k);
  for (let iter = 0; iter < MAX_ITER; iter++) {
    ({ runLabel, runStart } = assign(x, n, centers));
    weight.fill(0);
    sums.fill(0);
    for (let r = 0; r < runLabel.length; r++) {
      const c = runLabel[r]!;
      const s = runStart[r]!;
      const e = runStart[r + 1]!;
      weight[c] = e - s;
      sums[c] = prefix[e]! - prefix[s]!;
    }
    relocateEmpty(x, centers, runLabel, runStart, weight, sums);
    const next = new Float64Array(k);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      next[c] = weight[c]! > 0 ? sums[c]! / weight[c]! : sums[c]!;
      const d = next[c]! - centers[c]!;
      shift += d * d;
    }
    centers = next;
    if (prevLabel !== null && sameRuns(prevLabel, prevStart!, runLabel, runStart)) break;
    if (shift <= tol) break;
    prevLabel = runLabel;
    prevStart = runStart;
  }
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) out[c] = f32 ? Math.fround(centers[c]! + mean) : centers[c]! + mean;
  return out.sort();
}

/** Each sorted value's nearest centre (the lower index on a tie, as sklearn's argmin), as runs. */
function assign(x: (i: number) => number, n: number, centers: Float64Array): { runLabel: number[]; runStart: number[] } {
  const k = centers.length;
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => centers[a]! - centers[b]! || a - b);
  // equal centres: only the lowest index can win a point
  const uniq: number[] = [];
  for (const c of order) {
    if (uniq.length > 0 && centers[uniq[uniq.length - 1]!] === centers[c]) continue;
    uniq.push(c);
  }
  const runLabel: number[] = [];
  const runStart: number[] = [];
  // sklearn's distance up to the |x|^2 term: |c|^2 - 2 x c
  const dist = (xi: number, c: number): number => centers[c]! * centers[c]! - 2 * xi * centers[c]!;
  let pos = 0;
  for (let u = 0; u < uniq.length; u++) {
    const a = uniq[u]!;
    let end = n;
    if (u + 1 < uniq.length) {
      const b = uniq[u + 1]!;
      const prefersB = (xi: number): boolean => {
        const da = dist(xi, a);
        const db = dist(xi, b);
        return b < a ? db <= da : db < da;
      };
      let l = pos;
      let h = n;
      while (l < h) {
        const m = (l + h) >>> 1;
        if (prefersB(x(m))) h = m;
        else l = m + 1;
      }
      end = l;
    }
    if (end > pos) {
      runLabel.push(a);
      runStart.push(pos);
    }
    pos = end;
  }
  runStart.push(n);
  return { runLabel, runStart };
}

/**
 * sklearn's _relocate_empty_clusters_dense: each empty cluster takes the
 * point farthest from its own centre (farthest first), which leaves its old
 * cluster's sum and weight; labels stay as assigned.
 */
function relocateEmpty(x: (i: number) => number, centers: Float64Array, runLabel: number[], runStart: number[], weight: Float64Array, sums: Float64Array): void {
  const empty: number[] = [];
  for (let c = 0; c < centers.length; c++) if (weight[c] === 0) empty.push(c);
  if (empty.length === 0) return;
  const m = empty.length;
  // the farthest points of a run are at its ends: m from each end are enough
  const cand: { i: number; c: number; d: number }[] = [];
  for (let r = 0; r < runLabel.length; r++) {
    const c = runLabel[r]!;
    const s = runStart[r]!;
    const e = runStart[r + 1]!;
    const seen = new Set<number>();
    for (let t = 0; t < m; t++) {
      for (const i of [s + t, e - 1 - t]) {
        if (i < s || i >= e || seen.has(i)) continue;
        seen.add(i);
        const d = x(i) - centers[c]!;
        cand.push({ i, c, d: d * d });
      }
    }
  }
  cand.sort((p, q) => q.d - p.d || q.i - p.i);
  for (let t = 0; t < m && t < cand.length; t++) {
    const { i, c } = cand[t]!;
    const xi = x(i);
    sums[c]! -= xi;
    weight[c]! -= 1;
    sums[empty[t]!] = xi;
    weight[empty[t]!] = 1;
  }
}

function sameRuns(la: number[], sa: number[], lb: number[], sb: number[]): boolean {
  if (la.length !== lb.length) return false;
  for (let r = 0; r < la.length; r++) if (la[r] !== lb[r] || sa[r] !== sb[r]) return false;
  return true;
}
