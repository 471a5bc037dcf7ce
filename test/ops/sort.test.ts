// ops.sort and ops.argsort against numpy's kind="stable" (fixture), stability
// and NaN/-0 placement on large inputs (one long lane split into runs and
// merged in parallel), strided/transposed/empty inputs, the same output for
// 1, 2 and 3 threads, and bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbortError, Engine, ops, SabreTypeError, shared, type NdArray } from "sabre";
import { rejectsTyped } from "../helpers.js";
import { FIXTURE, nums, sameArray } from "./fixture-data.js";

const engines: Engine[] = [];
let e1: Engine;
let e2: Engine;
let e3: Engine;

test.before(async () => {
  engines.push(...(await Promise.all([1, 2, 3].map((threads) => Engine.start({ threads })))));
  [e1, e2, e3] = engines as [Engine, Engine, Engine];
});
test.after(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

const lessNaNLast = (a: number, b: number): boolean => a < b || (b !== b && a === a);

/** Checks idx is the stable sorting permutation of x and s the values it picks. */
function checkStable(x: ArrayLike<number>, s: ArrayLike<number> | null, idx: ArrayLike<number>, what: string): void {
  const n = x.length;
  assert.is(idx.length, n, `${what}: length`);
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = idx[i]!;
    if (!(k >= 0 && k < n) || seen[k]) throw new Error(`${what}: idx[${i}] = ${k} is not a permutation`);
    seen[k] = 1;
    if (s && !Object.is(s[i], x[k]) && !(Number.isNaN(s[i]) && Number.isNaN(x[k]))) {
      throw new Error(`${what}: sort[${i}] = ${s[i]} but x[idx[${i}]] = ${x[k]}`);
    }
    if (i > 0) {
      const a = x[idx[i - 1]!]!;
      const b = x[k]!;
      if (lessNaNLast(b, a)) throw new Error(`${what}: out of order at ${i}: ${a} then ${b}`);
      if (!lessNaNLast(a, b) && idx[i - 1]! > k) throw new Error(`${what}: equal keys out of input order at ${i}`);
    }
  }
}

/** Values with many ties and every special: NaN, ±Infinity, ±0, subnormals. */
function specials(n: number, seed: number): Float64Array {
  const x = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s % 1000;
    x[i] = r < 20 ? NaN : r < 40 ? -0 : r < 60 ? 0 : r < 70 ? -Infinity : r < 80 ? Infinity : r < 85 ? 5e-324 * (r - 82) : ((s >>> 10) % 2001) / 8 - 125;
  }
  return x;
}

test("small arrays of every dtype match numpy's stable sort and argsort", async () => {
  for (const c of FIXTURE.sort) {
    const x = shared.from(nums(c.x), { dtype: c.dtype as "float64" });
    const s = await ops.sort(x, { engine: e2 });
    const a = await ops.argsort(x, { engine: e2 });
    assert.is(s.dtype, c.dtype, c.name);
    assert.is(a.dtype, "int32", c.name);
    const want = nums(c.sort).map((v) => (Number.isNaN(v) ? NaN : v));
    sameArray(s.data as ArrayLike<number>, want, `${c.name} sort`);
    sameArray(a.data, c.argsort, `${c.name} argsort`);
  }
});

test("2-d along either axis, including -1 by default", async () => {
  const f = FIXTURE.sort2d;
  const x = shared.from(nums(f.x), { shape: f.shape });
  for (const axis of [0, 1] as const) {
    const s = await ops.sort(x, { axis, engine: e2 });
    const a = await ops.argsort(x, { axis: axis - 2, engine: e2 });
    sameArray(s.data as ArrayLike<number>, nums(f[`sort${axis}`]), `sort axis ${axis}`);
    sameArray(a.data, f[`argsort${axis}`], `argsort axis ${axis}`);
  }
  const byDefault = await ops.argsort(x, { engine: e2 });
  sameArray(byDefault.data, f.argsort1, "default axis");
  // A transposed view sorts as its values read.
  const t = await ops.sort(x.transpose(1, 0), { axis: 1, engine: e2 });
  sameArray(t.data as ArrayLike<number>, nums(f.sort0).length ? transposed(nums(f.sort0), f.shape) : [], "transposed view");
});

