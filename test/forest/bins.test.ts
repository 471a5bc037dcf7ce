import { test } from "uvu";
import * as assert from "uvu/assert";
import { SabreTypeError } from "../../src/errors.js";
import { ndarray } from "../../src/memory/ndarray-type.js";
import { rng } from "../../src/random/rng.js";
import {
  applyBins,
  applyBinsBoth,
  applyBinsRows,
  assembleBins,
  codeOf,
  encodeBlock,
  fitBins,
  FINAL,
  fitFeatureBins,
  identityBins8,
  makeEncoder,
  mergeSummaries,
  packBins,
  quantileBins,
  quantileJob,
  scanColumns,
  type BinMapper,
} from "../../kernels/forest/index.js";
import { throwsTyped } from "../helpers.js";
import { digits, matrix } from "./util.js";

test("few distinct values: exact bins, thresholds at midpoints, codes in value order", () => {
  const X = matrix([[3, 0.5], [1, 0.5], [2, -1], [3, 7], [1, 0.5]]);
  const bins = fitBins(X, 256);
  assert.equal(Array.from(bins.nBins), [3, 3]);
  const f0 = bins.threshold.subarray(bins.binStart[0]!, bins.binStart[0]! + 2);
  assert.equal(Array.from(f0), [1.5, 2.5]);
  assert.equal(Array.from(bins.binMin.subarray(3, 6)), [-1, 0.5, 7]);
  const codes = applyBins(X, bins, new Uint8Array(10));
  // Feature-major: feature 0's five codes, then feature 1's.
  assert.equal(Array.from(codes), [2, 0, 1, 2, 0, 1, 1, 0, 2, 1]);
  const rowsOut = applyBinsRows(X, bins, new Uint8Array(10));
  assert.equal(Array.from(rowsOut), [2, 1, 0, 1, 1, 0, 2, 2, 0, 1]);
});

test("uint8 pixels with <= maxBins values are binned exactly", () => {
  const n = 3000;
  const data = new Uint8Array(n * 2);
  const r = rng(1);
  for (let i = 0; i < n * 2; i++) data[i] = r.int(0, 256);
  const X = ndarray(data, [n, 2], [2, 1], 0);
  const bins = fitBins(X, 256);
  assert.is(bins.nBins[0], 256);
  const codes = applyBins(X, bins, new Uint8Array(n * 2));
  for (let i = 0; i < n; i++) {
    assert.is(codes[i], data[2 * i]);
    assert.is(codes[n + i], data[2 * i + 1]);
  }
});

test("many distinct values: at most maxBins quantile bins of similar sizes, edges between distinct values", () => {
  const n = 5000;
  const col = new Float64Array(n);
  const r = rng(2);
  for (let i = 0; i < n; i++) col[i] = r.normal();
  const X = ndarray(col, [n, 1], [1, 1], 0);
  for (const maxBins of [256, 16, 2]) {
    const fb = fitFeatureBins(X, 0, maxBins);
    const nb = fb.thresholds.length + 1;
    assert.ok(nb <= maxBins && nb >= maxBins * 0.9, `${nb} bins for maxBins ${maxBins}`);
    for (let j = 1; j < fb.thresholds.length; j++) assert.ok(fb.thresholds[j]! > fb.thresholds[j - 1]!);
    const counts = new Array<number>(nb).fill(0);
    for (const v of col) counts[codeOf(fb.thresholds, v)]!++;
    for (const c of counts) assert.ok(Math.abs(c - n / nb) < n / nb / 2 + 2, `bin sizes ${counts}`);
    // No data value equals a threshold: edges sit strictly between neighbours.
    const values = new Set(col);
    for (const t of fb.thresholds) assert.ok(!values.has(t));
  }
  // Heavy ties stay in one bin.
  const tied = new Float64Array(1000);
  for (let i = 0; i < 1000; i++) tied[i] = i < 900 ? 0 : i;
  const tb = fitFeatureBins(ndarray(tied, [1000, 1], [1, 1], 0), 0, 8);
  assert.is(codeOf(tb.thresholds, 0), 0);
  assert.ok(tb.thresholds[0]! > 0 && tb.thresholds[0]! < 900);
});

