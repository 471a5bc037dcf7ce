// ops.cumsum: exact integer prefix sums on the workers (lanes longer than a
// block included), every axis and view, the flattened form, bits independent
// of the thread count (1, 2, 3 threads), numpy's sequential bits for lanes of
// one block, bad input. (numpy fixtures: reduce.test.ts runs them.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbortError, Engine, SabreTypeError, ops, shared, type NdArray } from "sabre";
import { rejectsTyped } from "../helpers.js";

let e1: Engine, e2: Engine, e3: Engine;
test.before(async () => {
  [e1, e2, e3] = await Promise.all([Engine.start({ threads: 1 }), Engine.start({ threads: 2 }), Engine.start({ threads: 3 })]);
});
test.after(async () => {
  await Promise.all([e1.close(), e2.close(), e3.close()]);
});

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.unreachable(`${what}: element ${i} is ${a[i]} vs ${b[i]}`);
  }
}

/** Row-major values of a view. */
function values(x: NdArray): number[] {
  const out: number[] = [];
  const walk = (idx: number[]): void => {
    if (idx.length === x.shape.length) {
      out.push(x.get(...idx) as number);
      return;
    }
    for (let i = 0; i < x.shape[idx.length]!; i++) walk([...idx, i]);
  };
  walk([]);
  return out;
}

/** Sequential cumsum along `axis` of a 2-D row-major value list (exact for integer data). */
function naive2(v: number[], rows: number, cols: number, axis: number): number[] {
  const out = v.slice();
  if (axis === 0) for (let i = 1; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j]! += out[(i - 1) * cols + j]!;
  else for (let i = 0; i < rows; i++) for (let j = 1; j < cols; j++) out[i * cols + j]! += out[i * cols + j - 1]!;
  return out;
}

test("1..n and integer data: exact prefix sums, one block and many, every dtype to float64", async () => {
  for (const n of [1, 5, 32768, 32769, 200_001]) {
    for (const dtype of ["float64", "int32", "float32", "uint16"] as const) {
      const x = shared.zeros(dtype, [n]);
      for (let i = 0; i < n; i++) x.data[i] = dtype === "uint16" ? i % 3 : i + 1;
      const c = await ops.cumsum(x, { engine: e3 });
      assert.is(c.dtype, "float64");
      assert.equal(c.shape, [n]);
      let s = 0;
      for (let i = 0; i < n; i++) {
        s += dtype === "uint16" ? i % 3 : i + 1;
        if (c.data[i] !== s) assert.unreachable(`cumsum ${dtype} n=${n} [${i}] = ${c.data[i]}, want ${s}`);
      }
    }
  }
});

test("every axis of 2-D and 3-D arrays, transposed and stepped views, the flattened form", async () => {
  for (const [rows, cols] of [[70_000, 3], [3, 70_000], [400, 500]] as const) {
    const x = shared.zeros("int32", [rows, cols]);
    for (let i = 0; i < x.size; i++) x.data[i] = ((i * 7919) % 201) - 100;
    const views: [string, NdArray][] = [
      ["x", x],
      ["x.T", x.transpose(1, 0)],
      ["x stepped", x.lo(1, 0).step(2, -1)],
    ];
    for (const [label, v] of views) {
      const vals = values(v);
      const [R, C] = v.shape as [number, number];
      for (const axis of [0, 1, -1]) {
        const c = await ops.cumsum(v, { axis, engine: e2 });
        assert.equal(c.shape, [R, C]);
        sameBits(c.data, naive2(vals, R, C, axis < 0 ? axis + 2 : axis), `cumsum(${label} ${R}x${C}, axis ${axis})`);
      }
      const f = await ops.cumsum(v, { engine: e2 });
      assert.equal(f.shape, [R * C]);
      sameBits(f.data, naive2(vals, 1, R * C, 1), `cumsum(${label}) flattened`);
    }
  }
  const y = shared.zeros("float64", [4, 5, 6]);
  for (let i = 0; i < y.size; i++) y.data[i] = i % 11;
  const t = y.transpose(2, 0, 1);
  const c = await ops.cumsum(t, { axis: 1 });
  for (let a = 0; a < 6; a++) {
    for (let b = 0; b < 5; b++) {
      let s = 0;
      for (let k = 0; k < 4; k++) {
        s += t.get(a, k, b) as number;
        assert.is(c.get(a, k, b), s);
      }
    }
  }
});

test("a lane of one block equals numpy's sequential float64 cumsum bit for bit", async () => {
  const x = shared.zeros("float64", [20_000]);
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sqrt(i + 0.1) / 3;
  const c = await ops.cumsum(x);
  let s = 0;
  const want = Array.from(x.data, (v) => (s += v));
  sameBits(c.data, want, "sequential");
});

test("bits do not depend on the thread count (1, 2, 3 threads), lanes of many blocks and row mode", async () => {
  const x = shared.zeros("float64", [100_000, 4]);
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(i) * 1e3 + 0.1;
  for (const [label, v, axis] of [
    ["flattened", x, null],
    ["axis 0 (rows)", x, 0],
    ["axis 1", x, 1],
    ["x.T axis 1", x.transpose(1, 0), 1],
  ] as const) {
    const [a, b, c] = await Promise.all([e1, e2, e3].map((engine) => ops.cumsum(v, { axis, engine })));
    sameBits(a!.data, b!.data, `${label}: 1 vs 2 threads`);
    sameBits(a!.data, c!.data, `${label}: 1 vs 3 threads`);
  }
  // Row mode and lane mode follow the same per-lane arithmetic: axis 0 of x equals axis 1 of a contiguous x.T copy.
  const rowsMode = await ops.cumsum(x, { axis: 0, engine: e3 });
  const laneMode = await ops.cumsum(shared.from(x.transpose(1, 0)), { axis: 1, engine: e3 });
  sameBits(values(rowsMode.transpose(1, 0)), laneMode.data, "row mode vs lane mode");
});

test("empty, NaN, non-shared input, bad axes and options", async () => {
  assert.equal((await ops.cumsum(shared.zeros("float64", [0, 3]), { axis: 0 })).shape, [0, 3]);
  assert.equal((await ops.cumsum([])).shape, [0]);
  const n = await ops.cumsum([1, NaN, 2, Infinity]);
  assert.ok(n.data[0] === 1 && Number.isNaN(n.data[1]) && Number.isNaN(n.data[3]));
  assert.equal(Array.from((await ops.cumsum([[1, 2], [3, 4]], { axis: 0 })).data), [1, 2, 4, 6]);
  assert.equal(Array.from((await ops.cumsum(new Int8Array([-1, -2, -3]))).data), [-1, -3, -6]);
  const x = shared.zeros("float64", [2, 2]);
  await rejectsTyped(() => ops.cumsum(x, { axis: 2 }), SabreTypeError, /axis/);
  await rejectsTyped(() => ops.cumsum(x, { axis: 1.5 }), SabreTypeError, /axis/);
  await rejectsTyped(() => ops.cumsum(x, { ddof: 1 } as object), SabreTypeError, /unknown option/);
  await rejectsTyped(() => ops.cumsum(shared.zeros("biguint64", [2])), SabreTypeError, /biguint64/);
  await rejectsTyped(() => ops.cumsum(42 as unknown as number[]), SabreTypeError);
  const ac = new AbortController();
  ac.abort();
  await rejectsTyped(() => ops.cumsum(shared.zeros("float64", [100_000]), { signal: ac.signal, engine: e2 }), AbortError);
});

test.run();
