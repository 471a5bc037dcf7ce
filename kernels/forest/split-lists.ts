import type { SplitState } from "./split-state.js";

/**
 * Split search in small nodes by per-bin linked lists: the node's samples
 * are bucketed by code (head[bin], link[2 * position]) and the bins scanned
 * lowest first through a 256-bit bitmap, with an O(1) criterion update per
 * sample. The scan costs O(samples), not O(bins x classes): most of a full
 * tree's nodes have a handful of samples. See README.md, "How a tree grows".
 */

/** Per-position class (and for gini weight and weight x class total) next to the bin links, read by the list scans. */
export function prepareList(s: SplitState, start: number, end: number): void {
  const { link, sY } = s;
  for (let i = start; i < end; i++) link[2 * i + 1] = sY[i]!;
  if (s.p.criterion !== 0) return;
  const { wt, sW, T } = s;
  for (let i = start; i < end; i++) {
    const w = sW[i]!;
    wt[2 * i] = w;
    wt[2 * i + 1] = w * T[sY[i]!]!;
  }
}

/** Per-bin lists for feature f; returns true if the feature is constant in the node. */
export function scanList(s: SplitState, f: number, codes: Uint8Array, base: number, idx: Int32Array, im: number, start: number, end: number): boolean {
  bucketRows(codes, base, idx, im, s.link, s.head, s.bitmap, start, end);
  return listSplit(s, f, end - start);
}

/** scanList over gathered codes: position i's code at local[base + i]. */
export function scanLocal(s: SplitState, f: number, base: number, start: number, end: number): boolean {
  bucketLocal(s.local, base, s.link, s.head, s.bitmap, start, end);
  return listSplit(s, f, end - start);
}

// The bucketing loops are functions of their own, typed arrays in, nothing
// after the loop: V8 compiles a long first loop on entry (OSR) and reuses that
// code in later calls, and in scanLocal, with the list scan after its loop,
// that code deoptimized on most later calls of a 2-worker fit (~750 times in
// 10 Fashion-MNIST trees, the rest of each call in the interpreter).

/** Pushes positions [start, end) onto their code's list (codes at base + idx[i] * im) and marks the code's bit. */
function bucketRows(codes: Uint8Array, base: number, idx: Int32Array, im: number, link: Int32Array, head: Int32Array, bitmap: Int32Array, start: number, end: number): void {
  // Branch-free: a small node's codes are too random to predict "first in its bin".
  for (let i = start; i < end; i++) {
    const b = codes[base + idx[i]! * im]!;
    bitmap[b >> 5]! |= 1 << b; // a shift count is taken mod 32
    link[2 * i] = head[b]!;
    head[b] = i;
  }
}

/** bucketRows over gathered codes: position i's code at local[base + i]. */
function bucketLocal(local: Uint8Array, base: number, link: Int32Array, head: Int32Array, bitmap: Int32Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const b = local[base + i]!;
    bitmap[b >> 5]! |= 1 << b;
    link[2 * i] = head[b]!;
    head[b] = i;
  }
}

/** After bucketing: true if the feature is constant in the node, else scans its bins. */
export function listSplit(s: SplitState, f: number, n: number): boolean {
  const { head, bitmap } = s;
  // Constant in the node: a single bit set.
  let words = 0;
  let last = 0;
  for (let w = 0; w < 8; w++) {
    if (bitmap[w] !== 0) {
      words++;
      last = w;
    }
  }
  const x = bitmap[last]!;
  if (words === 1 && (x & (x - 1)) === 0) {
    head[(last << 5) + 31 - Math.clz32(x)] = -1;
    bitmap[last] = 0;
    return true;
  }
  const crit = s.p.criterion;
  if (crit === 0) giniList(s, f, n);
  else if (crit === 1) entropyList(s, f, n);
  else mseList(s, f, n);
  return false;
}

