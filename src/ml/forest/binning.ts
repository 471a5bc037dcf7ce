import { KernelError, SabreTypeError } from "../../errors.js";
import { readOnly } from "../../engine/clauses.js";
import type { Engine } from "../../engine/engine.js";
import { dtypeOf } from "../../memory/dtypes.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { sharedTypedArray } from "../../memory/shared.js";
import {
  FINAL,
  assembleBins,
  checkMatrix,
  identityBins8,
  makeEncoder,
  mergeSummaries,
  packBins,
  quantileJob,
  type BinMapper,
  type ColumnSummary,
  type FeatureBins,
  type IdRemap,
} from "../../../kernels/forest/bins.js";
import { forestTuning } from "../../../kernels/forest/tuning.js";

/** Turns "a kernel refused its input" back into the typed error the caller would have got in one thread. */
export async function unwrapInputErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof KernelError && err.originalCode === "ERR_SABRE_TYPE") {
      throw new SabreTypeError(err.originalMessage, { cause: err });
    }
    throw err;
  }
}

/** Rows per chunk for row-parallel steps: a few chunks per worker, never tiny ones. */
export function rowChunk(n: number, threads: number): number {
  return Math.max(256, Math.ceil(n / (threads * 4)));
}

/** True when X's elements are laid out row-major without gaps (its data can be read as rows). */
function isRowMajor(X: NdArray): boolean {
  const [n, d] = X.shape as [number, number];
  return X.stride[1] === 1 && (X.stride[0] === d || n <= 1);
}

/** The binned data every tree of a fit reads: one shared copy. */
export interface BinnedData {
  bins: BinMapper;
  /** Feature-major codes (feature f of sample i at codes[f * n + i]); empty when not asked for (binOnEngine's featureMajor). */
  codes: Uint8Array;
  /** Sample-major codes (X itself for 8-bit data). */
  rowCodes: Uint8Array;
}

/**
 * The first step of a forest fit, on the engine: bins and both code layouts.
 * 8-bit row-major data (pixels) with maxBins 256 needs no fitting: the code
 * is the value, X is its own sample-major layout, and the feature-major one
 * is a transpose split by rows. Anything else, in three parallel passes:
 * a scan of row ranges (distinct values while there are at most maxBins,
 * integers, ranges), merged; quantile bins of the features with more
 * distinct values, split by features, from a sample of at most
 * BIN_SUBSAMPLE rows drawn with `seed`; then both code layouts, split by
 * rows. Merging and the sample do not depend on how work was split, so the
 * bins and codes are the same for any thread count. Tables of at most
 * forestTuning.binOneWorker values run the three passes on one worker in
 * one call (binAll): the same bins and codes.
 *
 * `featureMajor: false` says the caller needs only the sample-major codes (a
 * fit on a cluster ships those; hosts make their own feature-major copy):
 * 8-bit data then skips the transpose and `codes` is empty (0.3-0.5 s of a
 * Fashion-MNIST fit on one thread); other data gets both, as the scan writes them together.
 */
export async function binOnEngine(engine: Engine, X: NdArray, maxBins: number, seed: number, featureMajor = true): Promise<BinnedData> {
  const [n, d] = checkMatrix(X);
  const Xr = readOnly(X);
  const dtype = dtypeOf(X.data);
  if ((dtype === "uint8" || dtype === "uint8_clamped") && maxBins === 256 && isRowMajor(X)) {
    const codes = featureMajor ? sharedTypedArray("uint8", n * d) : new Uint8Array(0);
    if (featureMajor) await engine.parallelFor(n, "sabre.forest.transposeCodes8", { X: Xr, codes }, { chunk: rowChunk(n, engine.threads) });
    return { bins: identityBins8(d), codes, rowCodes: new Uint8Array(X.data.buffer, X.data.byteOffset + X.offset, n * d) };
  }
  if (n * d <= forestTuning.binOneWorker) {
    // Small tables: one worker does all three passes. Split over workers, each
    // pays the V8 warm-up of the binning code for a few milliseconds of work:
    // make_friedman1 25,000 x 10 took ~0.3 s CPU over 2 workers, ~0.1 on one.
    const codes = sharedTypedArray("uint8", n * d);
    const rowCodes = sharedTypedArray("uint8", n * d);
    const bins = (await unwrapInputErrors(engine.run("sabre.forest.binAll", { X: Xr, maxBins, seed, codes, rowCodes }))) as BinMapper;
    return { bins, codes, rowCodes };
  }
  // One chunk per worker: the scan's ids are remapped per chunk, so fewer chunks mean smaller remap tables.
  const chunkRows = Math.max(1, Math.ceil(n / engine.threads));
  const rowCodes = sharedTypedArray("uint8", n * d);
  const codes = sharedTypedArray("uint8", n * d);
  const parts = (await unwrapInputErrors(
    engine.parallelFor(n, "sabre.forest.scanBins", { X: Xr, maxBins, rowCodes, codes }, { chunk: chunkRows }),
  )) as ColumnSummary[];
  const { summary, remapStart, remap } = mergeSummaries(parts, true);
  const job = quantileJob(summary, n, seed, true);
  const m = job.features.length;
  const quantiles =
    m === 0
      ? []
      : ((await engine.parallelFor(m, "sabre.forest.quantileBins", { X: Xr, job }, { chunk: Math.max(1, Math.ceil(m / (engine.threads * 4))) })) as FeatureBins[][]).flat();
  const bins = packBins(assembleBins(summary, job, quantiles), maxBins);
  // Pixels / 255 and the like: the scan wrote every code already (FINAL), so no third pass.
  if (remapStart.every((s) => s === FINAL)) return { bins, codes, rowCodes };
  const encoder = makeEncoder(bins, true);
  const ids: IdRemap = { remapStart, remap, chunkRows };
  await engine.parallelFor(n, "sabre.forest.applyBins", { X: Xr, bins, encoder, codes, rowCodes, ids }, { chunk: chunkRows });
  return { bins, codes, rowCodes };
}
