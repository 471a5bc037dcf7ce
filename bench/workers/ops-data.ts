// The ops suite's data: generated once from a seed by sabre's counter-based
// RNG into bench/.cache as raw little-endian files, which this process reads
// into shared memory and numpy reads with np.fromfile, byte for byte the
// same; plus the answers every contender is checked against, computed here
// in plain float64 loops (independent of sabre's ops and of numpy).
import { existsSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rng, shared, type NdArray } from "sabre";
import { cacheDir } from "../harness/index.js";
import { readRaw } from "./forest-data.js";

export const SEED = 20261201;

export interface OpsSizes {
  /** float64 elements for sum, mean and histogram (the brief's 40M). */
  readonly big: number;
  /** Rows of the float32 table for the axis rows (24 columns). */
  readonly tabRows: number;
  readonly tabCols: number;
  /** Elements of the call-latency sum. */
  readonly small: number;
  /** Side of the square matmul operands. */
  readonly mat: number;
  /** float64 elements argsorted (a prefix of the big array). */
  readonly sort: number;
  /** k-means points x features, and k. */
  readonly kmRows: number;
  readonly kmCols: number;
  readonly k: number;
  readonly bins: number;
}

export const FULL: OpsSizes = { big: 40_000_000, tabRows: 1_000_000, tabCols: 24, small: 1000, mat: 1024, sort: 10_000_000, kmRows: 200_000, kmCols: 32, k: 10, bins: 100 };
export const QUICK: OpsSizes = { big: 2_000_000, tabRows: 50_000, tabCols: 24, small: 1000, mat: 256, sort: 200_000, kmRows: 10_000, kmCols: 32, k: 10, bins: 100 };

export type Dt = "float64" | "float32";

/**
 * The k-means blobs' standard deviation: wide enough that they overlap, so
 * Lloyd's loop, not the init, is what gets timed. scikit-learn on 200k x 32
 * (5 seeds, measured): std 2 converges in 2 iterations, std 12 in 13-24,
 * every seed within 1e-7 of the same inertia.
 */
export const KM_STD = 12;

export interface Dataset {
  readonly name: string;
  readonly dtype: Dt;
  readonly shape: readonly number[];
  readonly path: string;
  readonly array: NdArray;
}

export interface OpsData {
  readonly sizes: OpsSizes;
  /** big: uniform [0, 1) float64. */
  readonly big: Dataset;
  /** tab: column j uniform in [j, 2j + 1), float32. */
  readonly tab: Dataset;
  readonly small: Dataset;
  /** A, B uniform [-1, 1) float64; A32, B32 the same values rounded to float32. */
  readonly A: Dataset;
  readonly B: Dataset;
  readonly A32: Dataset;
  readonly B32: Dataset;
  /** sortx: a view of the first `sort` elements of big (no copy). */
  readonly sortx: NdArray;
  /** km: k Gaussian blobs (std KM_STD) around centers uniform in [-10, 10)^d. */
  readonly km: Dataset;
  readonly refs: Refs;
}

export interface Refs {
  readonly sum: number;
  readonly mean: number;
  /** Checksums (float64 sum of the result) of the axis rows. */
  readonly mean0: number;
  readonly mean1: number;
  readonly var0: number;
  readonly var1: number;
  readonly sum1000: number;
  readonly matmul64: number;
  readonly matmul32: number;
  /** numpy's histogram(big, bins, range=(0, 1)) counts, bin for bin. */
  readonly counts: Int32Array;
}

type Fill = (out: Float64Array | Float32Array) => void;

/**
 * A cached file of generated values, read into a shared array (generated and
 * written first if absent). `variant` names the generator's parameters in
 * the file name, so changing them never reads a stale file.
 */
