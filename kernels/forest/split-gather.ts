import type { SplitState } from "./split-state.js";
import { forestTuning } from "./tuning.js";

/**
 * Gathered batches for small nodes: the codes of up to MAX_BATCH drawn
 * features are copied from the samples' sample-major rows into one small
 * buffer (feature slot k at k * rowMax), one feature at a time, so each
 * row's cache lines are fetched once per batch, not once per feature; the
 * list scan then reads them contiguously (split-lists.ts, scanLocal).
 */

/** Features gathered per pass over a small node's rows. */
export const MAX_BATCH = 32;

/** Copies the codes of batch[0 .. nb) for the samples at [start, end) into local (feature slot k at k * rowMax). */
export function gather(s: SplitState, start: number, end: number, nb: number): void {
  const rowCodes = s.data.rowCodes!;
  const { sIdx, batch, local } = s;
  const d = s.d;
  const S = forestTuning.rowMax;
  for (let k = 0; k < nb; k++) {
    const f = batch[k]!;
    for (let i = start, o = k * S; i < end; i++, o++) local[o] = rowCodes[sIdx[i]! * d + f]!;
  }
}
