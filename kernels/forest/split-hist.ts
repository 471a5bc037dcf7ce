import type { SplitState } from "./split-state.js";

/**
 * Split search in large nodes by (bin x class) histograms: filled from the
 * feature-major codes (or read from the node's stored histogram under
 * sibling subtraction, node-hist.ts), then scanned over the non-empty bins,
 * so the scan's cost does not depend on the node's size.
 */

/**
 * Histogram path for large nodes; returns true if the feature is constant
 * in the node. Every in-bag weight is > 0, so a bin is empty exactly when
 * its weight is 0: sample counts per bin are kept only when
 * minSamplesLeaf > 1 needs them.
 */
export function scanHist(s: SplitState, f: number, start: number, end: number): boolean {
  // No loop here, each loop a function of its own with nothing after it: V8
  // compiled this function's merge loop on entry (OSR) and reused that code,
  // which then deoptimized on most later calls ("wrong map", ~500 times in a
  // 10-tree Fashion-MNIST float fit).
  const n = end - start;
  const crit = s.p.criterion;
  const codes = s.srcCodes;
  const sIdx = s.srcIdx;
  const stride = s.srcIMul;
  const base = f * s.srcFMul;
  const counted = s.p.minSamplesLeaf > 1;
  if (crit === 2) {
    fillHistReg(codes, base, sIdx, stride, s.sW, s.sYf, s.hist, s.histY, start, end);
    if (counted) countBins(codes, base, sIdx, stride, s.histCnt, start, end);
    return mseHist(s, f, n, counted);
  }
  fillHist(s, codes, base, sIdx, stride, start, end);
  mergeBanks(s.hist, s.hist2, s.histW, s.C);
  if (counted) countBins(codes, base, sIdx, stride, s.histCnt, start, end);
  return crit === 0 ? giniHist(s, f, n, counted) : entropyHist(s, f, n, counted);
}

/** Regression histogram: weight and weight x target per bin. */
function fillHistReg(
  codes: Uint8Array, base: number, sIdx: Int32Array, stride: number, sW: Float64Array, sYf: Float64Array, hist: Float64Array, histY: Float64Array, start: number, end: number,
): void {
  for (let i = start; i < end; i++) {
    const b = codes[base + sIdx[i]! * stride]!;
    const w = sW[i]!;
    hist[b]! += w;
    histY[b]! += w * sYf[i]!;
  }
}

/** Samples per bin (minSamplesLeaf > 1). */
function countBins(codes: Uint8Array, base: number, sIdx: Int32Array, stride: number, histCnt: Int32Array, start: number, end: number): void {
  for (let i = start; i < end; i++) histCnt[codes[base + sIdx[i]! * stride]!]!++;
}

/** Merges the second bank into the first (adding a 0 changes nothing: no branch) and totals each bin, classes in order. */
function mergeBanks(hist: Float64Array, hist2: Float64Array, histW: Float64Array, C: number): void {
  for (let b = 0, k = 0; b < 256; b++) {
    let wb = 0;
    for (let e = k + C; k < e; k++) {
      const v = hist[k]! + hist2[k]!;
      hist[k] = v;
      hist2[k] = 0;
      wb += v;
    }
    histW[b] = wb;
  }
}

/** scanHist from the node's stored histogram (sibling subtraction) instead of its samples. */
export function scanStored(s: SplitState, f: number, n: number): boolean {
  const H = s.histPool!.buffer(s.nodeHist);
  const { K, histCnt } = s;
  const counted = s.p.minSamplesLeaf > 1;
  let h = f * 256 * K;
  if (s.C === 0) {
    const { hist, histY } = s;
    for (let b = 0; b < 256; b++, h += K) {
      // Integer weights subtract exactly; an empty bin's target sum may keep a residue.
      const w = H[h]!;
      hist[b] = w;
      histY[b] = w === 0 ? 0 : H[h + 1]!;
      if (counted) histCnt[b] = H[h + 2]!;
    }
    return mseHist(s, f, n, counted);
  }
  const { hist, histW, C } = s;
  for (let b = 0, k = 0; b < 256; b++, h += K) {
    let wb = 0;
    for (let c = 0; c < C; c++, k++) {
      const v = H[h + c]!;
      hist[k] = v;
      wb += v;
    }
    histW[b] = wb;
    if (counted) histCnt[b] = H[h + C]!;
  }
  return s.p.criterion === 0 ? giniHist(s, f, n, counted) : entropyHist(s, f, n, counted);
}

/**
 * The class histogram of [start, end) in two banks, alternating samples:
 * runs of one code (background pixels) would otherwise chain every update
 * on the previous one's store. A function of its own, with nothing after
 * its loop: the first, long calls get it compiled on loop entry (OSR), and
 * such code, reused by later calls, deoptimized on every call at the first
 * statement after the loop that had no type feedback yet.
 */