function dataset(name: string, dtype: Dt, shape: readonly number[], fill: Fill, variant = ""): Dataset {
  const array = shared.empty(dtype, [...shape]) as NdArray;
  const data = array.data as Float64Array | Float32Array;
  const path = join(cacheDir(), `ops-${name}${variant}-${shape.join("x")}-s${SEED}.${dtype === "float64" ? "f64" : "f32"}`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (existsSync(path) && statSync(path).size === bytes.byteLength) {
    readRaw(path, bytes);
  } else {
    fill(data);
    // Written under a private name, then renamed: a run killed mid-write leaves no short file behind.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }
  return { name, dtype, shape, path, array };
}

function uniform(stream: number, lo: number, hi: number): Fill {
  return (out) => {
    const r = rng(SEED, stream);
    const w = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = lo + w * r.float();
  };
}

/** Loads (generating on first use) every array of the suite at these sizes, and computes the reference answers. */
export function loadOpsData(sizes: OpsSizes, log: (line: string) => void): OpsData {
  const t0 = performance.now();
  const big = dataset("big", "float64", [sizes.big], uniform(1, 0, 1));
  const cols = sizes.tabCols;
  const tab = dataset("tab", "float32", [sizes.tabRows, cols], (out) => {
    const r = rng(SEED, 2);
    for (let i = 0; i < out.length; i++) {
      const j = i % cols;
      out[i] = j + (j + 1) * r.float();
    }
  });
  const small = dataset("small", "float64", [sizes.small], uniform(3, 0, 1));
  const m = sizes.mat;
  const A = dataset("A", "float64", [m, m], uniform(4, -1, 1));
  const B = dataset("B", "float64", [m, m], uniform(5, -1, 1));
  const A32 = dataset("A32", "float32", [m, m], (out) => out.set(A.array.data as Float64Array));
  const B32 = dataset("B32", "float32", [m, m], (out) => out.set(B.array.data as Float64Array));
  const km = dataset("km", "float64", [sizes.kmRows, sizes.kmCols], (out) => {
    const r = rng(SEED, 6);
    const d = sizes.kmCols;
    const centers = Array.from({ length: sizes.k * d }, () => -10 + 20 * r.float());
    for (let i = 0; i < sizes.kmRows; i++) {
      const c = r.int(0, sizes.k);
      for (let j = 0; j < d; j++) out[i * d + j] = centers[c * d + j]! + r.normal(0, KM_STD);
    }
  }, `-std${KM_STD}`);
  const bigData = big.array.data as Float64Array;
  const sortx = shared.empty("float64", [sizes.sort]) as NdArray;
  (sortx.data as Float64Array).set(bigData.subarray(0, sizes.sort));
  log(`data ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (bench/.cache/ops-*-s${SEED}.*)`);
  const refs = references(sizes, big, tab, small, A, B, A32, B32);
  return { sizes, big, tab, small, A, B, A32, B32, sortx, km, refs };
}

/** Neumaier-compensated sum: the reference the float64 sums are checked against. */
export function exactSum(x: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** The float64 sum of the elements of an ndarray result (contiguous or not), as numpy's checksum is taken. */
export function checksumOf(a: NdArray): number {
  const n = a.shape.reduce((p, x) => p * x, 1);
  if (a.shape.length === 1) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a.get(i) as number;
    return s;
  }
  let s = 0;
  const [r, c] = [a.shape[0]!, a.shape[1]!];
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) s += a.get(i, j) as number;
  return s;
}

/**
 * numpy's bin for x in [lo, hi] with `bins` equal bins: the scaled index,
 * then the same correction numpy applies against the float edges
 * (linspace(lo, hi, bins + 1)) so a value rounding across an edge lands where
 * a comparison with the edges puts it.
 */
export function numpyBin(x: number, lo: number, hi: number, bins: number, edges: Float64Array): number {
  let i = Math.floor((x - lo) * (bins / (hi - lo)));
  if (i === bins) i -= 1;
  if (x < edges[i]!) i -= 1;
  else if (x >= edges[i + 1]! && i !== bins - 1) i += 1;
  return i;
}

/** numpy.linspace(lo, hi, n) as numpy computes it (lo + i * step, the last one exactly hi). */
export function linspace(lo: number, hi: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const step = (hi - lo) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = lo + i * step;
  out[n - 1] = hi;
  return out;
}

function references(s: OpsSizes, big: Dataset, tab: Dataset, small: Dataset, A: Dataset, B: Dataset, A32: Dataset, B32: Dataset): Refs {
  const x = big.array.data as Float64Array;
  const sum = exactSum(x);
  const t = tab.array.data as Float32Array;
  const R = s.tabRows;
  const C = s.tabCols;
  const colSum = new Float64Array(C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) colSum[j]! += t[i * C + j]!;
  const colMean = colSum.map((v) => v / R);
  const colSq = new Float64Array(C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) colSq[j]! += (t[i * C + j]! - colMean[j]!) ** 2;
  let mean1 = 0;
  let var1 = 0;
  for (let i = 0; i < R; i++) {
    let rs = 0;
    for (let j = 0; j < C; j++) rs += t[i * C + j]!;
    const mu = rs / C;
    let sq = 0;
    for (let j = 0; j < C; j++) sq += (t[i * C + j]! - mu) ** 2;
    mean1 += mu;
    var1 += sq / C;
  }
  const edges = linspace(0, 1, s.bins + 1);
  const counts = new Int32Array(s.bins);
  for (let i = 0; i < x.length; i++) counts[numpyBin(x[i]!, 0, 1, s.bins, edges)]!++;
  return {
    sum,
    mean: sum / x.length,
    mean0: exactSum(colMean),
    mean1,
    var0: exactSum(colSq.map((v) => v / R)),
    var1,
    sum1000: exactSum(small.array.data as Float64Array),
    matmul64: matmulChecksum(A.array.data as Float64Array, B.array.data as Float64Array, s.mat),
    matmul32: matmulChecksum(A32.array.data as Float32Array, B32.array.data as Float32Array, s.mat),
    counts,
  };
}

/** sum(A @ B) without the product: sum over k of (column k of A summed) * (row k of B summed). */
function matmulChecksum(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  const colA = new Float64Array(n);
  const rowB = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) colA[k]! += a[i * n + k]!;
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) rowB[k]! += b[k * n + j]!;
  let s = 0;
  for (let k = 0; k < n; k++) s += colA[k]! * rowB[k]!;
  return s;
}
