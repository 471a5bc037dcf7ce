// Reductions over medium arrays, which live in slabs (src/memory/slab.md):
// the WebAssembly SIMD leaves run over them, on the calling thread and on
// workers, and every reduction gives the bits of the same values in a plain
// SharedArrayBuffer, whole and along axes, on 1, 2 and 3 threads.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, ops, shared, type NdArray } from "sabre";
import { ndarray } from "../../src/memory/ndarray-type.js";
import { shared as localShared } from "../../src/memory/shared.js";
import { SLAB_MIN_BYTES } from "../../src/memory/slab.js";
import { memoryOf } from "../../src/memory/wasm-memory.js";
import * as localOps from "../../src/ops/reduce.js";
import { wasmLeafStats } from "../../kernels/ops/reduce-wasm.js";

// Memories whatever the environment (under GLIBC_TUNABLES glibc.malloc.hugetlb the allocator keeps
// plain SABs by default); read at each allocation.
process.env["SABRE_WASM_MEMORY"] = "1";

function fill(d: Float64Array | Float32Array, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s / 2 ** 32;
    d[i] = (r - 0.4) * 2 ** ((i % 41) - 20) + (i % 7 === 1 ? 1e6 : 0);
  }
}

function plainCopy(x: NdArray): NdArray {
  const n = x.data.length;
  const d = x.data instanceof Float32Array ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float64Array(new SharedArrayBuffer(n * 8));
  d.set(x.data as Float64Array);
  return ndarray(d, x.shape.slice(), x.stride.slice(), x.offset);
}

const WHOLE = ["sum", "mean", "variance", "std", "min", "max", "argmin", "argmax", "nansum", "nanmean", "nanmin", "nanmax"] as const;