test("any strides and dtypes give the same codes; feature and row ranges compose", () => {
  const n = 400;
  const d = 5;
  const r = rng(3);
  const base = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) base[i] = Math.round(r.normal() * 1000) / 10;
  const X = ndarray(base, [n, d], [d, 1], 0);
  const bins = fitBins(X, 32);
  const want = applyBins(X, bins, new Uint8Array(n * d));
  // Column-major copy (transposed strides).
  const cm = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) cm[f * n + i] = base[i * d + f]!;
  const Xc = ndarray(cm, [n, d], [1, n], 0);
  assert.equal(Array.from(applyBins(Xc, fitBins(Xc, 32), new Uint8Array(n * d))), Array.from(want));
  // float32 and int32 versions of integer data.
  const ints = Int32Array.from(base, (v) => Math.round(v));
  const Xi = ndarray(ints, [n, d], [d, 1], 0);
  const Xf = ndarray(Float32Array.from(ints), [n, d], [d, 1], 0);
  const Xb = ndarray(BigInt64Array.from(ints, (v) => BigInt(v)), [n, d], [d, 1], 0);
  const ci = applyBins(Xi, fitBins(Xi, 32), new Uint8Array(n * d));
  assert.equal(Array.from(applyBins(Xf, fitBins(Xf, 32), new Uint8Array(n * d))), Array.from(ci));
  assert.equal(Array.from(applyBins(Xb, fitBins(Xb, 32), new Uint8Array(n * d))), Array.from(ci));
  // Two workers' feature ranges and row ranges fill the same arrays as one call.
  const split = new Uint8Array(n * d);
  applyBins(X, bins, split, 0, 2);
  applyBins(X, bins, split, 2, d);
  assert.equal(Array.from(split), Array.from(want));
  const rowsAll = applyBinsRows(X, bins, new Uint8Array(n * d));
  const rowsSplit = new Uint8Array(n * d);
  applyBinsRows(X, bins, rowsSplit, 0, 123);
  applyBinsRows(X, bins, rowsSplit, 123, n);
  assert.equal(Array.from(rowsSplit), Array.from(rowsAll));
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) assert.is(rowsAll[i * d + f], want[f * n + i]);
  // Both layouts in one pass, split over two row ranges, equal the separate calls.
  const both = new Uint8Array(n * d);
  const bothRows = new Uint8Array(n * d);
  applyBinsBoth(X, bins, both, bothRows, 0, 77);
  applyBinsBoth(X, bins, both, bothRows, 77, n);
  assert.equal(Array.from(both), Array.from(want));
  assert.equal(Array.from(bothRows), Array.from(rowsAll));
  const px = ndarray(Uint8Array.from({ length: 300 }, (_, i) => (i * 31) % 256), [100, 3], [3, 1], 0);
  const pb = fitBins(px, 16);
  const pBoth = new Uint8Array(300);
  applyBinsBoth(px, pb, pBoth, new Uint8Array(300));
  assert.equal(Array.from(pBoth), Array.from(applyBins(px, pb, new Uint8Array(300))));
  // Per-feature fits packed together equal fitBins.
  const packed = packBins([0, 1, 2, 3, 4].map((f) => fitFeatureBins(X, f, 32)), 32);
  assert.equal(Array.from(packed.threshold), Array.from(bins.threshold));
  // int8 values use the lookup path with negative values.
  const i8 = Int8Array.of(-128, 5, -3, 127, 0, -3);
  const X8 = ndarray(i8, [6, 1], [1, 1], 0);
  assert.equal(Array.from(applyBins(X8, fitBins(X8), new Uint8Array(6))), [0, 3, 1, 4, 2, 1]);
});

