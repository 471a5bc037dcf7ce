// ops.dot and ops.matmul against numpy (linalg-numpy.json, written by
// linalg-numpy.py), a naive triple loop, closed forms, views and bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { AbortError, Engine, SabreTypeError, ops, shared, type NdArray } from "sabre";
import { rejectsTyped } from "../helpers.js";

const np = JSON.parse(readFileSync(new URL("../../../test/ops/linalg-numpy.json", import.meta.url), "utf8")) as Record<string, number[] | number>;
const arr = (key: string): number[] => np[key] as number[];

function close(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w)) assert.ok(Number.isNaN(g), `${what}[${i}]: ${g}, want NaN`);
    else assert.ok(g === w || Math.abs(g - w) <= rel * Math.max(1, Math.abs(w)), `${what}[${i}]: ${g}, want ${w}`);
  }
}

function randomMatrix(rows: number, cols: number, seed: number, dtype: "float64" | "float32" = "float64"): NdArray {
  const a = shared.zeros(dtype, [rows, cols]);
  let s = seed >>> 0;
  for (let i = 0; i < rows * cols; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a.data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

/** Row-major product by the textbook loop, through get() (any strides). */
function naive(a: NdArray, b: NdArray): Float64Array {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a.get(i, p) as number) * (b.get(p, j) as number);
      out[i * n + j] = s;
    }
  return out;
}

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 2 });
});
test.after(async () => {
  await engine.close();
});

test("dot and matmul give numpy's answers (1-D.1-D, 2-D.1-D, 1-D.2-D, 2-D.2-D, A A^T, int32, float32)", async () => {
  const A = shared.from(arr("A"), { shape: [5, 7] });
  const B = shared.from(arr("B"), { shape: [7, 3] });
  const v = shared.from(arr("v"));
  const w = shared.from(arr("w"));
  const AB = await ops.matmul(A, B, { engine });
  assert.equal(AB.shape, [5, 3]);
  close(AB.data as Float64Array, arr("AB"), 1e-14, "A@B");
  close(((await ops.dot(A, B, { engine })) as NdArray).data as Float64Array, arr("AB"), 1e-14, "dot(A, B)");
  close(((await ops.dot(A, v, { engine })) as NdArray).data as Float64Array, arr("Av"), 1e-14, "A.v");
  close(((await ops.dot(w, A, { engine })) as NdArray).data as Float64Array, arr("wA"), 1e-14, "w.A");
  const vv = await ops.dot(v, v, { engine });
  assert.is(typeof vv, "number");
  close([vv as number], [np.vv as number], 1e-14, "v.v");
  close((await ops.matmul(A, A.transpose(1, 0), { engine })).data as Float64Array, arr("AAt"), 1e-14, "A@A.T");
  const IJ = await ops.matmul(new Int32Array(arr("I")) as unknown as number[], [[0]], { engine }).catch((e: unknown) => e);
  assert.instance(IJ, SabreTypeError); // a 1-D typed array is not a matrix
  const I = shared.from(new Int32Array(arr("I")), { shape: [4, 6] });
  const J = shared.from(new Int32Array(arr("J")), { shape: [6, 2] });
  const ij = await ops.matmul(I, J, { engine });
  assert.is(ij.dtype, "float64");
  assert.equal([...(ij.data as Float64Array)], arr("IJ"));
  const ab32 = await ops.matmul(shared.from(A, { dtype: "float32" }), shared.from(B, { dtype: "float32" }), { engine });
  assert.is(ab32.dtype, "float32");
  close(ab32.data as Float32Array, arr("AB32"), 4e-7, "float32");
});

test("closed forms: identity, ones, and sizes off the block grid against the textbook loop", async () => {
  const n = 37;
  const eye = shared.zeros("float64", [n, n]);
  for (let i = 0; i < n; i++) eye.set(i, i, 1);
  const B = randomMatrix(n, 53, 3);
  assert.equal([...(await ops.matmul(eye, B, { engine })).data], [...B.data]);
  const ones = shared.full("float64", [70, 300], 1);
  const onesT = shared.full("float64", [300, 90], 1);
  const c = await ops.matmul(ones, onesT, { engine });
  assert.ok((c.data as Float64Array).every((x) => x === 300));
  for (const [m, k, nn] of [[67, 259, 130], [1, 513, 5], [130, 3, 1], [5, 1, 9]] as const) {
    const a = randomMatrix(m, k, m + k);
    const b = randomMatrix(k, nn, k + nn);
    close((await ops.matmul(a, b, { engine })).data as Float64Array, naive(a, b), 1e-13, `${m}x${k}x${nn}`);
  }
});