let engines: Engine[] = [];
test.before(async () => {
  engines = await Promise.all([1, 2, 3].map((threads) => Engine.start({ threads })));
});
test.after(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

test("the calling thread's small-input path runs the WebAssembly leaves over an array in a slab (whole, along axis 0 and 1), with the bits of the plain copy", async () => {
  const x = localShared.zeros("float32", SLAB_MIN_BYTES / 4); // 65,536 elements: the calling thread's limit
  const t = localShared.zeros("float32", [SLAB_MIN_BYTES / 4 / 32, 32]);
  assert.ok(memoryOf(x.data.buffer) !== undefined && memoryOf(t.data.buffer) !== undefined, "both in a slab");
  fill(x.data as Float32Array, 1);
  fill(t.data as Float32Array, 2);
  for (const [name, opts] of [["sum", undefined], ["mean", undefined], ["sum", { signal: new AbortController().signal }], ["variance", undefined], ["std", undefined]] as const) {
    const before = wasmLeafStats.blocks;
    const got = await localOps[name](x, opts);
    assert.ok(wasmLeafStats.blocks - before >= 64, `${name}: the WebAssembly leaf ran on the calling thread`);
    assert.ok(Object.is(got, await localOps[name](plainCopy(x))), `${name} bits`);
  }
  for (const axis of [0, 1]) {
    for (const name of ["sum", "mean", "variance", "std"] as const) {
      const before = wasmLeafStats.tiles;
      const got = (await localOps[name](t, { axis })).data as Float64Array;
      assert.ok(wasmLeafStats.tiles > before, `${name} along axis ${axis}: the WebAssembly tile or row leaf ran on the calling thread`);
      const want = (await localOps[name](plainCopy(t), { axis })).data as Float64Array;
      assert.ok(got.every((v, i) => Object.is(v, want[i])), `${name} along axis ${axis} bits`);
    }
  }
});

test("every whole-array reduction over medium arrays in slabs gives the plain copy's bits, on 1, 2 and 3 threads, float64 and float32, sizes across a slab", async () => {
  for (const dtype of ["float64", "float32"] as const) {
    for (const n of [SLAB_MIN_BYTES / (dtype === "float64" ? 8 : 4), 100_000, 1_000_000, 1_500_003]) {
      const x = shared.zeros(dtype, n);
      assert.ok(shared.wasmMemory(x) !== undefined, `${dtype} ${n}: in a slab`);
      fill(x.data as Float64Array | Float32Array, n);
      (x.data as Float64Array)[n >> 1] = NaN;
      const y = plainCopy(x);
      for (const name of WHOLE) {
        const want = await ops[name](y, { engine: engines[0]! });
        for (const engine of engines) {
          const got = await ops[name](x, { engine });
          assert.ok(Object.is(got, want), `${name} of ${dtype} ${n} on ${engines.indexOf(engine) + 1} threads: ${got} vs ${want}`);
        }
      }
      (x.data as Float64Array)[n >> 1] = 1;
      (y.data as Float64Array)[n >> 1] = 1;
      for (const name of ["sum", "mean", "variance", "std"] as const) {
        for (const view of [(a: NdArray) => a, (a: NdArray) => a.lo(3), (a: NdArray) => a.step(-1)]) {
          const want = await ops[name](view(y), { engine: engines[0]! });
          for (const engine of engines) assert.ok(Object.is(await ops[name](view(x), { engine }), want), `${name} of a ${dtype} view`);
        }
      }
    }
  }
});

test("reductions along axis 0 and 1 of medium tables in slabs give the plain copy's bits, on 1, 2 and 3 threads", async () => {
  for (const [dtype, rows, cols] of [["float32", 40_000, 24], ["float64", 20_001, 25], ["float32", 3_000, 130], ["float64", 125_000, 8]] as const) {
    const x = shared.zeros(dtype, [rows, cols]);
    assert.ok(shared.wasmMemory(x) !== undefined, `${dtype} [${rows}, ${cols}]: in a slab`);
    fill(x.data as Float64Array | Float32Array, rows + cols);
    const y = plainCopy(x);
    for (const name of ["sum", "mean", "variance", "std", "min", "nanmean", "argmax"] as const) {
      for (const axis of [0, 1]) {
        const want = (await ops[name](y, { axis, engine: engines[0]! })).data as Float64Array;
        for (const engine of engines) {
          const got = (await ops[name](x, { axis, engine })).data as Float64Array;
          for (let i = 0; i < got.length; i++) {
            if (!Object.is(got[i], want[i])) assert.unreachable(`${name} of ${dtype} [${rows}, ${cols}] along ${axis} on ${engines.indexOf(engine) + 1} threads: element ${i} is ${got[i]} vs ${want[i]}`);
          }
        }
      }
    }
  }
});

test("many arrays in one slab share its scratch pages: 30 axis-1 variances over 10 arrays on 2 and 3 threads grow the slab by at most a page per thread", async () => {
  const xs = Array.from({ length: 10 }, (_, k) => {
    const x = shared.zeros("float32", [20_000, 24]);
    fill(x.data as Float32Array, 100 + k);
    return x;
  });
  // The ten may straddle two slabs: watch the one that holds most of them.
  const count = (x: NdArray) => xs.filter((y) => shared.wasmMemory(y) === shared.wasmMemory(x)).length;
  const memory = shared.wasmMemory(count(xs[0]!) >= count(xs[9]!) ? xs[0]! : xs[9]!)!;
  assert.ok(xs.filter((x) => shared.wasmMemory(x) === memory).length >= 5, "several arrays in one slab");
  const wants = await Promise.all(xs.map(async (x) => (await ops.variance(plainCopy(x), { axis: 1, engine: engines[0]! })).data as Float64Array));
  const pages = memory.buffer.byteLength / 65536;
  for (const engine of engines.slice(1)) {
    for (let r = 0; r < 3; r++) {
      for (let k = 0; k < xs.length; k++) {
        const got = (await ops.variance(xs[k]!, { axis: 1, engine })).data as Float64Array;
        assert.ok(got.every((v, i) => Object.is(v, wants[k]![i])), `array ${k}, round ${r}`);
      }
    }
  }
  const grown = memory.buffer.byteLength / 65536 - pages;
  assert.ok(grown <= 6, `grew by ${grown} pages`);
});

test("an axis reduction's out beside x in one slab is no alias (byte ranges decide, not buffers); an out inside x still is", async () => {
  const x = shared.zeros("float64", [40_000, 8]);
  const out = shared.zeros("float64", [40_000]);
  assert.ok(shared.wasmMemory(out) === shared.wasmMemory(x) && out.data.buffer === x.data.buffer, "one slab, one buffer");
  fill(x.data as Float64Array, 77);
  const got = await ops.mean(x, { axis: 1, out, engine: engines[1]! });
  const want = (await ops.mean(plainCopy(x), { axis: 1, engine: engines[0]! })).data as Float64Array;
  assert.ok(got === out && out.data.every((v, i) => Object.is(v, want[i])));
  const inside = shared.zeros("float64", [41_000, 8]);
  await ops.mean(inside.hi(40_000, 8), { axis: 1, out: ndarray(inside.data, [40_000], [1], 320_000), engine: engines[1]! }).then(
    () => assert.unreachable("an out inside x was accepted"),
    (e: unknown) => assert.ok(e instanceof Error && /share memory/.test(e.message), String(e)),
  );
});

test.run();
