// The JavaScript side of the ops suite: the libraries a Node user would pick
// instead of sabre (ml-matrix, ndarray-ops, @tensorflow/tfjs-core with
// tfjs-backend-cpu, ml-kmeans), each imported only when its row runs (a
// missing one is a skipped row with its install line), and plain loops, the
// floor any single-threaded JavaScript pays. All of them run on this thread.
import ndarray from "ndarray";
import type { NdArray } from "sabre";
import { importPeer } from "../harness/index.js";
import { numpyBin, linspace } from "./ops-data.js";

/** Something timed: `reps` calls, the elapsed ms of them all, and a check of the last result. */
export interface Timed<C> {
  run(reps: number, round: number): Promise<{ ms: number; check: C }>;
  close?(): void | Promise<void>;
}

/** A synchronous call timed `reps` times in a loop. */
export function syncTimed<C>(fn: (round: number) => C, close?: () => void): Timed<C> {
  return {
    async run(reps, round) {
      let out!: C;
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) out = fn(round);
      return { ms: performance.now() - t0, check: out };
    },
    ...(close ? { close } : {}),
  };
}

/** An async call awaited `reps` times one after another (what a caller's loop pays). */
export function asyncTimed<C>(fn: (round: number) => Promise<C>): Timed<C> {
  return {
    async run(reps, round) {
      let out!: C;
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) out = await fn(round);
      return { ms: performance.now() - t0, check: out };
    },
  };
}

/**
 * Call latency: each of the `reps` calls timed on its own; `ms` is the
 * median call's time x reps, so a contender's figure (ms / reps) is the
 * median call, which a stall of the machine (a descheduled thread, a GC)
 * does not move. Awaits the call only when it returns a promise.
 */
export function perCallMedian<C>(fn: () => C | Promise<C>): Timed<C> {
  return {
    async run(reps) {
      const times = new Float64Array(reps);
      let out!: C;
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        const r = fn();
        out = r instanceof Promise ? await r : r;
        times[i] = performance.now() - t0;
      }
      times.sort();
      return { ms: times[reps >> 1]! * reps, check: out };
    },
  };
}

// ---- plain loops ---------------------------------------------------------------------------------

/** for (...) s += x[i]: what a user writes without a library. */
export function plainSum(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s;
}

/** A histogram loop with numpy's binning (so its counts can be checked against numpy's). */
export function plainHistogram(x: Float64Array, bins: number): Int32Array {
  const edges = linspace(0, 1, bins + 1);
  const counts = new Int32Array(bins);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v >= 0 && v <= 1) counts[numpyBin(v, 0, 1, bins, edges)]!++;
  }
  return counts;
}

/** Indices sorted by value with Array.prototype.sort's comparator (stable since ES2019). */
export function plainArgsort(x: Float64Array): Uint32Array {
  const idx = Array.from({ length: x.length }, (_, i) => i);
  idx.sort((a, b) => x[a]! - x[b]!);
  return Uint32Array.from(idx);
}

// ---- ndarray-ops ---------------------------------------------------------------------------------

type NdOps = typeof import("ndarray-ops");

export async function ndarrayOps(): Promise<NdOps> {
  const m = await importPeer<NdOps & { default?: NdOps }>("ndarray-ops");
  return m.default ?? m;
}

/** A 1-D ndarray-ops view of a typed array (no copy). */
export function ndView(data: Float64Array): ndarray.NdArray<Float64Array> {
  return ndarray(data, [data.length]);
}

/** Column means of a row-major [rows, cols] table with ndarray-ops: one strided sum per column (pick(null, j)). */
export function ndColumnMeans(nops: NdOps, t: Float32Array, rows: number, cols: number): Float64Array {
  const a = ndarray(t, [rows, cols]);
  const out = new Float64Array(cols);
  for (let j = 0; j < cols; j++) out[j] = nops.sum(a.pick(null, j)) / rows;
  return out;
}

// ---- ml-matrix -----------------------------------------------------------------------------------

export type MlMatrix = typeof import("ml-matrix");

export async function mlMatrix(): Promise<MlMatrix> {
  return importPeer<MlMatrix>("ml-matrix");
}

/** A row-major typed array as an ml-matrix Matrix (float64 rows: it has no float32). */
export function toMatrix(ml: MlMatrix, data: ArrayLike<number>, rows: number, cols: number): InstanceType<MlMatrix["Matrix"]> {
  const m = new ml.Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]!);
  return m;
}

// ---- tfjs ----------------------------------------------------------------------------------------

export type Tf = typeof import("@tensorflow/tfjs-core");

let tfLoaded: Promise<Tf> | undefined;

/** tfjs-core on its CPU backend (pure JS kernels; no native binding, no WebGL). */
export function tfjs(): Promise<Tf> {
  tfLoaded ??= (async () => {
    const tf = await importPeer<Tf>("@tensorflow/tfjs-core");
    await importPeer("@tensorflow/tfjs-backend-cpu");
    await tf.setBackend("cpu");
    await tf.ready();
    return tf;
  })();
  return tfLoaded;
}

/** Runs `fn` in tf.tidy and returns its tensor's values (the CPU backend computes eagerly; dataSync is its result array). */
export function tfValues(tf: Tf, fn: () => import("@tensorflow/tfjs-core").Tensor): Float32Array | Int32Array {
  return tf.tidy(() => fn().dataSync() as Float32Array | Int32Array);
}

// ---- ml-kmeans -----------------------------------------------------------------------------------

export type MlKmeans = typeof import("ml-kmeans");

export async function mlKmeans(): Promise<MlKmeans> {
  return importPeer<MlKmeans>("ml-kmeans");
}

/** Rows of a [n, d] float64 array as number[][] (ml-kmeans's input). */
export function toRows(X: NdArray): number[][] {
  const [n, d] = [X.shape[0]!, X.shape[1]!];
  const x = X.data as Float64Array;
  return Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)));
}

/** Sum of squared distances of each point to its assigned center (scikit-learn's inertia). */
export function inertiaOf(x: Float64Array, d: number, labels: ArrayLike<number>, centers: ArrayLike<number>): number {
  let s = 0;
  const n = x.length / d;
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    for (let j = 0; j < d; j++) s += (x[i * d + j]! - centers[c * d + j]!) ** 2;
  }
  return s;
}