test("NaN, Infinity and bad arguments are SabreTypeErrors", () => {
  const bad = matrix([[1, 2], [NaN, 3]]);
  throwsTyped(() => fitBins(bad), SabreTypeError, /X\[1\]\[0\] is NaN.*finite/);
  const good = matrix([[1, 2], [4, 3]]);
  const bins = fitBins(good);
  throwsTyped(() => applyBins(matrix([[1, Infinity], [2, 3]]), bins, new Uint8Array(4)), SabreTypeError, /X\[0\]\[1\] is Infinity/);
  throwsTyped(() => applyBinsRows(matrix([[1, 2], [-Infinity, 3]]), bins, new Uint8Array(4)), SabreTypeError, /-Infinity/);
  throwsTyped(() => fitBins(good, 257), SabreTypeError, /maxBins must be an integer in \[2, 256\]/);
  throwsTyped(() => fitBins(good, 1), SabreTypeError, /maxBins/);
  throwsTyped(() => fitBins(new Float64Array(4) as never), SabreTypeError, /2-D ndarray/);
  throwsTyped(() => fitBins(ndarray(new Float64Array(4), [4], [1], 0)), SabreTypeError, /2-D \[samples, features\]/);
  throwsTyped(() => fitBins(ndarray(new Float64Array(0), [0, 3], [3, 1], 0)), SabreTypeError, /no rows/);
  throwsTyped(() => applyBins(good, bins, new Uint8Array(3)), SabreTypeError, /needs 4/);
  throwsTyped(() => applyBins(good, bins, new Int8Array(4) as never), SabreTypeError, /Uint8Array/);
  throwsTyped(() => applyBins(good, bins, new Uint8Array(4), 1, 3), SabreTypeError, /feature range/);
  throwsTyped(() => applyBins(matrix([[1, 2, 3]]), bins, new Uint8Array(3)), SabreTypeError, /3 features but the bins were fitted on 2/);
  throwsTyped(() => applyBinsRows(good, bins, new Uint8Array(4), -1), SabreTypeError, /row range/);
  throwsTyped(() => applyBinsBoth(good, bins, new Uint8Array(4), new Uint8Array(3)), SabreTypeError, /rowCodes has 3 elements/);
  throwsTyped(() => applyBinsBoth(matrix([[NaN, 1], [1, 1]]), bins, new Uint8Array(4), new Uint8Array(4)), SabreTypeError, /NaN/);
  throwsTyped(() => fitFeatureBins(good, 2), SabreTypeError, /out of range/);
});

const sameBins = (a: BinMapper, b: BinMapper, what: string) => {
  for (const k of ["nBins", "binStart", "threshold", "binMin", "binMax"] as const) {
    assert.equal(Array.from(a[k]), Array.from(b[k]), `${what}: ${k}`);
  }
};

/** Pixels 0..16 of the UCI digits as uint8, float32, float64, int32, and as float32 scaled to [0, 1]. */
function digitCopies() {
  const { X } = digits();
  const n = X.shape[0]!;
  const src = X.data as Float64Array;
  const of = <T extends { length: number; [i: number]: number }>(a: T) => ndarray(a as never, [n, 64], [64, 1], 0);
  return {
    n,
    u8: of(Uint8Array.from(src)),
    f32: of(Float32Array.from(src)),
    f64: of(Float64Array.from(src)),
    i32: of(Int32Array.from(src)),
    scaled: of(Float32Array.from(src, (v) => v / 16)),
  };
}

test("integer-valued floats get the bins of the same values as integers, feature by feature; scaled ones exact bins in the same order", () => {
  const { n, u8, f32, f64, i32, scaled } = digitCopies();
  for (const maxBins of [256, 8]) {
    const want = fitBins(u8, maxBins);
    sameBins(fitBins(f32, maxBins), want, `float32, maxBins ${maxBins}`);
    sameBins(fitBins(f64, maxBins), want, `float64, maxBins ${maxBins}`);
    sameBins(fitBins(i32, maxBins), want, `int32, maxBins ${maxBins}`);
    const codes = applyBins(u8, want, new Uint8Array(n * 64));
    assert.equal(Array.from(applyBins(f32, fitBins(f32, maxBins), new Uint8Array(n * 64))), Array.from(codes), `float32 codes, maxBins ${maxBins}`);
    // x / 16 keeps every distinct value apart and in order: the same bin counts and codes (exact bins when <= maxBins values).
    const sb = fitBins(scaled, maxBins);
    assert.equal(Array.from(sb.nBins), Array.from(want.nBins), `scaled nBins, maxBins ${maxBins}`);
    assert.equal(Array.from(applyBins(scaled, sb, new Uint8Array(n * 64))), Array.from(codes), `scaled codes, maxBins ${maxBins}`);
  }
});