function transposed(a: number[], shape: number[]): number[] {
  const [r, c] = shape as [number, number];
  const out: number[] = [];
  for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) out.push(a[i * c + j]!);
  return out;
}

test("a long lane: stable, NaN last, -0 and 0 in input order, same bits for 1, 2 and 3 threads", async () => {
  for (const n of [70_000, 250_001]) {
    const x = shared.from(specials(n, n));
    const results: Array<[NdArray, NdArray]> = [];
    for (const engine of [e1, e2, e3]) results.push([await ops.sort(x, { engine }), await ops.argsort(x, { engine })]);
    const [s, a] = results[0]!;
    checkStable(x.data as Float64Array, s.data as Float64Array, a.data as Int32Array, `n=${n}`);
    for (const [s2, a2] of results.slice(1)) {
      sameArray(s2.data as Float64Array, Array.from(s.data as Float64Array), `n=${n} sort across thread counts`);
      sameArray(a2.data as Int32Array, Array.from(a.data as Int32Array), `n=${n} argsort across thread counts`);
    }
  }
});

test("equal keys: argsort is 0..n-1 (long lane and many lanes)", async () => {
  const n = 300_000;
  const a = await ops.argsort(shared.full("float32", [n], 1.5), { engine: e3 });
  for (let i = 0; i < n; i++) if (a.data[i] !== i) assert.unreachable(`idx[${i}] = ${a.data[i]}`);
  const m = await ops.argsort(shared.full("int16", [2_000, 30], 7), { engine: e3 });
  for (let i = 0; i < m.size; i++) if (m.data[i] !== i % 30) assert.unreachable(`lane idx[${i}] = ${m.data[i]}`);
});

test("every dtype on a long lane, strided (every other element) and in lanes of a 2-d array", async () => {
  const dtypes = ["float64", "float32", "int32", "uint32", "int16", "uint16", "int8", "uint8", "uint8_clamped"] as const;
  for (const dtype of dtypes) {
    const n = 70_001;
    const base = shared.empty(dtype, [2 * n]);
    let s = 99;
    for (let i = 0; i < 2 * n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      base.data[i] = dtype.startsWith("float") ? ((s >>> 8) % 5000) / 4 - 600 : s % 100000 - (dtype.startsWith("u") ? 0 : 50000);
    }
    const view = base.step(2);
    const plain = Array.from({ length: n }, (_, i) => Number(view.get(i)));
    for (const engine of [e1, e3]) {
      const srt = await ops.sort(view, { engine });
      const idx = await ops.argsort(view, { engine });
      checkStable(plain, srt.data as ArrayLike<number>, idx.data, `${dtype} strided`);
    }
    const m = base.hi(2 * n - 2).step(1);
    const rows = shared.from(m, { shape: [1000, (2 * n - 2) / 1000] });
    for (const axis of [0, 1]) {
      const idx = await ops.argsort(rows, { axis, engine: e2 });
      const lanes = rows.shape[1 - axis]!;
      for (let l = 0; l < lanes; l += 37) {
        const lane = axis === 1 ? rows.pick(l, null) : rows.pick(null, l);
        const li = axis === 1 ? idx.pick(l, null) : idx.pick(null, l);
        const vals = Array.from({ length: lane.size }, (_, i) => Number(lane.get(i)));
        checkStable(vals, null, Array.from({ length: li.size }, (_, i) => Number(li.get(i))), `${dtype} axis ${axis} lane ${l}`);
      }
    }
  }
});

