import type { SplitState } from "./split-state.js";

/**
 * Split search in tiny nodes (a few samples: most nodes of a fully grown
 * tree) over gathered codes: the node's positions sorted by code with an
 * insertion sort, then the criterion swept over the code changes. The list
 * scans (split-lists.ts) pay a fixed 256-bit bitmap walk per feature, twice
 * (the constant check, then the sweep), which is most of their cost when a
 * node holds two to eight samples.
 *
 * Bit-identical to the list scans: positions are visited code by code, and
 * within a code from the last position down (the order a bin's list is
 * walked, head[b] being the last position bucketed), so every sum is added
 * in the same order and every candidate compared the same way.
 */

/** The largest node the sort keys can hold (a 16-bit position part); the tuning knob is capped to it. */
export const TINY_LIMIT = 64;

/**
 * Sorts the node's positions by (code ascending, position descending) into
 * s.tiny (key: code << 16 | (0xffff - local position)); returns true if the
 * feature is constant in the node, else scans it (gini or squared error).
 */
export function scanTiny(s: SplitState, f: number, base: number, start: number, end: number): boolean {
  const { local, tiny } = s;
  const n = end - start;
  for (let k = 0; k < n; k++) {
    insertKey(tiny, k, (local[base + start + k]! << 16) | (0xffff - k));
  }
  return tinySplit(s, f, n, start);
}

/**
 * scanTiny reading each position's code in place from its sample's row
 * (data.rowCodes) instead of a gathered batch: for narrow tables, whose
 * rows stay in cache from one feature to the next (findSplit,
 * forestTuning.gatherMinFeatures).
 */
export function scanTinyRows(s: SplitState, f: number, start: number, end: number): boolean {
  const { sIdx, tiny } = s;
  const rowCodes = s.data.rowCodes!;
  const d = s.d;
  const n = end - start;
  for (let k = 0; k < n; k++) {
    insertKey(tiny, k, (rowCodes[sIdx[start + k]! * d + f]! << 16) | (0xffff - k));
  }
  return tinySplit(s, f, n, start);
}

/** One insertion-sort step: key into tiny[0 .. k], which holds k sorted keys. */
function insertKey(tiny: Int32Array, k: number, key: number): void {
  let j = k;
  while (j > 0 && tiny[j - 1]! > key) {
    tiny[j] = tiny[j - 1]!;
    j--;
  }
  tiny[j] = key;
}

/** After the sort: true if the feature is constant in the node, else its sweep. */
function tinySplit(s: SplitState, f: number, n: number, start: number): boolean {
  const tiny = s.tiny;
  if (tiny[0]! >>> 16 === tiny[n - 1]! >>> 16) return true;
  if (s.p.criterion === 0) giniTiny(s, f, n, start);
  else mseTiny(s, f, n, start);
  return false;
}

/** giniList's sweep over the sorted positions (the same sums, in the same order). */
function giniTiny(s: SplitState, f: number, n: number, start: number): void {
  const { tiny, link, wt, L, T, C } = s;
  const msl = s.p.minSamplesLeaf;
  const counted = msl > 1;
  const W = s.statW;
  let sqT = 0;
  for (let c = 0; c < C; c++) {
    L[c] = 0;
    sqT += T[c]! * T[c]!;
  }
  let sqL = 0;
  let dot = 0;
  let wL = 0;
  let nL = 0;
  let prev = -1;
  let bestProxy = s.bestProxy;
  let bestLo = -1;
  let bestHi = -1;
  const top = start + 0xffff;
  for (let k = 0; k < n; k++) {
    const key = tiny[k]!;
    const b = key >>> 16;
    if (b !== prev) {
      if (prev >= 0 && (!counted || (nL >= msl && n - nL >= msl))) {
        const wR = W - wL;
        const num = sqL * wR + (sqT - 2 * dot + sqL) * wL;
        const den = wL * wR;
        if (num > bestProxy * den) {
          bestProxy = num / den;
          bestLo = prev;
          bestHi = b;
        }
      }
      prev = b;
    }
    const i = top - (key & 0xffff);
    const c = link[2 * i + 1]!;
    const w = wt[2 * i]!;
    const l = L[c]!;
    sqL += w * (2 * l + w);
    dot += wt[2 * i + 1]!;
    L[c] = l + w;
    wL += w;
    nL++;
  }
  if (bestLo >= 0) s.consider(bestProxy, f, bestLo, bestHi);
}

/** mseList's sweep over the sorted positions (the same sums, in the same order). */
function mseTiny(s: SplitState, f: number, n: number, start: number): void {
  const { tiny, sYf, sW } = s;
  const msl = s.p.minSamplesLeaf;
  const counted = msl > 1;
  const W = s.statW;
  const S = s.statSum;
  let sL = 0;
  let wL = 0;
  let nL = 0;
  let prev = -1;
  let bestProxy = s.bestProxy;
  let bestLo = -1;
  let bestHi = -1;
  const top = start + 0xffff;
  for (let k = 0; k < n; k++) {
    const key = tiny[k]!;
    const b = key >>> 16;
    if (b !== prev) {
      if (prev >= 0 && (!counted || (nL >= msl && n - nL >= msl))) {
        const sR = S - sL;
        const wR = W - wL;
        const num = sL * sL * wR + sR * sR * wL;
        const den = wL * wR;
        if (num > bestProxy * den) {
          bestProxy = num / den;
          bestLo = prev;
          bestHi = b;
        }
      }
      prev = b;
    }
    const i = top - (key & 0xffff);
    const w = sW[i]!;
    sL += w * sYf[i]!;
    wL += w;
    nL++;
  }
  if (bestLo >= 0) s.consider(bestProxy, f, bestLo, bestHi);
}
