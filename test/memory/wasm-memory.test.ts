// Large user arrays live in a shared WebAssembly.Memory (src/memory/wasm-memory.ts):
// which constructors make them, that they behave as any shared array (views,
// writes in workers seen here, structured clone, npy files), that the Memory
// travels with them to workers, and the fallback to a plain SharedArrayBuffer
// when a Memory cannot be made (forced through the allocator's test hook on
// this file's own copy of the allocator).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel } from "node:worker_threads";
import { Engine, SabreTypeError, deserialize, ops, readNpy, serialize, shared, writeNpy } from "sabre";
import { shared as localShared } from "../../src/memory/shared.js";
import { WASM_MEMORY_MIN_BYTES, wasmMemoryState } from "../../src/memory/wasm-memory.js";
import { fixture } from "../helpers.js";

// Memories whatever the environment (under GLIBC_TUNABLES glibc.malloc.hugetlb the allocator keeps
// plain SABs by default); read at each allocation.
process.env["SABRE_WASM_MEMORY"] = "1";

const BIG = WASM_MEMORY_MIN_BYTES / 8; // float64 elements in 16 MiB

test("zeros/empty/full/from of 16 MiB or more live in a shared WebAssembly.Memory of their own; medium ones in a slab, small ones in a plain SharedArrayBuffer", () => {
  const cases = [
    shared.zeros("float64", [BIG / 4, 4]),
    shared.empty("float32", BIG * 2),
    shared.full("int32", BIG * 2, 7),
    shared.from(new Float64Array(BIG + 3).fill(2.5)),
  ];
  for (const x of cases) {
    const m = shared.wasmMemory(x);
    assert.ok(m !== undefined, `${x.dtype} [${x.shape.join(", ")}] has a Memory`);
    assert.ok(x.data.buffer instanceof SharedArrayBuffer && m!.buffer === x.data.buffer, "its buffer is the Memory's SharedArrayBuffer");
    assert.ok(shared.isShared(x));
    assert.is(x.data.byteOffset, 0);
    assert.is(x.data.length, x.size, "the view covers the array's elements only (the memory is rounded up to 64 KiB pages)");
  }
  assert.is(cases[2]!.data[BIG * 2 - 1], 7);
  assert.is(cases[3]!.data[BIG + 2], 2.5);
  assert.is(cases[0]!.data[5], 0);
  const under = shared.zeros("float64", BIG - 1);
  assert.ok(shared.wasmMemory(under) !== undefined && shared.wasmMemory(under)!.buffer.byteLength > under.data.byteLength, "just under 16 MiB: a region of a slab shared with other arrays (slab.test.ts)");
  assert.is(shared.wasmMemory(shared.zeros("float64", 1000)), undefined, "a small array: a plain SAB");
  assert.ok(shared.wasmMemory(shared.zeros("float64", BIG).data) !== undefined, "a typed array's Memory is found too");
});

test("a Memory-backed array posted to a user kernel arrives with its Memory and is written there (seen here)", async () => {
  const engine = await Engine.start({ threads: 2, kernels: [fixture("wasm-memory-kernels")] });
  try {
    const x = shared.zeros("float64", [BIG]);
    const raw = shared.zeros("float32", [BIG * 2]).data as Float32Array;
    const found = (await engine.parallelFor(BIG, "writeThrough", { x: x.lo(0), raw }, { chunk: BIG / 4 })) as number[];
    assert.equal(found, [3, 3, 3, 3], "every chunk saw both Memories");
    for (let i = 0; i < BIG; i += 4099) assert.is(x.data[i], 3 * i + 1);
    assert.is(x.data[BIG - 1], 3 * (BIG - 1) + 1);
    assert.equal([raw[0], raw[BIG / 4], raw[BIG / 2], raw[(3 * BIG) / 4]], [-0, -BIG / 4, -BIG / 2, (-3 * BIG) / 4]);
  } finally {
    await engine.close();
  }
});

test("dead Memory-backed arrays are collected in the caller and in the workers: 64 fresh 32 MiB arrays each summed on 3 workers leave RSS bounded", async () => {
  // V8 does not count a Memory's bytes toward its collection heuristics; the
  // ghost ArrayBuffer beside each one does (wasm-memory.ts). Without it RSS
  // grew by the full 32 MiB per array: 2 GiB here.
  const engine = await Engine.start({ threads: 3 });
  try {
    const n = 4 * 2 ** 20;
    const first = shared.zeros("float64", [n]);
    first.data.fill(1);
    assert.is(await ops.sum(first, { engine }), n);
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 64; i++) {
      const x = shared.full("float64", [n], i);
      assert.ok(shared.wasmMemory(x) !== undefined, "the array lives in a Memory");
      assert.is(await ops.sum(x, { engine }), i * n);
    }
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    // Typically 630-860 MiB on 2 cores; 1,059 once with other tests running beside it. Uncollected is 2,048.
    assert.ok(grown < 1536, `RSS grew by ${grown.toFixed(0)} MiB over 64 dead 32 MiB arrays (2,048 MiB if none is collected)`);
  } finally {
    await engine.close();
  }
});

