// Order statistics of one column's values (NaN already left out), as numpy
// computes them: np.percentile's "linear" method, np.ma.median / nanmedian,
// scipy's mode (the smallest most frequent value). A multi-rank quickselect
// finds just the ranks asked for, so 11 quantiles cost about two selections,
// not a sort.
export type Column = Float32Array | Float64Array;

const SMALL = 24;

function insertionSort(a: Column, lo: number, hi: number): void {
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= lo && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/**
 * Reorders a[lo..hi] (inclusive, no NaN) so that every rank in `ranks`
 * (sorted, within [lo, hi]) holds the value a full sort would put there.
 * Hoare partitions around a median of three; equal keys stop both scans, so
 * many duplicates still split evenly.
 */
export function selectRanks(a: Column, lo: number, hi: number, ranks: readonly number[]): void {
  const stack: number[] = [lo, hi, 0, ranks.length - 1];
  while (stack.length > 0) {
    const rhi = stack.pop()!;
    const rlo = stack.pop()!;
    const h = stack.pop()!;
    const l = stack.pop()!;
    if (rlo > rhi) continue;
    if (h - l < SMALL) {
      insertionSort(a, l, h);
      continue;
    }
    const m = (l + h) >>> 1;
    // median of three into a[m]
    if (a[m]! < a[l]!) swap(a, m, l);
    if (a[h]! < a[l]!) swap(a, h, l);
    if (a[h]! < a[m]!) swap(a, h, m);
    const p = a[m]!;
    let i = l;
    let j = h;
    while (i <= j) {
      while (a[i]! < p) i++;
      while (a[j]! > p) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // now a[l..j] <= p, a[i..h] >= p, and a[j+1..i-1] == p
    let k = rlo;
    while (k <= rhi && ranks[k]! <= j) k++;
    let r = k;
    while (r <= rhi && ranks[r]! < i) r++;
    if (rlo <= k - 1) stack.push(l, j, rlo, k - 1);
    if (r <= rhi) stack.push(i, h, r, rhi);
  }
}

function swap(a: Column, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/** numpy's virtual index of quantile q (a fraction) among n values, "linear" method. */
function virtualIndex(n: number, q: number): number {
  return (n - 1) * q;
}

/**
 * np.percentile(v, 100 * qs) of the n values v[0..n-1] (no NaN; reordered
 * in place), bit for bit as numpy 1.24 computes it: the two neighbours'
 * difference in the data's dtype (f32), the interpolation in float64 and
 * from the upper neighbour when the weight is >= 0.5. NaN when n = 0.
 */
export function percentiles(v: Column, n: number, qs: readonly number[], f32: boolean, out: Float64Array, at: number): void {
  if (n === 0) {
    for (let k = 0; k < qs.length; k++) out[at + k] = NaN;
    return;
  }
  const prev: number[] = [];
  const next: number[] = [];
  const gamma: number[] = [];
  for (const q of qs) {
    const vi = virtualIndex(n, q);
    let p: number;
    let x: number;
    if (vi >= n - 1) p = x = n - 1;
    else if (vi < 0) p = x = 0;
    else {
      p = Math.floor(vi);
      x = p + 1;
    }
    prev.push(p);
    next.push(x);
    gamma.push(vi - Math.floor(vi));
  }
  const ranks = [...new Set([...prev, ...next])].sort((a, b) => a - b);
  selectRanks(v, 0, n - 1, ranks);
  for (let k = 0; k < qs.length; k++) {
    const a = v[prev[k]!]!;
    const b = v[next[k]!]!;
    const t = gamma[k]!;
    const diff = f32 ? Math.fround(b - a) : b - a;
    out[at + k] = t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
  }
}

/** The median as np.ma.median and np.nanmedian give it: the middle value, or the mean of the two middle ones (summed in the data's dtype). NaN when n = 0. */
export function median(v: Column, n: number, f32: boolean): number {
  if (n === 0) return NaN;
  const k = (n - 1) >>> 1;
  if (n % 2 === 1) {
    selectRanks(v, 0, n - 1, [k]);
    return v[k]!;
  }
  selectRanks(v, 0, n - 1, [k, k + 1]);
  const s = v[k]! + v[k + 1]!;
  return (f32 ? Math.fround(s) : s) / 2;
}

/** The most frequent value, the smallest among ties (scipy.stats.mode); sorts v. NaN when n = 0. */
export function mostFrequent(v: Column, n: number): number {
  if (n === 0) return NaN;
  const s = v.subarray(0, n).sort();
  let best = s[0]!;
  let bestCount = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && s[j] === s[i]) j++;
    if (j - i > bestCount) {
      bestCount = j - i;
      best = s[i]!;
    }
    i = j;
  }
  return best;
}
