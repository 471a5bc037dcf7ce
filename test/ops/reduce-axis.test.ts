// The float32 fast paths of the axis reductions (src/ops/reduce-axis.ts)
// against the generic path: a float32 table and its exact float64 copy must
// give the same bits (the float64 copy takes the generic leaves), on 1 and 3
// threads, for tables whose row blocks, column tiles and lanes end unevenly,
// and for views (transposed, stepped, reversed, offset). Inputs above
// SMALL_REDUCTION elements run on the workers, below it on the calling thread.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, ops, shared, type NdArray } from "sabre";

let e1: Engine, e3: Engine;
test.before(async () => {
  [e1, e3] = await Promise.all([Engine.start({ threads: 1 }), Engine.start({ threads: 3 })]);
});
test.after(async () => {
  await Promise.all([e1.close(), e3.close()]);
});

type Name = "sum" | "mean" | "variance" | "std";
const OP = ops as unknown as Record<Name, (x: unknown, o?: object) => Promise<NdArray>>;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function bits(r: NdArray): Float64Array {
  return Float64Array.from(r.data as Float64Array).subarray(0, r.size);
}

function sameBits(a: Float64Array, b: Float64Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.unreachable(`${what}: element ${i} is ${a[i]} vs ${b[i]}`);
  }
}

test("float32 sum/mean/variance/std along an axis give the float64 copy's bits (fast paths = generic leaves), views, 1 and 3 threads", async () => {
  // [rows, cols]: 24 lanes (the benchmark's table), lanes over one 64-lane tile, an axis-1 run over
  // the 128 elements one fast leaf covers (generic lanes path), rows not a multiple of 128, small.
  // Rows of whole 8s (no tail), of exactly one 128-element piece and of one element (axis 1's
  // unit-stride row loop, rowsUnit, at its edges).
  const shapes: [number, number][] = [[40_000, 24], [3000, 130], [9_001, 7], [777, 65], [50, 3], [5000, 16], [700, 128], [70_001, 1]];
  for (const [R, C] of shapes) {
    const r = lcg(R * 131 + C);
    const f = shared.zeros("float32", [R, C]);
    // Magnitudes over 2^-20 .. 2^20, so that float64 sums of float32 values round and the order
    // of every addition shows in the bits (sums of like-sized float32 values are exact in float64);
    // a large common offset on one column, which the two-pass block moments must cancel.
    for (let i = 0; i < f.size; i++) f.data[i] = (r() - 0.4) * 2 ** (r() * 40 - 20) + (i % C === 1 ? 1e6 : 0);
    const d = shared.zeros("float64", [R, C]);
    for (let i = 0; i < f.size; i++) d.data[i] = f.data[i]!;
    const views: [string, (x: NdArray) => NdArray][] = [
      ["table", (x) => x],
      ["transposed", (x) => x.transpose(1, 0)],
      ["stepped", (x) => x.lo(1, 0).step(2, -1)],
      ["reversed rows", (x) => x.step(-1, 1)],
      ["columns 1..", (x) => x.lo(0, 1)],
    ];
    for (const [label, view] of views) {
      for (const name of ["sum", "mean", "variance", "std"] as const) {
        for (const axis of [0, 1]) {
          for (const engine of [e1, e3]) {
            const o = { axis, engine, ...(name === "variance" ? { ddof: 1 } : {}) };
            const got = await OP[name](view(f), o);
            const want = await OP[name](view(d), o);
            sameBits(bits(got), bits(want), `${name}(${label} of ${R}x${C} float32, axis ${axis}, ${engine === e1 ? 1 : 3} threads)`);
          }
        }
      }
    }
  }
});

test.run();