test("transposed, reversed and sliced views, and integer dtypes", async () => {
  const base = randomMatrix(150, 220, 9);
  const a = base.transpose(1, 0).step(-1, 2); // [220, 75]
  const b = randomMatrix(160, 75, 4).transpose(1, 0).hi(75, 150); // [75, 150]
  close((await ops.matmul(a, b, { engine })).data as Float64Array, naive(a, b), 1e-13, "views");
  const g = await ops.matmul(base, base.transpose(1, 0), { engine });
  close(g.data as Float64Array, naive(base, base.transpose(1, 0)), 1e-13, "A A^T");
  for (let i = 0; i < 150; i += 37) for (let j = 0; j < 150; j += 41) assert.is(g.get(i, j), g.get(j, i), "A A^T is symmetric bit for bit");
  const u8 = shared.zeros("uint8", [40, 90]);
  for (let i = 0; i < u8.size; i++) u8.data[i] = (i * 7) % 256;
  const i16 = shared.zeros("int16", [90, 60]);
  for (let i = 0; i < i16.size; i++) i16.data[i] = ((i * 13) % 500) - 250;
  const r = await ops.matmul(u8, i16, { engine });
  assert.is(r.dtype, "float64");
  assert.equal([...(r.data as Float64Array)], [...naive(u8, i16)]);
});

/**
 * The float32 product as the kernel defines it: per element, each k-block of
 * KC = 256 summed in float32 from 0 in k order (products rounded to float32),
 * the block sums added in order in float32.
 */
function float32Reference(a: NdArray, b: NdArray): Float32Array {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const f = Math.fround;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let total = 0;
      for (let p0 = 0; p0 < k; p0 += 256) {
        let acc = 0;
        for (let p = p0; p < Math.min(k, p0 + 256); p++) acc = f(acc + f((a.get(i, p) as number) * (b.get(p, j) as number)));
        total = f(total + acc);
      }
      out[i * n + j] = total;
    }
  return out;
}

test("float32 products sum in float32 as numpy's sgemm, in the kernel's fixed order (bit for bit), on any thread count", async () => {
  const a32 = randomMatrix(90, 600, 1, "float32");
  const b32 = randomMatrix(700, 70, 2, "float32").hi(600, 70);
  const want = float32Reference(a32, b32);
  for (const threads of [1, 2, 3]) {
    const e = await Engine.start({ threads });
    try {
      const c32 = await ops.matmul(a32, b32.transpose(1, 0).transpose(1, 0), { engine: e });
      assert.is(c32.dtype, "float32");
      assert.equal([...(c32.data as Float32Array)], [...want], `threads ${threads}`);
    } finally {
      await e.close();
    }
  }
  const c64 = await ops.matmul(shared.from(a32, { dtype: "float64" }), shared.from(b32, { dtype: "float64" }), { engine });
  close(want, c64.data as Float64Array, 2e-5, "float32 vs float64 sums");
});

test("matmul and dot do not depend on the thread count (1, 2, 3 threads, bit for bit)", async () => {
  const a = randomMatrix(301, 611, 5);
  const b = randomMatrix(611, 203, 6).transpose(1, 0).transpose(1, 0);
  const v = randomMatrix(1, 200_003, 8).pick(0);
  const w = randomMatrix(1, 200_003, 9).pick(0).step(-1);
  const results: Array<{ c: Buffer; mv: Buffer; d: number }> = [];
  for (const threads of [1, 2, 3]) {
    const e = await Engine.start({ threads });
    try {
      const c = await ops.matmul(a, b, { engine: e });
      const mv = (await ops.dot(randomMatrix(400, 611, 11), a.pick(0), { engine: e })) as NdArray;
      const d = (await ops.dot(v, w, { engine: e })) as number;
      // A medium array may be a region of a slab (src/memory/slab.md): its bytes start at byteOffset.
      results.push({ c: Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength), mv: Buffer.from(mv.data.buffer, mv.data.byteOffset, mv.data.byteLength), d });
    } finally {
      await e.close();
    }
  }
  for (const r of results.slice(1)) {
    assert.ok(r.c.equals(results[0]!.c), "matmul bits");
    assert.ok(r.mv.equals(results[0]!.mv), "matvec bits");
    assert.ok(Object.is(r.d, results[0]!.d), "dot bits");
  }
  let s = 0;
  for (let i = 0; i < 200_003; i++) s += (v.get(i) as number) * (w.get(i) as number);
  close([results[0]!.d], [s], 1e-10, "dot value");
});

