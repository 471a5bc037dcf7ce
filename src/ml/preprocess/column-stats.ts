// Per-column statistics of a table on the engine (kernels/preprocess/colstats.ts):
// one pass over fixed row blocks for counts, means, variances, min and max,
// merged here in block order (Chan's formula), so the bits depend only on the
// data; medians and percentiles by histogram refinement (columnRanks); modes
// and 1-D k-means from a transposed copy of each column's non-NaN values.
import type { Runner } from "./runner.js";
import { SabreTypeError } from "../../errors.js";
import type { NdArray } from "../../memory/ndarray-type.js";
import { sharedTypedArray } from "../../memory/shared.js";
import { ROW_BLOCK, STATS_SLOTS, type SelectTask } from "../../../kernels/preprocess/colstats.js";
import { histBins } from "../../../kernels/preprocess/histselect.js";
import { medianFrom, medianRanks, numpyLerp, percentilePlan } from "../../../kernels/preprocess/select.js";

export interface ColumnStats {
  /** Non-NaN values per column. */
  count: Float64Array;
  /** Mean of the non-NaN values (NaN for a column without any). Zero when moments were not asked for. */
  mean: Float64Array;
  /** Population variance (ddof 0) of the non-NaN values (NaN for a column without any). */
  var: Float64Array;
  /** nanmin / nanmax (NaN for a column without values, and everywhere when columnStats was told not to compute them). */
  min: Float64Array;
  max: Float64Array;
  /** [blocks][columns]: non-NaN values of each column in each row block (where gather writes). */
  blockCounts: Float64Array;
}

/**
 * Column statistics of x. Throws SabreTypeError naming `who` when x holds an
 * infinity (sklearn's "Input contains infinity"). `extremes` false: min and
 * max are not wanted (they come back NaN), so blocks without NaN take the
 * lean pass of kernels/preprocess/moments.ts (same count, mean and var bits).
 */
export async function columnStats(who: string, engine: Runner, x: NdArray, moments: boolean, signal: AbortSignal | undefined, extremes = true): Promise<ColumnStats> {
  const [n, nf] = x.shape as [number, number];
  const blocks = Math.ceil(n / ROW_BLOCK);
  const part = sharedTypedArray("float64", blocks * nf * STATS_SLOTS);
  const chunk = Math.max(1, Math.ceil(blocks / (engine.threads * 4)));
  const infs = (await engine.parallelFor(blocks, "sabre.preprocess.colStats", { x, part, moments, extremes }, { chunk, signal })) as number[];
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
  if (!extremes) {
    min.fill(NaN);
    max.fill(NaN);
  }
  return { count, mean, var: variance, min, max, blockCounts };
}

/**
 * The mode or the k-means centres of each column from the column's non-NaN
 * values: the values are first copied column by column into one shared
 * buffer of the data's float dtype (float32 stays float32: exact, half the
 * memory), then each column is worked on by one worker.
 */