test("scanning row chunks and merging gives the bins and codes of one pass, for any split; ids remap to the codes", () => {
  const { n, scaled } = digitCopies();
  // A continuous feature too (more distinct values than maxBins) and a feature of -0 and 0.
  const r = rng(9);
  const cols = 66;
  const mixed = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < 64; f++) mixed[i * cols + f] = (scaled.data as Float32Array)[i * 64 + f]!;
    mixed[i * cols + 64] = r.normal();
    mixed[i * cols + 65] = i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : 2;
  }
  const X = ndarray(mixed, [n, cols], [cols, 1], 0);
  for (const maxBins of [256, 16]) {
    const whole = fitBins(X, maxBins, 5);
    assert.is(whole.nBins[65], 2, "-0 and 0 are one value");
    const want = new Uint8Array(n * cols);
    const wantRows = new Uint8Array(n * cols);
    applyBinsBoth(X, whole, want, wantRows);
    for (const parts of [1, 2, 3, 7]) {
      const chunkRows = Math.ceil(n / parts);
      const rowCodes = new Uint8Array(n * cols);
      const summaries = [];
      for (let c = 0; c * chunkRows < n; c++) summaries.push(scanColumns(X, c * chunkRows, Math.min(n, (c + 1) * chunkRows), maxBins, 0, cols, rowCodes));
      const merged = mergeSummaries(summaries);
      const job = quantileJob(merged.summary, n, 5);
      const bins = packBins(assembleBins(merged.summary, job, quantileBins(X, job)), maxBins);
      sameBins(bins, whole, `${parts} parts, maxBins ${maxBins}`);
      const codes = new Uint8Array(n * cols);
      const enc = makeEncoder(bins);
      for (let c = 0; c * chunkRows < n; c++) {
        encodeBlock(X, bins, enc, codes, rowCodes, c * chunkRows, Math.min(n, (c + 1) * chunkRows), 0, cols, { ...merged, chunkRows });
      }
      assert.equal(Array.from(codes), Array.from(want), `${parts} parts: feature-major codes`);
      assert.equal(Array.from(rowCodes), Array.from(wantRows), `${parts} parts: sample-major codes`);
    }
  }
  // A feature with exactly maxBins values is exact; one more value makes it quantile bins.
  const k = ndarray(Float32Array.from({ length: 40 }, (_, i) => (i % 8) / 10), [40, 1], [1, 1], 0);
  assert.is(fitBins(k, 8).binMin.length, 8);
  assert.equal(Array.from(fitBins(k, 8).binMin), Array.from(fitBins(k, 8).binMax));
  const k9 = ndarray(Float32Array.from({ length: 45 }, (_, i) => (i % 9) / 10), [45, 1], [1, 1], 0);
  assert.ok(fitBins(k9, 8).nBins[0]! <= 8);
  assert.ok(Array.from(fitBins(k9, 8).binMin).some((v, b) => v !== fitBins(k9, 8).binMax[b]), "a bin holds two values");
});

