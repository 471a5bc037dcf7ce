// Order statistics as numpy computes them: np.percentile's "linear" method,
// np.ma.median / nanmedian, scipy's mode (the smallest most frequent value).
// A multi-rank quickselect finds just the ranks asked for, so 11 quantiles
// cost about two selections, not a sort.
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

/** Where np.percentile's "linear" method reads among n sorted values for quantile q: two ranks and the weight of the upper one. */
export function percentilePlan(n: number, q: number): { prev: number; next: number; gamma: number } {
  const vi = virtualIndex(n, q);
  if (vi >= n - 1) return { prev: n - 1, next: n - 1, gamma: 0 };
  if (vi < 0) return { prev: 0, next: 0, gamma: 0 };
  const prev = Math.floor(vi);
  return { prev, next: prev + 1, gamma: vi - prev };
}

/**
 * numpy 1.24's _lerp of the two neighbours a <= b with weight t: their
 * difference in the data's dtype (f32), the rest in float64, from the upper
 * neighbour when t >= 0.5.
 */
export function numpyLerp(a: number, b: number, t: number, f32: boolean): number {
  const diff = f32 ? Math.fround(b - a) : b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The ranks np.ma.median / np.nanmedian read among n sorted values (one or two). */
export function medianRanks(n: number): number[] {
  const k = (n - 1) >>> 1;
  return n % 2 === 1 ? [k] : [k, k + 1];
}

/** The median from the values at medianRanks(n): the middle one, or the two summed in the data's dtype and halved. */
export function medianFrom(lowMid: number, highMid: number, n: number, f32: boolean): number {
  if (n % 2 === 1) return lowMid;
  const s = lowMid + highMid;
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