export function fillHist(s: SplitState, codes: Uint8Array, base: number, sIdx: Int32Array, stride: number, start: number, end: number): void {
  const { hist, hist2, sY, sW, C } = s;
  let i = start;
  if ((end - start) & 1) {
    hist[codes[base + sIdx[i]! * stride]! * C + sY[i]!]! += sW[i]!;
    i++;
  }
  for (; i < end; i += 2) {
    const b = codes[base + sIdx[i]! * stride]!;
    const b2 = codes[base + sIdx[i + 1]! * stride]!;
    hist[b * C + sY[i]!]! += sW[i]!;
    hist2[b2 * C + sY[i + 1]!]! += sW[i + 1]!;
  }
}

export function giniHist(s: SplitState, f: number, n: number, counted: boolean): boolean {
  const { hist, histW, histCnt, L, R, C } = s;
  const msl = s.p.minSamplesLeaf;
  const W = s.statW;
  let sqR = s.openGini();
  let sqL = 0;
  let wL = 0;
  let nL = 0;
  let nd = 0;
  let prev = -1;
  let bestProxy = s.bestProxy;
  let bestLo = -1;
  let bestHi = -1;
  for (let b = 0, hb = 0; b < 256; b++, hb += C) {
    const wb = histW[b]!;
    if (wb === 0) continue;
    nd++;
    if (prev >= 0 && (!counted || (nL >= msl && n - nL >= msl))) {
      const proxy = sqL / wL + sqR / (W - wL);
      if (proxy > bestProxy) {
        bestProxy = proxy;
        bestLo = prev;
        bestHi = b;
      }
    }
    // No branch on empty cells: with w = 0 every update below adds a zero.
    for (let c = 0; c < C; c++) {
      const w = hist[hb + c]!;
      hist[hb + c] = 0;
      const l = L[c]!;
      const r = R[c]!;
      sqL += w * (2 * l + w);
      sqR += w * (w - 2 * r);
      L[c] = l + w;
      R[c] = r - w;
    }
    wL += wb;
    if (counted) {
      nL += histCnt[b]!;
      histCnt[b] = 0;
    }
    prev = b;
  }
  if (bestLo >= 0) s.consider(bestProxy, f, bestLo, bestHi);
  return nd === 1;
}

export function entropyHist(s: SplitState, f: number, n: number, counted: boolean): boolean {
  const { hist, histW, histCnt, L, R, C } = s;
  const msl = s.p.minSamplesLeaf;
  const W = s.statW;
  let eR = s.openEntropy();
  let eL = 0;
  let wL = 0;
  let nL = 0;
  let nd = 0;
  let prev = -1;
  let bestProxy = s.bestProxy;
  let bestLo = -1;
  let bestHi = -1;
  for (let b = 0, hb = 0; b < 256; b++, hb += C) {
    const wb = histW[b]!;
    if (wb === 0) continue;
    nd++;
    if (prev >= 0 && (!counted || (nL >= msl && n - nL >= msl))) {
      const wR = W - wL;
      const proxy = eL - wL * Math.log(wL) + eR - (wR > 0 ? wR * Math.log(wR) : 0);
      if (proxy > bestProxy) {
        bestProxy = proxy;
        bestLo = prev;
        bestHi = b;
      }
    }
    for (let c = 0; c < C; c++) {
      const w = hist[hb + c]!;
      if (w === 0) continue;
      hist[hb + c] = 0;
      const l = L[c]!;
      const r = R[c]!;
      const l2 = l + w;
      const r2 = r - w;
      eL += l2 * Math.log(l2) - (l > 0 ? l * Math.log(l) : 0);
      eR += (r2 > 0 ? r2 * Math.log(r2) : 0) - r * Math.log(r);
      L[c] = l2;
      R[c] = r2;
    }
    wL += wb;
    if (counted) {
      nL += histCnt[b]!;
      histCnt[b] = 0;
    }
    prev = b;
  }
  if (bestLo >= 0) s.consider(bestProxy, f, bestLo, bestHi);
  return nd === 1;
}

export function mseHist(s: SplitState, f: number, n: number, counted: boolean): boolean {
  const { hist, histY, histCnt } = s;
  const msl = s.p.minSamplesLeaf;
  const W = s.statW;
  const S = s.statSum;
  let sL = 0;
  let wL = 0;
  let nL = 0;
  let nd = 0;
  let prev = -1;
  let bestProxy = s.bestProxy;
  let bestLo = -1;
  let bestHi = -1;
  for (let b = 0; b < 256; b++) {
    const wb = hist[b]!;
    if (wb === 0) continue;
    nd++;
    if (prev >= 0 && (!counted || (nL >= msl && n - nL >= msl))) {
      const sR = S - sL;
      const proxy = (sL * sL) / wL + (sR * sR) / (W - wL);
      if (proxy > bestProxy) {
        bestProxy = proxy;
        bestLo = prev;
        bestHi = b;
      }
    }
    sL += histY[b]!;
    wL += wb;
    hist[b] = 0;
    histY[b] = 0;
    if (counted) {
      nL += histCnt[b]!;
      histCnt[b] = 0;
    }
    prev = b;
  }
  if (bestLo >= 0) s.consider(bestProxy, f, bestLo, bestHi);
  return nd === 1;
}