test("values k / 255 get all 256 lattice bins (as 8-bit pixels' identity bins): the scan's ids are the codes, whatever leaves the lattice", () => {
  const { n, u8 } = digitCopies();
  const px = u8.data as Uint8Array;
  const want = new Uint8Array(n * 64);
  applyBins(u8, identityBins8(64), want);
  for (const f32 of [true, false]) {
    const X = ndarray((f32 ? Float32Array.from(px, (v) => v / 255) : Float64Array.from(px, (v) => v / 255)) as never, [n, 64], [64, 1], 0);
    const bins = fitBins(X, 256);
    const what = f32 ? "float32" : "float64";
    // Features of pixels / 255 with some value other than 0 and 1: 256 bins, bin k holding k / 255 as the dtype rounds it.
    for (let f = 0; f < 64; f++) {
      let fraction = false;
      for (let i = 0; i < n; i++) if (px[i * 64 + f]! !== 0) fraction = true;
      assert.is(bins.nBins[f], fraction ? 256 : 1, `${what} feature ${f}`);
      if (fraction) {
        const s = bins.binStart[f]!;
        assert.is(bins.binMin[s + 7], f32 ? Math.fround(7 / 255) : 7 / 255);
        assert.is(bins.threshold[s + 7], (bins.binMin[s + 7]! + bins.binMin[s + 8]!) / 2);
      }
    }
    // The code of k / 255 is k: the uint8 copy's codes under identity bins.
    assert.equal(Array.from(applyBins(X, bins, new Uint8Array(n * 64))), Array.from(want), `${what} codes`);
    for (const parts of [1, 3]) {
      const chunkRows = Math.ceil(n / parts);
      const rowCodes = new Uint8Array(n * 64);
      const codes = new Uint8Array(n * 64);
      const summaries = [];
      for (let c = 0; c * chunkRows < n; c++) summaries.push(scanColumns(X, c * chunkRows, Math.min(n, (c + 1) * chunkRows), 256, 0, 64, rowCodes, codes));
      const merged = mergeSummaries(summaries);
      sameBins(packBins(assembleBins(merged.summary, quantileJob(merged.summary, n, 1), []), 256), bins, `${what}, ${parts} parts`);
      assert.ok(merged.remapStart.every((s) => s === FINAL), `${what}, ${parts} parts: every feature final after the scan`);
      assert.equal(Array.from(codes), Array.from(want), `${what}, ${parts} parts: feature-major codes from the scan`);
      const rows = new Uint8Array(n * 64);
      for (let i = 0; i < n; i++) for (let f = 0; f < 64; f++) rows[i * 64 + f] = want[f * n + i]!;
      assert.equal(Array.from(rowCodes), Array.from(rows), `${what}, ${parts} parts: sample-major codes from the scan`);
    }
  }
  // Off the lattice part way through a chunk (a value between two points, a large one, -0.5, integers then fractions):
  // those features are scanned again by value, and every part still gives the one-pass bins and codes.
  const mixed = Float32Array.from(px, (v) => v / 255);
  const set = (i: number, f: number, v: number) => (mixed[i * 64 + f] = v);
  set(900, 20, 0.123456);
  set(1500, 21, 1e6);
  set(10, 22, -0.5);
  for (let i = 0; i < n; i++) set(i, 23, i < n / 2 ? px[i * 64 + 23]! : px[i * 64 + 23]! / 255);
  for (let i = 0; i < n; i++) set(i, 24, i % 2);
  const X = ndarray(mixed as never, [n, 64], [64, 1], 0);
  const whole = fitBins(X, 256);
  assert.is(whole.nBins[24], 2, "only 0 and 1: exact bins");
  assert.is(whole.nBins[20], 17 + 1, "one value off the lattice: exact bins");
  const want2 = new Uint8Array(n * 64);
  const wantRows = new Uint8Array(n * 64);
  applyBinsBoth(X, whole, want2, wantRows);
  for (const parts of [1, 2, 5]) {
    const chunkRows = Math.ceil(n / parts);
    const rowCodes = new Uint8Array(n * 64);
    const codes = new Uint8Array(n * 64);
    const summaries = [];
    for (let c = 0; c * chunkRows < n; c++) summaries.push(scanColumns(X, c * chunkRows, Math.min(n, (c + 1) * chunkRows), 256, 0, 64, rowCodes, codes));
    const merged = mergeSummaries(summaries);
    const bins = packBins(assembleBins(merged.summary, quantileJob(merged.summary, n, 1), []), 256);
    sameBins(bins, whole, `off the lattice, ${parts} parts`);
    const enc = makeEncoder(bins);
    for (let c = 0; c * chunkRows < n; c++) encodeBlock(X, bins, enc, codes, rowCodes, c * chunkRows, Math.min(n, (c + 1) * chunkRows), 0, 64, { ...merged, chunkRows });
    assert.equal(Array.from(codes), Array.from(want2), `off the lattice, ${parts} parts: feature-major codes`);
    assert.equal(Array.from(rowCodes), Array.from(wantRows), `off the lattice, ${parts} parts: sample-major codes`);
  }
});

test("quantile bins of many rows come from a sample drawn with the seed", () => {
  const n = 210_000;
  const col = new Float32Array(n);
  const r = rng(4);
  for (let i = 0; i < n; i++) col[i] = r.normal();
  const X = ndarray(col, [n, 1], [1, 1], 0);
  const a = fitBins(X, 64, 1);
  sameBins(fitBins(X, 64, 1), a, "same seed");
  const b = fitBins(X, 64, 2);
  assert.not.equal(Array.from(a.threshold), Array.from(b.threshold), "another seed draws another sample");
  const counts = new Array<number>(a.nBins[0]!).fill(0);
  for (const v of col) counts[codeOf(a.threshold.subarray(0, a.nBins[0]! - 1), v)]!++;
  for (const c of counts) assert.ok(Math.abs(c - n / 64) < n / 64 / 4, `bin sizes ${counts}`);
});

test.run();
