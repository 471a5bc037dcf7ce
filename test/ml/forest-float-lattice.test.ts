// Pixels / 255 binned on the engine (issue 9): the merge's lattice shortcut
// (every row chunk scanned a feature on the k / 255 lattice) and the scan's
// per-block lattice loop give, on 1, 2 and 3 threads, the codes an
// independent reading of the values says: k for a feature of values k / 255
// with some value other than 0 and 1, else the value's rank among the
// feature's distinct values. Checked against values worked out here, not
// against fitBins (which takes the same shortcut).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { shared, type NdArray } from "sabre";
import { forestTuning } from "../../kernels/forest/index.js";
import { binOnEngine } from "../../src/ml/forest/binning.js";
import { Engine as SrcEngine } from "../../src/engine/engine.js";
import { SabreTypeError as SrcTypeError } from "../../src/errors.js";
import { ndarray } from "../../src/memory/ndarray-type.js";
import { digits } from "../forest/util.js";
import { rejectsTyped } from "../helpers.js";

const { X } = digits();
const n = 1200;
const d = 64;
const pixels = (X.data as Float64Array).subarray(0, n * d);

/** Pixels / 255 as `make` rounds them, with the features the lattice shortcut must tell apart. */
function lattice(make: (values: number[]) => Float32Array | Float64Array): { data: NdArray; values: Float32Array | Float64Array } {
  const v = Array.from(pixels, (p) => p / 255);
  for (let i = 0; i < n; i++) {
    v[i * d + 1] = i % 3 === 0 ? 1 : 0; // only 0 and 1: exact bins {0, 1}, not the lattice
    v[i * d + 2] = (i % 200) / 255; // on the lattice until its last row, which leaves it
    v[i * d + 3] = i % 2 === 0 ? -0 : (i % 7) / 255; // -0 is 0, on the lattice
    v[i * d + 4] = (i % 50) / 255; // leaves the lattice in the last row of the first of 2 chunks
    v[i * d + 5] = 1; // only 1: one exact bin
  }
  v[(n - 1) * d + 2] = 0.5;
  v[(n / 2 - 1) * d + 4] = 0.25;
  const values = make(v);
  return { data: shared.from(ndarray(values as never, [n, d], [d, 1], 0)), values };
}

/** Codes from the values alone: k on the k / 255 lattice (as the dtype rounds it) when a value is not 0 or 1, else ranks. */
function expectedCodes(values: Float32Array | Float64Array): { rowCodes: Uint8Array; nBins: number[] } {
  const f32 = values instanceof Float32Array;
  const point = (k: number): number => (f32 ? Math.fround(k / 255) : k / 255);
  const rowCodes = new Uint8Array(n * d);
  const nBins: number[] = [];
  for (let f = 0; f < d; f++) {
    const col = Array.from({ length: n }, (_, i) => values[i * d + f]! + 0);
    const onLattice = col.every((x) => point(Math.round(x * 255)) === x);
    const fraction = col.some((x) => x !== 0 && x !== 1);
    if (onLattice && fraction) {
      col.forEach((x, i) => (rowCodes[i * d + f] = Math.round(x * 255)));
      nBins.push(256);
    } else {
      const distinct = [...new Set(col)].sort((a, b) => a - b);
      col.forEach((x, i) => (rowCodes[i * d + f] = distinct.indexOf(x)));
      nBins.push(distinct.length);
    }
  }
  return { rowCodes, nBins };
}

test("pixels / 255 (float32 and float64, features leaving the lattice, -0, only 0 and 1): the codes the values say, on 1, 2 and 3 threads", async () => {
  const engines = await Promise.all([1, 2, 3].map((threads) => SrcEngine.start({ threads })));
  const saved = forestTuning.binOneWorker;
  forestTuning.binOneWorker = 0; // split over the workers even for this small table
  try {
    for (const [name, make] of [
      ["float32", (v: number[]) => Float32Array.from(v)],
      ["float64", (v: number[]) => Float64Array.from(v)],
    ] as const) {
      const { data, values } = lattice(make);
      const want = expectedCodes(values);
      let thresholds: number[] | null = null;
      for (const e of engines) {
        const how = `${name}, ${e.threads} threads`;
        const got = await binOnEngine(e, data, 256, 3);
        assert.equal(Array.from(got.bins.nBins), want.nBins, `${how}: bins per feature`);
        assert.ok(Buffer.compare(got.rowCodes, want.rowCodes) === 0, `${how}: sample-major codes`);
        for (let f = 0; f < d; f++) {
          for (let i = 0; i < n; i++) {
            if (got.codes[f * n + i] !== want.rowCodes[i * d + f]) assert.unreachable(`${how}: feature-major code of feature ${f}, row ${i}`);
          }
        }
        // The same thresholds whatever the split.
        thresholds ??= Array.from(got.bins.threshold);
        assert.equal(Array.from(got.bins.threshold), thresholds, `${how}: thresholds`);
      }
    }
  } finally {
    forestTuning.binOneWorker = saved;
    await Promise.all(engines.map((e) => e.close()));
  }
});

test("NaN in a lattice feature's last row is refused, whichever chunk scanned it", async () => {
  const e = await SrcEngine.start({ threads: 2 });
  const saved = forestTuning.binOneWorker;
  forestTuning.binOneWorker = 0;
  try {
    const { data } = lattice((v) => Float32Array.from(v));
    data.set(n - 1, 10, Number.NaN);
    await rejectsTyped(binOnEngine(e, data, 256, 1), SrcTypeError, new RegExp(`X\\[${n - 1}\\]\\[10\\] is NaN`));
  } finally {
    forestTuning.binOneWorker = saved;
    await e.close();
  }
});

test.run();