test("a forged Memory payload is refused with a typed error: a missing or bad memoryId, a memory field that is not a shared Memory", () => {
  const good = serialize(shared.zeros("float64", [BIG])) as unknown as { root: Record<string, unknown> };
  assert.ok(typeof good.root["memoryId"] === "number" && good.root["memoryId"] > 0, "a Memory-backed array carries its Memory's id");
  const forge = (patch: Record<string, unknown>): unknown => ({ __sabre__: "message", v: 1, root: { ...good.root, ...patch } });
  for (const memoryId of [undefined, 0, -3, 1.5, "7", 2 ** 60]) {
    assert.throws(() => deserialize(forge({ memoryId })), (e: unknown) => e instanceof SabreTypeError && /memoryId/.test((e as Error).message), `memoryId ${String(memoryId)}`);
  }
  assert.throws(() => deserialize(forge({ memory: new SharedArrayBuffer(8) })), (e: unknown) => e instanceof SabreTypeError && /shared WebAssembly\.Memory/.test((e as Error).message));
  const back = deserialize<{ data: Float64Array }>(good as unknown);
  assert.is(back.data.length, BIG, "the genuine payload revives");
});

test("structured clone of a Memory-backed typed array shares its memory; writeNpy/readNpy round-trip, readNpy allocates a Memory", async () => {
  const x = shared.zeros("float64", [BIG]);
  for (let i = 0; i < BIG; i += 1000) x.data[i] = i / 7;
  const { port1, port2 } = new MessageChannel();
  const got = await new Promise<Float64Array>((resolve) => {
    port2.once("message", (v: Float64Array) => resolve(v));
    port1.postMessage(x.data);
  });
  port1.close();
  got[1] = 42;
  assert.is(x.data[1], 42, "the clone is over the same memory");
  assert.is(got[7000], 1000);
  const dir = mkdtempSync(join(tmpdir(), "sabre-wasm-mem-"));
  try {
    const file = join(dir, "x.npy");
    await writeNpy(file, x);
    const back = await readNpy(file);
    assert.ok(shared.wasmMemory(back) !== undefined, "readNpy's array of 16 MiB has a Memory");
    assert.equal(back.shape, [BIG]);
    for (let i = 0; i < BIG; i += 997) assert.is(back.data[i], x.data[i]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("when a Memory cannot be made, arrays fall back to plain SharedArrayBuffers and the failure is remembered", () => {
  let attempts = 0;
  wasmMemoryState.configure(true, () => {
    attempts++;
    throw new RangeError("WebAssembly.Memory(): could not allocate memory");
  });
  try {
    const before = wasmMemoryState.failed;
    const a = localShared.zeros("float64", [BIG]);
    const b = localShared.from(new Float32Array(BIG * 2).fill(1.5));
    assert.is(localShared.wasmMemory(a), undefined);
    assert.is(localShared.wasmMemory(b), undefined);
    assert.ok(a.data.buffer instanceof SharedArrayBuffer && a.data.buffer.byteLength === BIG * 8, "a plain SAB of the exact size");
    assert.is(b.data[BIG * 2 - 1], 1.5);
    assert.is(attempts, 1, "one failed creation, not one per array");
    assert.is(wasmMemoryState.failed, before + 1);
    assert.is(wasmMemoryState.enabled, false);
  } finally {
    wasmMemoryState.configure(true);
  }
  const c = localShared.zeros("float64", [BIG]);
  assert.ok(localShared.wasmMemory(c) !== undefined, "re-enabled by the hook: a Memory again");
});

test("the environment: SABRE_WASM_MEMORY=0 keeps plain SABs; unset, so does GLIBC_TUNABLES glibc.malloc.hugetlb (SABs get huge pages there), and a Memory otherwise", () => {
  const saved = { w: process.env["SABRE_WASM_MEMORY"], g: process.env["GLIBC_TUNABLES"] };
  const set = (k: string, v: string | undefined): void => {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  try {
    const cases: [string | undefined, string | undefined, boolean][] = [
      ["0", undefined, false],
      ["1", "glibc.malloc.hugetlb=1", true],
      [undefined, "glibc.malloc.hugetlb=1", false],
      [undefined, "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2", false],
      [undefined, "glibc.malloc.hugetlb=0", true],
      [undefined, undefined, true],
    ];
    for (const [w, g, want] of cases) {
      set("SABRE_WASM_MEMORY", w);
      set("GLIBC_TUNABLES", g);
      assert.is(shared.wasmMemory(shared.zeros("float64", BIG)) !== undefined, want, `SABRE_WASM_MEMORY=${w}, GLIBC_TUNABLES=${g}`);
    }
  } finally {
    set("SABRE_WASM_MEMORY", saved.w);
    set("GLIBC_TUNABLES", saved.g);
  }
});

test.run();
