// Medium user arrays share slabs (src/memory/slab.ts, slab.md): where they
// are placed, that arrays in one slab never overlap (on the main thread and
// in workers, whose writes land where the main thread reads), that a loop
// making and dropping many of them stays bounded, the fallback to plain SABs,
// and bad sizes. This file's own copy of the allocator (src imports) is used
// where its state is read; arrays from it travel to workers as any other.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, deserialize, serialize, shared as pub } from "sabre";
import { SabreTypeError } from "../../src/errors.js";
import { shared, sharesMemory } from "../../src/memory/shared.js";
import { SLAB_ALIGN, SLAB_BYTES, SLAB_MIN_BYTES, slabState } from "../../src/memory/slab.js";
import { WASM_MEMORY_MIN_BYTES, memoryOf, wasmMemoryState } from "../../src/memory/wasm-memory.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { fixture, throwsTyped } from "../helpers.js";

// Memories whatever the environment (under GLIBC_TUNABLES glibc.malloc.hugetlb the allocator keeps
// plain SABs by default); read at each allocation.
process.env["SABRE_WASM_MEMORY"] = "1";

function pattern(k: number, i: number, side: number): number {
  return ((k * 7919 + i * 31 + side * 104_729) % 65_521) + 1;
}

test("medium arrays (256 KiB up to 16 MiB) are regions of a shared slab, 64-byte aligned; smaller ones plain SABs, larger ones a Memory of their own", () => {
  slabState.retire();
  const a = shared.zeros("float64", SLAB_MIN_BYTES / 8);
  const b = shared.full("float32", [3, SLAB_MIN_BYTES / 4 + 5], 2.5);
  const c = shared.from(new Int16Array(SLAB_MIN_BYTES + 3).fill(-7));
  const d = shared.empty("uint8", WASM_MEMORY_MIN_BYTES - 1);
  const slab = memoryOf(a.data.buffer);
  assert.ok(slab !== undefined, "a medium array has a Memory");
  assert.is(a.data.byteOffset, 0, "the first region opens the slab");
  for (const x of [b, c, d] as NdArray[]) {
    assert.is(memoryOf(x.data.buffer), slab, "the next ones share it");
    assert.is(x.data.byteOffset % SLAB_ALIGN, 0, "aligned to 64 bytes");
    assert.is(x.data.length, x.size, "the view covers the array's elements only");
  }
  assert.ok(b.data.byteOffset >= a.data.byteLength && c.data.byteOffset >= b.data.byteOffset + b.data.byteLength, "regions follow one another");
  assert.is(b.data[3 * (SLAB_MIN_BYTES / 4 + 5) - 1], 2.5);
  assert.is(c.data[SLAB_MIN_BYTES + 2], -7);
  assert.ok(a.data.every((v) => v === 0) && d.data.every((v) => v === 0), "fresh regions are zeros");
  assert.ok(!sharesMemory(a.data, b.data) && sharesMemory(b.data, b.data.subarray(7, 9)), "neighbours share a buffer, never a byte");
  assert.is(shared.wasmMemory(shared.zeros("float64", SLAB_MIN_BYTES / 8 - 1)), undefined, "just under 256 KiB: a plain SAB");
  const big = shared.zeros("float64", WASM_MEMORY_MIN_BYTES / 8);
  assert.ok(memoryOf(big.data.buffer) !== undefined && memoryOf(big.data.buffer) !== slab && big.data.byteOffset === 0, "16 MiB: a Memory of its own");
  assert.equal([shared.zeros("float64", 0).size, shared.zeros("int8", [0, 5]).size], [0, 0], "empty arrays still work");
});

test("an array that does not fit the slab's rest opens a new slab; no region crosses a slab's end", () => {
  slabState.retire();
  const opened = slabState.opened;
  const xs: NdArray[] = [];
  for (let i = 0; i < 10; i++) xs.push(shared.zeros("uint8", 15 * 2 ** 20));
  assert.is(slabState.opened - opened, 3, "four 15 MiB regions per 64 MiB slab");
  for (const x of xs) assert.ok(x.data.byteOffset + x.data.byteLength <= SLAB_BYTES);
  assert.ok(memoryOf(xs[3]!.data.buffer) === memoryOf(xs[0]!.data.buffer), "the first four in one slab");
  assert.ok(memoryOf(xs[4]!.data.buffer) !== memoryOf(xs[3]!.data.buffer), "the fifth in the next");
});

/**
 * Many medium arrays of several dtypes and sizes, each filled with its own
 * pattern by the main thread; made by the package's allocator, whose
 * serialize (the engine's) knows their Memories.
 */
function patterned(): NdArray[] {
  const dtypes = ["float64", "float32", "int32", "uint16"] as const;
  const arrays: NdArray[] = [];
  for (let k = 0; k < 48; k++) {
    const dtype = dtypes[k % 4]!;
    const bytes = SLAB_MIN_BYTES + ((k * 370_261) % (3 * 2 ** 20));
    const el = dtype === "float64" ? 8 : dtype === "uint16" ? 2 : 4;
    const x = pub.zeros(dtype, Math.floor(bytes / el));
    const d = x.data as unknown as { length: number; [i: number]: number };
    for (let i = 0; i < d.length; i++) d[i] = pattern(k, i, 0);
    arrays.push(x);
  }
  return arrays;
}

