import { gather, MAX_BATCH } from "./split-gather.js";
import { scanHist, scanStored } from "./split-hist.js";
import { prepareList, scanList, scanLocal } from "./split-lists.js";
import type { SplitState } from "./split-state.js";
import { scanTiny, scanTinyRows, TINY_LIMIT } from "./split-tiny.js";
import { forestTuning } from "./tuning.js";

/**
 * A node's split search: which features it draws (scikit-learn's
 * BestSplitter sampling, from the node's own random stream) and which
 * search scans each one (gathered batch and lists, lists, or histograms).
 */

/**
 * A feature not yet drawn at this node, uniformly: rejection sampling while
 * fewer than half are drawn, then a Fisher-Yates over the rest.
 */
export function drawFeature(s: SplitState, stamp: number, drawn: number): number {
  const d = s.d;
  const mark = s.drawnMark;
  const r = s.rng;
  if (drawn * 2 < d) {
    for (;;) {
      const f = r.below(d);
      if (mark[f] !== stamp) {
        mark[f] = stamp;
        return f;
      }
    }
  }
  const rest = s.rest;
  if (s.restStamp !== stamp) {
    s.restStamp = stamp;
    let k = 0;
    for (let f = 0; f < d; f++) if (mark[f] !== stamp) rest[k++] = f;
    s.restLen = k;
  }
  const j = r.below(s.restLen);
  const f = rest[j]!;
  rest[j] = rest[--s.restLen]!;
  mark[f] = stamp;
  return f;
}

/**
 * Finds the best split of [start, end) (s.best*); the node's statistics
 * must be in T / stat*. known[knownOff .. knownOff + nKnown) are the
 * features known constant here; all constants (known, then newly found)
 * are written to out[outOff ..] (out may be known's array). Returns their
 * number.
 *
 * Sampling is scikit-learn's, drawn differently: features are drawn
 * uniformly without replacement from all d (a drawn known constant counts
 * as visited, as in BestSplitter), until maxFeatures were visited and one
 * of them was not constant, or no unknown feature is left. The draws up to
 * maxFeatures do not depend on what the scans find, so in a small node they
 * are made first and their codes gathered in one pass over the samples'
 * rows (each row's cache lines fetched once, not once per feature).
 */
export function findSplit(s: SplitState, start: number, end: number, known: Int32Array, knownOff: number, nKnown: number, out: Int32Array, outOff: number): number {
  if (++s.stamp === 0x7fffffff) {
    s.knownMark.fill(0);
    s.drawnMark.fill(0);
    s.stamp = 1;
    s.restStamp = 0;
  }
  const stamp = s.stamp;
  const knownMark = s.knownMark;
  markKnown(knownMark, stamp, known, knownOff, nKnown, out, outOff);
  s.bestFeature = -1;
  s.bestProxy = -Infinity;
  const maxFeatures = s.p.maxFeatures;
  const n = end - start;
  const batched = s.data.rowCodes != null && n <= forestTuning.rowMax;
  // Narrow rows are read in place, feature after feature (they stay in cache); wide ones are gathered first.
  const gathered = batched && s.d >= forestTuning.gatherMinFeatures;
  const useHist = n > forestTuning.histMin;
  if (!useHist && s.C > 0) prepareList(s, start, end);
  // Entropy keeps the lists: its sweep updates two class arrays per sample, where the tiny sort saves little.
  const tiny = batched && n <= Math.min(forestTuning.tinyMax, TINY_LIMIT) && s.p.criterion !== 1;
  const batch = s.batch;
  // Every feature is visited (maxFeatures >= d): scan the unknown ones in a
  // shuffled order (only exact ties depend on it) instead of drawing them.
  const all = maxFeatures >= s.d;
  const order = s.rest;
  if (all) {
    let k = 0;
    for (let f = 0; f < s.d; f++) if (knownMark[f] !== stamp) order[k++] = f;
    s.rng.shuffle(order, k);
  }
  let visited = 0;
  let drawn = 0;
  let nonConstant = 0;
  let nFound = 0;
  let unknownLeft = s.d - nKnown;
  while (unknownLeft > 0 && (visited < maxFeatures || nonConstant === 0)) {
    let want = visited < maxFeatures ? maxFeatures - visited : 1;
    if (want > MAX_BATCH) want = MAX_BATCH;
    let nb = 0;
    for (let k = 0; k < want && unknownLeft > 0; k++) {
      const f = all ? order[drawn++]! : drawFeature(s, stamp, drawn++);
      visited++;
      if (knownMark[f] === stamp) continue;
      unknownLeft--;
      batch[nb++] = f;
    }
    if (gathered && nb > 1) gather(s, start, end, nb);
    for (let k = 0; k < nb; k++) {
      const f = batch[k]!;
      let constant: boolean;
      if (tiny && nb > 1) constant = gathered ? scanTiny(s, f, k * forestTuning.rowMax - start, start, end) : scanTinyRows(s, f, start, end);
      else if (gathered && nb > 1) constant = scanLocal(s, f, k * forestTuning.rowMax - start, start, end);
      else if (useHist) constant = s.nodeHist >= 0 ? scanStored(s, f, end - start) : scanHist(s, f, start, end);
      else constant = scanList(s, f, s.srcCodes, f * s.srcFMul, s.srcIdx, s.srcIMul, start, end);
      if (constant) out[outOff + nKnown + nFound++] = f;
      else nonConstant++;
    }
  }
  return nKnown + nFound;
}

/** Marks the known constants known[knownOff ..] at this node and copies them to out[outOff ..] (out may be known). */
function markKnown(knownMark: Int32Array, stamp: number, known: Int32Array, knownOff: number, nKnown: number, out: Int32Array, outOff: number): void {
  for (let i = 0; i < nKnown; i++) knownMark[known[knownOff + i]!] = stamp;
  if (out === known) out.copyWithin(outOff, knownOff, knownOff + nKnown);
  else for (let i = 0; i < nKnown; i++) out[outOff + i] = known[knownOff + i]!;
}

let primed = false;

/**
 * Runs markKnown's loops before any tree: nodes with known constants come
 * only deep in a tree, after V8 has compiled findSplit (with markKnown
 * inlined) on the first task's nodes, so those loops had no type feedback
 * and deoptimized findSplit once per worker (a recompile of a large
 * function while the first trees grow). Several calls, because a function's
 * first calls run before it has a feedback vector.
 */
export function primeFindSplit(): void {
  if (primed) return;
  primed = true;
  const a = new Int32Array(4);
  const b = new Int32Array(4);
  for (let i = 0; i < 32; i++) {
    markKnown(b, 1, a, 0, 1, a, 1);
    markKnown(b, 1, a, 0, 1, b, 2);
  }
}