test("a few long lanes of a 2-d array sort each in parallel", async () => {
  const x = shared.from(specials(3 * 80_000, 5), { shape: [3, 80_000] });
  for (const engine of [e1, e3]) {
    const s = await ops.sort(x, { engine });
    const a = await ops.argsort(x, { engine });
    for (let r = 0; r < 3; r++) {
      const row = Array.from({ length: 80_000 }, (_, i) => x.get(r, i) as number);
      checkStable(row, (s.pick(r, null).data as Float64Array).subarray(r * 80_000, (r + 1) * 80_000), (a.data as Int32Array).subarray(r * 80_000, (r + 1) * 80_000), `row ${r}`);
    }
    // Along axis 0 of the transpose: lanes with a stride.
    const t = await ops.argsort(x.transpose(1, 0), { axis: 0, engine });
    for (let r = 0; r < 3; r++) {
      const row = Array.from({ length: 80_000 }, (_, i) => x.get(r, i) as number);
      checkStable(row, null, Array.from({ length: 80_000 }, (_, i) => t.get(i, r) as number), `transposed row ${r}`);
    }
  }
});

test("empty inputs and plain arrays", async () => {
  assert.equal((await ops.sort([], { engine: e2 })).shape, [0]);
  assert.equal((await ops.argsort(shared.zeros("float64", [0, 4]), { engine: e2 })).shape, [0, 4]);
  assert.equal((await ops.argsort(shared.zeros("float64", [4, 0]), { axis: 0, engine: e2 })).shape, [4, 0]);
  assert.equal(Array.from((await ops.sort([3, 1, 2])).data as Float64Array), [1, 2, 3]);
  assert.equal(Array.from((await ops.argsort(new Int8Array([3, -1, 2]))).data), [1, 2, 0]);
});

test("many sorts at once on one engine with more threads than cores", async () => {
  const engine = await Engine.start({ threads: 5 });
  try {
    const inputs = Array.from({ length: 12 }, (_, k) => shared.from(specials(40_000 + k * 9_001, k + 1)));
    const want = inputs.map((x) => {
      const idx = Array.from({ length: x.size }, (_, i) => i);
      const d = x.data as Float64Array;
      return idx.sort((p, q) => (lessNaNLast(d[p]!, d[q]!) ? -1 : lessNaNLast(d[q]!, d[p]!) ? 1 : p - q));
    });
    const got = await Promise.all(inputs.flatMap((x) => [ops.argsort(x, { engine }), ops.sort(x, { engine })]));
    for (let k = 0; k < inputs.length; k++) {
      sameArray(got[2 * k]!.data as Int32Array, want[k]!, `argsort ${k}`);
      const d = inputs[k]!.data as Float64Array;
      sameArray(got[2 * k + 1]!.data as Float64Array, want[k]!.map((i) => (Number.isNaN(d[i]!) ? NaN : d[i]!)), `sort ${k}`);
    }
  } finally {
    await engine.close();
  }
});

test("bad input is a SabreTypeError", async () => {
  await rejectsTyped(ops.sort(shared.zeros("float64", [3]), { axis: 1 }), SabreTypeError, /axis/);
  await rejectsTyped(ops.sort(shared.zeros("float64", [3, 2]), { axis: -3 }), SabreTypeError, /axis/);
  await rejectsTyped(ops.sort(shared.zeros("float64", [3]), { axis: 0.5 }), SabreTypeError, /axis/);
  await rejectsTyped(ops.argsort(shared.from([5]).pick(0)), SabreTypeError, /0-d/);
  await rejectsTyped(ops.sort(shared.zeros("bigint64", [3])), SabreTypeError, /bigint64/);
  await rejectsTyped(ops.sort("abc" as never), SabreTypeError, /ndarray/);
  await rejectsTyped(ops.argsort([1, 2], { kind: "stable" } as never), SabreTypeError, /unknown option "kind"/);
  const signal = AbortSignal.abort();
  await rejectsTyped(ops.sort([2, 1], { signal }), AbortError);
  await rejectsTyped(ops.argsort(shared.zeros("float64", [200_000]), { signal, engine: e2 }), AbortError);
});

test.run();