test("arrays sharing slabs never overlap: every element keeps its own pattern, read back on the main thread and in workers, and workers' writes land where the main thread reads", async () => {
  const arrays = patterned();
  assert.ok(arrays.every((x) => pub.wasmMemory(x) !== undefined && x.data.byteOffset % SLAB_ALIGN === 0), "every array is in a slab, aligned");
  assert.ok(new Set(arrays.map((x) => pub.wasmMemory(x))).size >= 2, "the arrays span several slabs");
  for (let j = 1; j < arrays.length; j++) {
    for (let k = 0; k < j; k++) assert.ok(!sharesMemory(arrays[j]!.data, arrays[k]!.data), `arrays ${k} and ${j} overlap`);
  }
  arrays.forEach((x, k) => {
    const d = x.data as unknown as ArrayLike<number>;
    for (let i = 0; i < d.length; i++) if (d[i] !== pattern(k, i, 0)) assert.unreachable(`array ${k} element ${i} is ${d[i]}`);
  });
  // Through serialize in this thread: the same memory at the same offset.
  const back = deserialize<{ x: NdArray }>(serialize({ x: arrays[5]! })).x;
  assert.is(back.data.byteOffset, arrays[5]!.data.byteOffset);
  back.data[3] = 99;
  assert.is(arrays[5]!.data[3], 99);
  back.data[3] = pattern(5, 3, 0);
  for (const threads of [1, 2, 3]) {
    const engine = await Engine.start({ threads, kernels: [fixture("slab-kernels")] });
    try {
      const offsets = arrays.map((x) => x.data.byteOffset);
      const found = ((await engine.parallelFor(arrays.length, "checkAndWrite", { arrays, offsets }, { chunk: 5 })) as number[][]).flat();
      assert.equal(found, arrays.map(() => 0), `${threads} threads: each array came with its slab at its offset and held the main thread's pattern`);
      arrays.forEach((x, k) => {
        const d = x.data as unknown as { length: number; [i: number]: number };
        for (let i = 0; i < d.length; i++) {
          if (d[i] !== pattern(k, i, 1)) assert.unreachable(`${threads} threads: array ${k} element ${i} is ${d[i]}, not the worker's write`);
          d[i] = pattern(k, i, 0);
        }
      });
    } finally {
      await engine.close();
    }
  }
});

test("a loop making and dropping 4,000 medium arrays (1 GiB in all, every page touched) stays bounded: no fallback, RSS and slabs held well under the total", () => {
  slabState.retire();
  const failed = wasmMemoryState.failed;
  const opened = slabState.opened;
  const rss0 = process.memoryUsage().rss;
  let peak = 0;
  let sum = 0;
  for (let k = 0; k < 4000; k++) {
    const x = shared.zeros("float64", SLAB_MIN_BYTES / 8);
    const d = x.data as Float64Array;
    for (let i = 0; i < d.length; i += 512) d[i] = k;
    sum += d[d.length - 512]!;
    if (k % 250 === 0) peak = Math.max(peak, process.memoryUsage().rss - rss0);
  }
  assert.is(sum, (3999 * 4000) / 2);
  assert.is(wasmMemoryState.failed, failed, "no Memory creation failed");
  assert.ok(wasmMemoryState.enabled, "the allocator still makes Memories");
  assert.is(slabState.opened - opened, Math.ceil(4000 / (SLAB_BYTES / SLAB_MIN_BYTES)), "one slab per 256 arrays, never a Memory per array");
  assert.ok(peak < 640 * 2 ** 20, `RSS rose by ${(peak / 2 ** 20).toFixed(0)} MiB at most (1,000 MiB if nothing is collected)`);
  assert.ok(memoryOf(shared.zeros("float64", SLAB_MIN_BYTES / 8).data.buffer) !== undefined, "and the next array is in a slab still");
});

test("when a slab cannot be made, medium arrays fall back to plain SABs and the failure is remembered", () => {
  slabState.retire();
  const failed = wasmMemoryState.failed;
  wasmMemoryState.configure(true, () => {
    throw new RangeError("WebAssembly.Memory(): could not allocate memory");
  });
  try {
    const x = shared.full("float64", SLAB_MIN_BYTES / 8, 3);
    assert.is(memoryOf(x.data.buffer), undefined);
    assert.ok(x.data.buffer instanceof SharedArrayBuffer && x.data[100] === 3);
    assert.is(wasmMemoryState.failed, failed + 1);
    assert.not.ok(wasmMemoryState.enabled, "the allocator gave up");
    assert.is(memoryOf(shared.zeros("float32", 2 ** 20).data.buffer), undefined, "and does not try again");
  } finally {
    wasmMemoryState.configure(true);
  }
  process.env["SABRE_WASM_MEMORY"] = "0";
  try {
    assert.is(memoryOf(shared.zeros("float64", SLAB_MIN_BYTES / 8).data.buffer), undefined, "SABRE_WASM_MEMORY=0: no slab, even with one open");
  } finally {
    process.env["SABRE_WASM_MEMORY"] = "1";
  }
});

test("bad sizes answer with the typed errors: too many elements, negative or fractional dimensions", () => {
  throwsTyped(() => shared.zeros("float64", 2 ** 31), SabreTypeError, /at most/);
  throwsTyped(() => shared.zeros("float64", [2 ** 16, 2 ** 16]), SabreTypeError, /at most/);
  throwsTyped(() => shared.empty("float32", -1), SabreTypeError, /non-negative integer/);
  throwsTyped(() => shared.full("int32", [2.5], 1), SabreTypeError, /non-negative integer/);
  assert.ok(memoryOf(shared.zeros("float64", SLAB_MIN_BYTES / 8).data.buffer) !== undefined, "the slab allocator is unharmed");
});

test.run();
