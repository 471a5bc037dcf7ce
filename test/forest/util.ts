// Helpers for the forest-core tests: a tiny forest built from the core functions.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ndarray, type NdArray } from "../../src/memory/ndarray-type.js";
import {
  accumulatePredictions,
  applyBins,
  applyBinsRows,
  fitBins,
  growTree,
  type FlatTree,
  type ForestData,
  type TreeParams,
} from "../../kernels/forest/index.js";

export function matrix(rows: number[][], dtype: "float64" | "float32" = "float64"): NdArray {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const data = dtype === "float64" ? new Float64Array(n * d) : new Float32Array(n * d);
  rows.forEach((r, i) => data.set(r, i * d));
  return ndarray(data, [n, d], [d, 1], 0);
}

export function prepare(X: NdArray, y: Int32Array | Float64Array, nClasses: number, maxBins = 256): ForestData {
  const [n, d] = X.shape as [number, number];
  const bins = fitBins(X, maxBins);
  const codes = applyBins(X, bins, new Uint8Array(new SharedArrayBuffer(n * d)));
  const rowCodes = applyBinsRows(X, bins, new Uint8Array(new SharedArrayBuffer(n * d)));
  return { nSamples: n, nFeatures: d, codes, rowCodes, bins, y, nClasses };
}

export function fitForest(data: ForestData, params: TreeParams, nTrees: number, seed: number): FlatTree[] {
  const trees: FlatTree[] = [];
  for (let i = 0; i < nTrees; i++) trees.push(growTree(data, params, i, seed));
  return trees;
}

export function predict(trees: FlatTree[], X: NdArray): Float64Array {
  const n = X.shape[0]!;
  const out = new Float64Array(n * trees[0]!.nOutputs);
  accumulatePredictions(trees, X, 0, n, out, 1 / trees.length);
  return out;
}

export function argmax(proba: Float64Array, C: number): Int32Array {
  const n = proba.length / C;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (proba[r * C + c]! > proba[r * C + best]!) best = c;
    out[r] = best;
  }
  return out;
}

export function accuracy(pred: Int32Array, y: ArrayLike<number>, from = 0): number {
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === y[from + i]) ok++;
  return ok / pred.length;
}

/** The UCI digits (data/digits.csv.gz): X [1797, 64] float64, y class ids. */
export function digits(): { X: NdArray; y: Int32Array } {
  const url = new URL("../../../data/digits.csv.gz", import.meta.url);
  const lines = gunzipSync(readFileSync(url)).toString("utf8").trim().split("\n");
  const n = lines.length;
  const X = new Float64Array(n * 64);
  const y = new Int32Array(n);
  lines.forEach((line, i) => {
    const v = line.split(",").map(Number);
    X.set(v.slice(0, 64), i * 64);
    y[i] = v[64]!;
  });
  return { X: ndarray(X, [n, 64], [64, 1], 0), y };
}

/** Rows [start, end) of a row-major 2-D ndarray, as a view. */
export function rows(X: NdArray, start: number, end: number): NdArray {
  const d = X.shape[1]!;
  return ndarray(X.data, [end - start, d], [X.stride[0]!, X.stride[1]!], X.offset + start * X.stride[0]!);
}
