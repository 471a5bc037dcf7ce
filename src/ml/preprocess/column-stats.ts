// Per-column statistics of a table on the engine (kernels/preprocess/colstats.ts):
// one pass over fixed row blocks for counts, means, variances, min and max,
// merged here in block order (Chan's formula), so the bits depend only on the
// data; and order statistics (medians, percentiles, modes, 1-D k-means) from
// a transposed copy of each column's non-NaN values.
import type { Engine } from "../../engine/engine.js";
import { SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { sharedTypedArray } from "../../memory/shared.js";
import { ROW_BLOCK, STATS_SLOTS, type SelectTask } from "../../../kernels/preprocess/colstats.js";

export interface ColumnStats {
  /** Non-NaN values per column. */
  count: Float64Array;
  /** Mean of the non-NaN values (NaN for a column without any). Zero when moments were not asked for. */
  mean: Float64Array;
  /** Population variance (ddof 0) of the non-NaN values (NaN for a column without any). */
  var: Float64Array;
  /** nanmin / nanmax (NaN for a column without values). */
  min: Float64Array;
  max: Float64Array;
  /** [blocks][columns]: non-NaN values of each column in each row block (where gather writes). */
  blockCounts: Float64Array;
}

/**
 * Column statistics of x. Throws SabreTypeError naming `who` when x holds an
 * infinity (sklearn's "Input contains infinity").
 */
export async function columnStats(who: string, engine: Engine, x: NdArray, moments: boolean, signal: AbortSignal | undefined): Promise<ColumnStats> {
  const [n, nf] = x.shape as [number, number];
  const blocks = Math.ceil(n / ROW_BLOCK);
  const part = sharedTypedArray("float64", blocks * nf * STATS_SLOTS);
  const chunk = Math.max(1, Math.ceil(blocks / (engine.threads * 4)));
  const infs = (await engine.parallelFor(blocks, "sabre.preprocess.colStats", { x, part, moments }, { chunk, signal })) as number[];
  if (infs.some((k) => k > 0)) throw new SabreTypeError(`${who}: X contains infinity; only finite values and NaN (missing) are allowed`);
  const count = new Float64Array(nf);
  const mean = new Float64Array(nf);
  const m2 = new Float64Array(nf);
  const min = new Float64Array(nf).fill(NaN);
  const max = new Float64Array(nf).fill(NaN);
  const blockCounts = new Float64Array(blocks * nf);
  for (let b = 0; b < blocks; b++) {
    for (let j = 0; j < nf; j++) {
      const q = (b * nf + j) * STATS_SLOTS;
      const nb = part[q]!;
      blockCounts[b * nf + j] = nb;
      if (nb === 0) continue;
      const na = count[j]!;
      if (na === 0) {
        count[j] = nb;
        mean[j] = part[q + 1]!;
        m2[j] = part[q + 2]!;
        min[j] = part[q + 3]!;
        max[j] = part[q + 4]!;
        continue;
      }
      const t = na + nb;
      const delta = part[q + 1]! - mean[j]!;
      mean[j] = mean[j]! + (delta * nb) / t;
      m2[j] = m2[j]! + part[q + 2]! + ((delta * delta * na) / t) * nb;
      count[j] = t;
      if (part[q + 3]! < min[j]!) min[j] = part[q + 3]!;
      if (part[q + 4]! > max[j]!) max[j] = part[q + 4]!;
    }
  }
  const variance = new Float64Array(nf);
  for (let j = 0; j < nf; j++) {
    if (count[j] === 0) {
      mean[j] = NaN;
      variance[j] = NaN;
    } else variance[j] = m2[j]! / count[j]!;
  }
  return { count, mean, var: variance, min, max, blockCounts };
}

/**
 * One statistic (or `width` of them) per column from the column's non-NaN
 * values: the values are first copied column by column into one shared
 * buffer of the data's float dtype (float32 stays float32: exact, half the
 * memory), then each column is worked on by one worker.
 */
export async function columnSelect(
  engine: Engine,
  x: NdArray,
  stats: ColumnStats,
  task: SelectTask,
  width: number,
  signal: AbortSignal | undefined,
): Promise<Float64Array> {
  const [n, nf] = x.shape as [number, number];
  const blocks = Math.ceil(n / ROW_BLOCK);
  const colStart = sharedTypedArray("float64", nf + 1);
  for (let j = 0; j < nf; j++) colStart[j + 1] = colStart[j]! + stats.count[j]!;
  const at = sharedTypedArray("float64", blocks * nf);
  for (let j = 0; j < nf; j++) {
    let w = colStart[j]!;
    for (let b = 0; b < blocks; b++) {
      at[b * nf + j] = w;
      w += stats.blockCounts[b * nf + j]!;
    }
  }
  const f32 = x.dtype === "float32";
  const total = colStart[nf]!;
  const dst = f32 ? sharedTypedArray("float32", Math.max(1, total)) : sharedTypedArray("float64", Math.max(1, total));
  const chunk = Math.max(1, Math.ceil(blocks / (engine.threads * 4)));
  await engine.parallelFor(blocks, "sabre.preprocess.gatherColumns", { x, dst, at }, { chunk, signal });
  const out = sharedTypedArray("float64", nf * width);
  await engine.parallelFor(nf, "sabre.preprocess.selectColumns", { dst, colStart, task, out, width, f32 }, { chunk: 1, signal });
  return out;
}