test("NaN and infinities propagate as in numpy", async () => {
  const a = randomMatrix(80, 90, 1);
  const b = shared.full("float64", [90, 70], 0.5);
  a.set(3, 10, NaN);
  a.set(50, 0, Infinity);
  const c = await ops.matmul(a, b, { engine });
  for (let j = 0; j < 70; j++) {
    assert.ok(Number.isNaN(c.get(3, j)), `row 3 col ${j} NaN`);
    assert.is(c.get(50, j), Infinity);
    assert.ok(Number.isFinite(c.get(4, j)));
  }
  assert.ok(Number.isNaN(await ops.dot([1, Infinity], [0, 1], { engine }) as number) === false);
  assert.ok(Number.isNaN((await ops.dot([Infinity, 1], [0, 1], { engine })) as number)); // inf * 0, as numpy
});

test("empty operands: empty results, or zeros when the inner dimension is 0", async () => {
  assert.equal((await ops.matmul(shared.zeros("float64", [0, 5]), shared.zeros("float64", [5, 3]), { engine })).shape, [0, 3]);
  const z = await ops.matmul(shared.zeros("float64", [3, 0]), shared.zeros("float64", [0, 2]), { engine });
  assert.equal(z.shape, [3, 2]);
  assert.equal([...z.data], [0, 0, 0, 0, 0, 0]);
  assert.is(await ops.dot([], [], { engine }), 0);
});

test("concurrent products on one engine", async () => {
  const as = Array.from({ length: 6 }, (_, i) => randomMatrix(120, 150, i + 1));
  const b = randomMatrix(150, 80, 99);
  const rs = await Promise.all(as.map((a) => ops.matmul(a, b, { engine })));
  rs.forEach((r, i) => close(r.data as Float64Array, naive(as[i]!, b), 1e-13, `product ${i}`));
});

test("bad shapes, ranks, dtypes and options are SabreTypeError", async () => {
  const a = shared.zeros("float64", [3, 4]);
  await rejectsTyped(ops.matmul(a, shared.zeros("float64", [3, 4])), SabreTypeError, /shape \[3, 4\] and b of shape \[3, 4\] are not aligned \(4 != 3\)/);
  await rejectsTyped(ops.dot([1, 2, 3], [1, 2], { engine }), SabreTypeError, /not aligned/);
  await rejectsTyped(ops.dot(a, [1, 2, 3], { engine }), SabreTypeError, /not aligned/);
  await rejectsTyped(ops.matmul([1, 2, 3], a, { engine }), SabreTypeError, /a must be 2-D, got shape \[3\]/);
  await rejectsTyped(ops.dot(shared.zeros("float64", [2, 2, 2]), a, { engine }), SabreTypeError, /1-D or 2-D/);
  await rejectsTyped(ops.matmul(shared.zeros("bigint64", [2, 2]), a, { engine }), SabreTypeError, /bigint64/);
  await rejectsTyped(ops.matmul(a, "x" as unknown as number[], { engine }), SabreTypeError, /b must be/);
  await rejectsTyped(ops.matmul(a, a.transpose(1, 0), { engine, axis: 0 } as never), SabreTypeError, /unknown option "axis"/);
  const ac = new AbortController();
  ac.abort();
  await rejectsTyped(ops.matmul(a, a.transpose(1, 0), { engine, signal: ac.signal }), AbortError);
  await rejectsTyped(ops.matmul(randomMatrix(200, 200, 1), randomMatrix(200, 200, 2), { engine, signal: ac.signal }), AbortError);
});

test.run();
