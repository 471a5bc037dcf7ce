// The WebAssembly SIMD inner loops of matmul give the same bits as the JS
// micro-kernel (both: products rounded, added in k order, no FMA).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { shared, type NdArray } from "sabre";
import { MC, matmulBlocks, matmulUsesWasm } from "../../kernels/ops/matmul-blocked.js";
import { matmulWasmBytes } from "../../kernels/ops/matmul-wasm.js";

function randomMatrix(rows: number, cols: number, seed: number): NdArray {
  const a = shared.zeros("float64", [rows, cols]);
  let s = seed >>> 0;
  for (let i = 0; i < rows * cols; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a.data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

test("the generated module validates and Node runs it", () => {
  const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  assert.ok(wasm.validate(matmulWasmBytes()));
  assert.ok(matmulUsesWasm(), "Node >= 20 has WebAssembly SIMD: the JS fallback should not be in use");
});

test("WebAssembly and JS kernels agree bit for bit, off the block grid and on views, NaN included", () => {
  for (const [m, k, n] of [[67, 259, 130], [130, 600, 270], [1, 7, 1], [4, 4, 4]] as const) {
    const a = randomMatrix(m, k, m + 1);
    const b = randomMatrix(n, k, n + 2).transpose(1, 0);
    a.set(0, 0, NaN);
    const c1 = shared.zeros("float64", [m, n]);
    const c2 = shared.zeros("float64", [m, n]);
    const blocks = Math.ceil(m / MC);
    matmulBlocks({ a, b, c: c1, rows: MC }, 0, blocks, true);
    matmulBlocks({ a, b, c: c2, rows: MC }, 0, blocks, false);
    assert.ok(Buffer.from(c1.data.buffer).equals(Buffer.from(c2.data.buffer)), `${m}x${k}x${n}`);
    assert.ok(Number.isNaN(c1.get(0, 0)));
  }
});

test("the float32 kernel sums in float32: the same bits as a Math.fround emulation of its order", () => {
  const f = Math.fround;
  const [m, k, n] = [37, 300, 21];
  const a = shared.zeros("float32", [m, k]);
  const b = shared.zeros("float32", [k, n]);
  for (let i = 0; i < a.size; i++) a.data[i] = Math.sin(i) * 3;
  for (let i = 0; i < b.size; i++) b.data[i] = Math.cos(i * 0.7);
  const c = shared.zeros("float32", [m, n]);
  matmulBlocks({ a, b, c, rows: MC }, 0, 1, true);
  for (const [i, j] of [[0, 0], [36, 20], [5, 9]] as const) {
    let total = 0;
    for (let p0 = 0; p0 < k; p0 += 256) {
      let acc = 0;
      for (let p = p0; p < Math.min(k, p0 + 256); p++) acc = f(acc + f((a.get(i, p) as number) * (b.get(p, j) as number)));
      total = f(total + acc);
    }
    assert.is(c.get(i, j), total, `(${i}, ${j})`);
  }
});

test.run();