export async function columnSelect(
  engine: Runner,
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

/**
 * The values at the given ranks (sorted, distinct, each < count[j]) of each
 * column's non-NaN values, by histogram refinement
 * (kernels/preprocess/histselect.ts): two reads of x and a copy of only the
 * few bins that hold a wanted rank.
 */
export async function columnRanks(engine: Runner, x: NdArray, stats: ColumnStats, ranks: readonly (readonly number[])[], signal: AbortSignal | undefined): Promise<Float64Array[]> {
  const [n, nf] = x.shape as [number, number];
  const blocks = Math.ceil(n / ROW_BLOCK);
  const nbins = histBins(n);
  const lo = sharedTypedArray("float64", nf);
  const inv = sharedTypedArray("float64", nf);
  for (let j = 0; j < nf; j++) {
    lo[j] = stats.count[j]! > 0 ? stats.min[j]! : 0;
    const s = nbins / (stats.max[j]! - stats.min[j]!);
    // a constant column (or a range that overflows) puts every value in bin 0: still exact, only slower
    inv[j] = Number.isFinite(s) ? s : 0;
  }
  const chunk = Math.max(1, Math.ceil(blocks / (engine.threads * 2)));
  const nChunks = Math.ceil(blocks / chunk);
  const hist = sharedTypedArray("int32", nChunks * nf * nbins);
  await engine.parallelFor(blocks, "sabre.preprocess.histCount", { x, nbins, lo, inv, hist }, { chunk, signal });
  // the runs: one per (column, bin holding a wanted rank)
  const runOf = sharedTypedArray("int32", nf * nbins).fill(-1);
  const runStarts: number[] = [];
  const runLengths: number[] = [];
  const rankStart: number[] = [0];
  const rankAt: number[] = [];
  /** Per column, per wanted rank: its index in rankAt. */
  const where: number[][] = [];
  let total = 0;
  const counts = new Int32Array(nbins);
  for (let j = 0; j < nf; j++) {
    const want = ranks[j]!;
    where.push([]);
    if (want.length === 0) continue;
    counts.fill(0);
    for (let c = 0; c < nChunks; c++) {
      const h = (c * nf + j) * nbins;
      for (let b = 0; b < nbins; b++) counts[b]! += hist[h + b]!;
    }
    let k = 0;
    let before = 0;
    for (let b = 0; b < nbins && k < want.length; b++) {
      const cnt = counts[b]!;
      if (want[k]! >= before + cnt) {
        before += cnt;
        continue;
      }
      runOf[j * nbins + b] = runStarts.length;
      runStarts.push(total);
      runLengths.push(cnt);
      total += cnt;
      while (k < want.length && want[k]! < before + cnt) {
        where[j]!.push(rankAt.length);
        rankAt.push(want[k]! - before);
        k++;
      }
      rankStart.push(rankAt.length);
      before += cnt;
    }
    if (k < want.length) throw new RangeError(`columnRanks: rank ${want[k]} of column ${j} is beyond its ${before} values`);
  }
  const nRuns = runStarts.length;
  const values = sharedTypedArray("float64", Math.max(1, rankAt.length));
  if (nRuns > 0) {
    const runStart = Float64Array.from(runStarts);
    const dst = x.dtype === "float32" ? sharedTypedArray("float32", Math.max(1, total)) : sharedTypedArray("float64", Math.max(1, total));
    const sharedRunStart = sharedTypedArray("float64", nRuns);
    sharedRunStart.set(runStart);
    // chunk c's values of run r start after those of chunks 0..c-1
    const chunkOffset = sharedTypedArray("float64", nChunks * nRuns);
    for (let j = 0, r = 0; j < nf; j++) {
      for (let b = 0; b < nbins; b++) {
        if (runOf[j * nbins + b] !== r) continue;
        let at = runStart[r]!;
        for (let c = 0; c < nChunks; c++) {
          chunkOffset[c * nRuns + r] = at;
          at += hist[(c * nf + j) * nbins + b]!;
        }
        r++;
      }
    }
    await engine.parallelFor(blocks, "sabre.preprocess.histCollect", { x, nbins, lo, inv, runOf, chunkOffset, nRuns, dst }, { chunk, signal });
    const runLength = sharedTypedArray("float64", nRuns);
    runLength.set(runLengths);
    const rs = sharedTypedArray("int32", rankStart.length);
    rs.set(rankStart);
    const ra = sharedTypedArray("float64", Math.max(1, rankAt.length));
    ra.set(rankAt);
    await engine.parallelFor(nRuns, "sabre.preprocess.histSelect", { dst, runStart: sharedRunStart, runLength, rankStart: rs, rankAt: ra, values }, { chunk: 1, signal });
  }
  return where.map((idx) => Float64Array.from(idx, (i) => values[i]!));
}

export interface MedianPercentiles {
  /** np.nanmedian per column (NaN for a column without values); null when not asked for. */
  median: Float64Array | null;
  /** Per column, np.nanpercentile at 100 * qs[j] (NaN without values). */
  percentiles: Float64Array[];
}

/** Medians and percentiles of each column's non-NaN values, bit for bit as numpy 1.24 computes them. */
export async function columnMedianPercentiles(
  engine: Runner,
  x: NdArray,
  stats: ColumnStats,
  qs: readonly (readonly number[])[],
  withMedian: boolean,
  signal: AbortSignal | undefined,
): Promise<MedianPercentiles> {
  const nf = x.shape[1]!;
  const f32 = x.dtype === "float32";
  const plans = qs.map((q, j) => q.map((p) => percentilePlan(stats.count[j]!, p)));
  const ranks = plans.map((ps, j) => {
    const n = stats.count[j]!;
    if (n === 0) return [];
    const r = new Set<number>(withMedian ? medianRanks(n) : []);
    for (const p of ps) r.add(p.prev).add(p.next);
    return [...r].sort((a, b) => a - b);
  });
  const values = await columnRanks(engine, x, stats, ranks, signal);
  const at = (j: number, rank: number): number => values[j]![ranks[j]!.indexOf(rank)]!;
  const median = withMedian ? new Float64Array(nf) : null;
  const percentiles: Float64Array[] = [];
  for (let j = 0; j < nf; j++) {
    const n = stats.count[j]!;
    if (median) {
      const mr = medianRanks(n);
      median[j] = n === 0 ? NaN : medianFrom(at(j, mr[0]!), at(j, mr[mr.length - 1]!), n, f32);
    }
    percentiles.push(Float64Array.from(plans[j]!, (p) => (n === 0 ? NaN : numpyLerp(at(j, p.prev), at(j, p.next), p.gamma, f32))));
  }
  return { median, percentiles };
}