export function giniList(s: SplitState, f: number, n: number): void {
  const { head, link, wt, bitmap, L, T, C } = s;
  const msl = s.p.minSamplesLeaf;
  // Sample counts only matter when minSamplesLeaf > 1: with 1, every bin after the first splits.
  const counted = msl > 1;
  const W = s.statW;
  // sqR = sum_c (T_c - L_c)^2 = sqT - 2 * sum_c T_c L_c + sqL: one class array
  // updated per sample instead of two (exact for integer weights).
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
  for (let word = 0; word < 8; word++) {
    let bits = bitmap[word]!;
    bitmap[word] = 0;
    while (bits !== 0) {
      const low = bits & -bits;
      bits ^= low;
      const b = (word << 5) + 31 - Math.clz32(low);
      if (prev >= 0 && (!counted || (nL >= msl && n - nL >= msl))) {
        // sqL / wL + sqR / wR > best, without the two divisions.
        const wR = W - wL;
        const num = sqL * wR + (sqT - 2 * dot + sqL) * wL;
        const den = wL * wR;
        if (num > bestProxy * den) {
          bestProxy = num / den;
          bestLo = prev;
          bestHi = b;
        }
      }
      for (let i = head[b]!; i >= 0; i = link[2 * i]!) {
        const c = link[2 * i + 1]!;
        const w = wt[2 * i]!;
        const l = L[c]!;
        sqL += w * (2 * l + w);
        dot += wt[2 * i + 1]!;
        L[c] = l + w;
        wL += w;
      }
      if (counted) for (let i = head[b]!; i >= 0; i = link[2 * i]!) nL++;
      head[b] = -1;
      prev = b;
    }
  }
  if (bestLo >= 0) s.consider(bestProxy, f, bestLo, bestHi);
}

export function entropyList(s: SplitState, f: number, n: number): void {
  const { head, link, bitmap, sW, L, R } = s;
  const msl = s.p.minSamplesLeaf;
  // Sample counts only matter when minSamplesLeaf > 1: with 1, every bin after the first splits.
  const counted = msl > 1;
  const W = s.statW;
  // Maximize sum_c L_c ln L_c - wL ln wL + (the same for R): minus the weighted child entropies.
  let eR = s.openEntropy();
  let eL = 0;
  let wL = 0;
  let nL = 0;
  let prev = -1;
  let bestProxy = s.bestProxy;
  let bestLo = -1;
  let bestHi = -1;
  for (let word = 0; word < 8; word++) {
    let bits = bitmap[word]!;
    bitmap[word] = 0;
    while (bits !== 0) {
      const low = bits & -bits;
      bits ^= low;
      const b = (word << 5) + 31 - Math.clz32(low);
      if (prev >= 0 && (!counted || (nL >= msl && n - nL >= msl))) {
        const wR = W - wL;
        const proxy = eL - wL * Math.log(wL) + eR - (wR > 0 ? wR * Math.log(wR) : 0);
        if (proxy > bestProxy) {
          bestProxy = proxy;
          bestLo = prev;
          bestHi = b;
        }
      }
      for (let i = head[b]!; i >= 0; i = link[2 * i]!) {
        const c = link[2 * i + 1]!;
        const w = sW[i]!;
        const l = L[c]!;
        const r = R[c]!;
        const l2 = l + w;
        const r2 = r - w;
        eL += l2 * Math.log(l2) - (l > 0 ? l * Math.log(l) : 0);
        eR += (r2 > 0 ? r2 * Math.log(r2) : 0) - r * Math.log(r);
        L[c] = l2;
        R[c] = r2;
        wL += w;
      }
      if (counted) for (let i = head[b]!; i >= 0; i = link[2 * i]!) nL++;
      head[b] = -1;
      prev = b;
    }
  }
  if (bestLo >= 0) s.consider(bestProxy, f, bestLo, bestHi);
}

export function mseList(s: SplitState, f: number, n: number): void {
  const { head, link, bitmap, sYf, sW } = s;
  const msl = s.p.minSamplesLeaf;
  // Sample counts only matter when minSamplesLeaf > 1: with 1, every bin after the first splits.
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
  for (let word = 0; word < 8; word++) {
    let bits = bitmap[word]!;
    bitmap[word] = 0;
    while (bits !== 0) {
      const low = bits & -bits;
      bits ^= low;
      const b = (word << 5) + 31 - Math.clz32(low);
      if (prev >= 0 && (!counted || (nL >= msl && n - nL >= msl))) {
        // sL^2 / wL + sR^2 / wR > best, without the two divisions.
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
      for (let i = head[b]!; i >= 0; i = link[2 * i]!) {
        const w = sW[i]!;
        sL += w * sYf[i]!;
        wL += w;
      }
      if (counted) for (let i = head[b]!; i >= 0; i = link[2 * i]!) nL++;
      head[b] = -1;
      prev = b;
    }
  }
  if (bestLo >= 0) s.consider(bestProxy, f, bestLo, bestHi);
}
