// The WebAssembly SIMD leaves of whole-array sums and moments
// (kernels/ops/reduce-wasm.ts), which run over arrays that live in a shared
// WebAssembly.Memory, against the JS leaves on the same values in a plain
// SharedArrayBuffer: the same bits, on the calling thread and on 1, 2 and 3
// workers, for float64 and float32, views, NaN and infinities.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, ops, shared, type NdArray } from "sabre";
import { ndarray } from "../../src/memory/ndarray-type.js";
import { shared as localShared } from "../../src/memory/shared.js";
import { WASM_MEMORY_MIN_BYTES } from "../../src/memory/wasm-memory.js";
import { BLOCK, GROUP, WIDTH, tree, type KernelOp } from "../../src/ops/reduce-core.js";
import { lanesRange, tileCounts, tilesRange, wholeChunk, type AxisArgs, type WholeArgs } from "../../src/ops/reduce-run.js";
import { wasmLeafStats } from "../../kernels/ops/reduce-wasm.js";

// Memories whatever the environment (under GLIBC_TUNABLES glibc.malloc.hugetlb the allocator keeps
// plain SABs by default); read at each allocation.
process.env["SABRE_WASM_MEMORY"] = "1";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Values whose float64 sums round (magnitudes 2^-20 .. 2^20, both signs), so
 * that the order of the additions shows in the bits; with `offset`, 1e6 on
 * every 7th (large partials: the variance's shift must cancel it).
 */
function fill(d: Float64Array | Float32Array, seed: number, offset: boolean): void {
  const r = lcg(seed);
  for (let i = 0; i < d.length; i++) d[i] = (r() - 0.4) * 2 ** (r() * 40 - 20) + (offset && i % 7 === 1 ? 1e6 : 0);
}

/** A plain-SAB copy (no Memory: the JS leaves run on it). */
function plainCopy(x: NdArray): NdArray {
  const n = x.data.length;
  const d = x.data instanceof Float32Array ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float64Array(new SharedArrayBuffer(n * 8));
  d.set(x.data as Float64Array);
  return ndarray(d, x.shape.slice(), x.stride.slice(), x.offset);
}

function reduceWhole(op: KernelOp, data: Float64Array | Float32Array, offset: number, n: number): number[] {
  const w = WIDTH[op];
  const nBlocks = Math.ceil(n / BLOCK);
  const nChunks = Math.ceil(nBlocks / GROUP);
  const part = new Float64Array(nChunks * w);
  const a: WholeArgs = { op, data, n, offset, shape: [n], stride: [1] };
  for (let ch = 0; ch < nChunks; ch++) wholeChunk(a, ch * GROUP, Math.min(nBlocks, (ch + 1) * GROUP), part, ch * w);
  tree(op, part, 0, nChunks);
  return [...part.subarray(0, w)];
}

test("the WebAssembly leaves give the JS leaves' bits (sum and moments, float64 and float32, offsets, partial blocks, NaN and infinities)", () => {
  for (const dtype of ["float64", "float32"] as const) {
    const n = (WASM_MEMORY_MIN_BYTES / (dtype === "float64" ? 8 : 4)) + 777;
    const x = localShared.zeros(dtype, [n]);
    assert.ok(localShared.wasmMemory(x) !== undefined);
    const xd = x.data as Float64Array | Float32Array;
    fill(xd, dtype === "float64" ? 1 : 2, false);
    const y = plainCopy(x).data as Float64Array | Float32Array;
    for (const op of ["sum", "moments"] as const) {
      for (const [off, len] of [[0, n], [1, n - 1], [13, 200_000], [5, 1000], [0, BLOCK], [3, BLOCK * GROUP + 1]] as const) {
        const before = wasmLeafStats.blocks;
        const got = reduceWhole(op, xd, off, len);
        const want = reduceWhole(op, y, off, len);
        assert.equal(got, want, `${dtype} ${op} at ${off} of ${len}`);
        if (len >= BLOCK) assert.ok(wasmLeafStats.blocks - before >= Math.floor(len / BLOCK), `${dtype} ${op}: the WebAssembly leaf ran`);
        else assert.is(wasmLeafStats.blocks, before, "a partial block alone takes the JS leaf");
      }
    }
    // NaN and infinities inside whole blocks propagate as the JS leaf's.
    for (const [at, v] of [[5000, Infinity], [9000, -Infinity], [123_456, NaN]] as const) {
      xd[at] = v;
      y[at] = v;
      for (const op of ["sum", "moments"] as const) {
        const got = reduceWhole(op, xd, 0, n);
        const want = reduceWhole(op, y, 0, n);
        for (let j = 0; j < got.length; j++) assert.ok(Object.is(got[j], want[j]), `${dtype} ${op} with ${v} at ${at}: ${got[j]} vs ${want[j]}`);
      }
      xd[at] = 1;
      y[at] = 1;
    }
  }
});

test("the WebAssembly tile and group leaves (axis 0 of a float32 or float64 table) give the JS tile leaves' bits: odd lane counts, reversed rows, a partial last group and block", () => {
  const R = 200_003, C = 24;
  for (const dtype of ["float32", "float64"] as const) {
    const x = localShared.zeros(dtype, [R, C]);
    assert.ok(localShared.wasmMemory(x) !== undefined);
    const xd = x.data as Float32Array | Float64Array;
    fill(xd, 5, dtype === "float64");
    xd[1000] = Infinity;
    xd[50_001] = NaN;
    const y = plainCopy(x).data as Float32Array | Float64Array;
    for (const name of ["sum", "mean", "variance", "std"] as const) {
      for (const [sa, offset, lanes] of [[C, 0, C], [C, 1, C - 1], [-C, (R - 1) * C, C], [C, 3, 5], [C, 0, 1]] as const) {
        const args = (data: Float32Array | Float64Array): AxisArgs => ({ name, ddof: 0, data, m: R, sa, outer: { offset, shape: [lanes], stride: [1] } });
        const { groups, colTiles } = tileCounts(R, lanes);
        const w = name === "variance" || name === "std" ? 3 : 1;
        const got = new Float64Array(lanes * groups * w);
        const want = new Float64Array(lanes * groups * w);
        const before = wasmLeafStats.tiles;
        tilesRange(args(xd), got, 0, groups * colTiles);
        assert.ok(wasmLeafStats.tiles > before, `${name} ${lanes} lanes: the WebAssembly tile leaf ran`);
        tilesRange(args(y), want, 0, groups * colTiles);
        for (let i = 0; i < got.length; i++) {
          if (!Object.is(got[i], want[i])) assert.unreachable(`${dtype} ${name}, ${lanes} lanes from ${offset}, row step ${sa}: partial ${i} is ${got[i]} vs ${want[i]}`);
        }
      }
    }
  }
});

test("the JS float64 tile leaf (lanes one strided walk) gives the generic leaf's bits (lanes that are not one walk), a partial last group and block", () => {
  const R = 5_003;
  const flat = new Float64Array(new SharedArrayBuffer(R * 24 * 8));
  fill(flat, 11, true);
  flat[777] = NaN;
  flat[4242] = -Infinity;
  // The same values as lanes (i, j) of an [R, 2, 16] table cut to [R, 2, 12]: outer strides [16, 1] do not merge.
  const wide = new Float64Array(new SharedArrayBuffer(R * 32 * 8));
  for (let r = 0; r < R; r++) for (let l = 0; l < 24; l++) wide[r * 32 + Math.floor(l / 12) * 16 + (l % 12)] = flat[r * 24 + l]!;
  for (const name of ["sum", "mean", "variance", "std"] as const) {
    const { groups, colTiles } = tileCounts(R, 24);
    const w = name === "variance" || name === "std" ? 3 : 1;
    const got = new Float64Array(24 * groups * w);
    const want = new Float64Array(24 * groups * w);
    tilesRange({ name, ddof: 0, data: flat, m: R, sa: 24, outer: { offset: 0, shape: [24], stride: [1] } }, got, 0, groups * colTiles);
    tilesRange({ name, ddof: 0, data: wide, m: R, sa: 32, outer: { offset: 0, shape: [2, 12], stride: [16, 1] } }, want, 0, groups * colTiles);
    for (let i = 0; i < got.length; i++) {
      if (!Object.is(got[i], want[i])) assert.unreachable(`${name}: partial ${i} is ${got[i]} vs ${want[i]}`);
    }
  }
});

test("the WebAssembly row leaves (axis 1, rows of at most 128 float32) give the JS row loop's bits: tails, one-element rows, offsets, NaN and infinities", () => {
  for (const C of [24, 7, 128, 1, 19]) {
    const R = Math.ceil((WASM_MEMORY_MIN_BYTES / 4 + 1000) / C);
    const x = localShared.zeros("float32", [R, C]);
    assert.ok(localShared.wasmMemory(x) !== undefined);
    const xd = x.data as Float32Array;
    fill(xd, C, false);
    xd[100] = NaN;
    xd[5000] = Infinity;
    xd[7001] = -Infinity;
    const y = plainCopy(x).data as Float32Array;
    for (const name of ["sum", "mean", "variance", "std"] as const) {
      for (const [offset, m] of [[0, C], [1, C - 1]] as const) {
        if (m < 1) continue;
        const args = (data: Float32Array): AxisArgs => ({ name, ddof: name === "std" ? 1 : 0, data, m, sa: 1, outer: { offset, shape: [R], stride: [C] } });
        const got = new Float64Array(R);
        const want = new Float64Array(R);
        const before = wasmLeafStats.tiles;
        lanesRange(args(xd), got, 0, R);
        assert.ok(wasmLeafStats.tiles > before, `${name} of rows of ${m}: the WebAssembly row leaf ran`);
        lanesRange(args(y), want, 0, R);
        for (let i = 0; i < R; i++) {
          if (!Object.is(got[i], want[i])) assert.unreachable(`${name} of rows of ${m} from ${offset}: row ${i} is ${got[i]} vs ${want[i]}`);
        }
      }
    }
  }
});

let engines: Engine[] = [];
test.before(async () => {
  engines = await Promise.all([1, 2, 3].map((threads) => Engine.start({ threads })));
});
test.after(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

test("ops.sum/mean/variance/std over a Memory-backed array: the bits of the plain copy, on 1, 2 and 3 threads, views", async () => {
  for (const dtype of ["float64", "float32"] as const) {
    const n = WASM_MEMORY_MIN_BYTES / (dtype === "float64" ? 8 : 4) + 4096 * 3;
    const x = shared.zeros(dtype, [n / 4096, 4096]);
    assert.ok(shared.wasmMemory(x) !== undefined);
    fill(x.data as Float64Array | Float32Array, dtype === "float64" ? 3 : 4, dtype === "float32");
    const y = plainCopy(x);
    const views: [string, (a: NdArray) => NdArray][] = [
      ["whole", (a) => a],
      ["offset rows", (a) => a.lo(1, 0)],
      ["reversed", (a) => a.step(-1, -1)],
      ["transposed", (a) => a.transpose(1, 0)],
      ["stepped (strided: JS on both)", (a) => a.step(1, 2)],
    ];
    for (const [label, view] of views) {
      for (const name of ["sum", "mean", "variance", "std"] as const) {
        const want = await ops[name](view(y), { engine: engines[0]! });
        for (const engine of engines) {
          const got = await ops[name](view(x), { engine });
          assert.ok(Object.is(got, want), `${name} of ${label} ${dtype} on ${engines.indexOf(engine) + 1} threads: ${got} vs ${want}`);
        }
      }
    }
    // A huge value (its square overflows: variance Infinity), then a NaN, on both copies.
    for (const v of [dtype === "float64" ? 1e300 : 3e38, NaN]) {
      (x.data as Float64Array)[77_777] = v;
      (y.data as Float64Array)[77_777] = v;
      for (const name of ["sum", "variance"] as const) {
        const want = await ops[name](y, { engine: engines[0]! });
        const got = await ops[name](x, { engine: engines[1]! });
        assert.ok(Object.is(got, want), `${name} of ${dtype} with ${v}: ${got} vs ${want}`);
      }
    }
  }
});

/**
 * Every axis reduction of x (a Memory-backed table) along `axes`, on each
 * engine and through views, must give the bits of the same on its plain copy.
 */
async function sameBitsAsPlainCopy(x: NdArray, axes: readonly number[]): Promise<void> {
  const y = plainCopy(x);
  const views: [string, (a: NdArray) => NdArray][] = [
    ["table", (a) => a],
    ["columns 1..", (a) => a.lo(0, 1)],
    ["reversed rows", (a) => a.step(-1, 1)],
  ];
  for (const [label, view] of views) {
    for (const name of ["sum", "mean", "variance", "std"] as const) {
      for (const axis of axes) {
        const opts = { axis, ...(name === "std" ? { ddof: 1 } : {}) };
        const want = (await ops[name](view(y), { ...opts, engine: engines[0]! })).data as Float64Array;
        for (const engine of engines) {
          const got = (await ops[name](view(x), { ...opts, engine })).data as Float64Array;
          assert.is(got.length, want.length);
          for (let i = 0; i < got.length; i++) {
            if (!Object.is(got[i], want[i])) assert.unreachable(`${name}(${label}, axis ${axis}) on ${engines.indexOf(engine) + 1} threads: element ${i} is ${got[i]} vs ${want[i]}`);
          }
        }
      }
    }
  }
}

test("ops along axis 0 and 1 of a Memory-backed float32 table: the bits of the plain copy, on 1, 2 and 3 threads, views", async () => {
  const x = shared.zeros("float32", [180_001, 24]);
  assert.ok(shared.wasmMemory(x) !== undefined);
  fill(x.data as Float32Array, 6, true);
  await sameBitsAsPlainCopy(x, [0, 1]);
});

test("ops along axis 0 of a Memory-backed float64 table (the group and tile leaves): the bits of the plain copy, on 1, 2 and 3 threads, views", async () => {
  const x = shared.zeros("float64", [90_001, 25]);
  assert.ok(shared.wasmMemory(x) !== undefined);
  fill(x.data as Float64Array, 8, true);
  await sameBitsAsPlainCopy(x, [0]);
});

test("a Memory revived by every call is recognised: 40 calls on 2 and 3 threads grow its memory by at most one scratch page per thread", async () => {
  const x = shared.zeros("float32", [200_000, 24]);
  const memory = shared.wasmMemory(x)!;
  fill(x.data as Float32Array, 9, false);
  const y = plainCopy(x);
  const want0 = (await ops.mean(y, { axis: 0, engine: engines[0]! })).data as Float64Array;
  const want1 = (await ops.variance(y, { axis: 1, engine: engines[0]! })).data as Float64Array;
  const pages = memory.buffer.byteLength / 65536;
  for (const engine of engines.slice(1)) {
    // Each call sends fresh args (a new partials or output array), so each revives the Memory again.
    for (let i = 0; i < 20; i++) {
      const got0 = (await ops.mean(x, { axis: 0, engine })).data as Float64Array;
      const got1 = (await ops.variance(x, { axis: 1, engine })).data as Float64Array;
      assert.ok(got0.every((v, j) => Object.is(v, want0[j])), "mean along axis 0");
      assert.ok(got1.every((v, j) => Object.is(v, want1[j])), "variance along axis 1");
    }
  }
  // Worker threads of the 2- and 3-thread engines (and the calling thread) at most: 6 pages, not 80.
  assert.ok(memory.buffer.byteLength / 65536 - pages <= 6, `grew by ${memory.buffer.byteLength / 65536 - pages} pages`);
});

test.run();
