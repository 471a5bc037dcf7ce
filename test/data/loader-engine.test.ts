// The DataLoader's private engine: its workers load only the loader's built-in kernels.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DataLoader, Mutex, SabreTypeError, TensorDataset, shared } from "sabre";
import { Engine, internalEngine } from "../../src/engine/engine.js";
import { fixture, throwsTyped } from "../helpers.js";

/** The young-generation cap of the thread that filled each sample of one epoch (-1: the main thread). */
async function youngCaps(options: ConstructorParameters<typeof DataLoader>[1]): Promise<number[]> {
  const loader = new DataLoader({ module: fixture("loader/limits"), params: { length: 12 } }, { batchSize: 3, ...options });
  const caps = new Set<number>();
  try {
    for await (const b of loader) for (let r = 0; r < b.size; r++) caps.add(Number(b.fields.young!.get(r, 0)));
  } finally {
    await loader.close();
  }
  return [...caps].sort((a, b) => a - b);
}

test("a loader engine's workers load sabre.noop and the loader loop only; a plain engine loads every built-in", async () => {
  const light = await Engine.start(internalEngine({ threads: 2 }, { builtins: "loader", youngGenerationMB: 2 }));
  try {
    assert.equal(light.kernels, ["sabre.noop", "sabre.loader.loop"]);
    await light.broadcast("sabre.noop", {});
  } finally {
    await light.close();
  }
  const full = await Engine.start({ threads: 1 });
  try {
    assert.ok(full.kernels.includes("sabre.loader.loop"));
    assert.ok(full.kernels.length > 10, full.kernels.join(", "));
  } finally {
    await full.close();
  }
});

test("workerYoungGenerationMB: each loader worker's young generation is capped at 2 MB by default, at the given size, or left to Node with 0", async () => {
  assert.equal(await youngCaps({ numWorkers: 2 }), [2]);
  assert.equal(await youngCaps({ numWorkers: 2, workerYoungGenerationMB: 8 }), [8]);
  const node = await youngCaps({ numWorkers: 2, workerYoungGenerationMB: 0 });
  assert.is(node.length, 1);
  assert.ok(node[0]! > 8, `Node's default young generation: ${node[0]} MB`);
  // With numWorkers 0 the calling thread fills the batches: the option does not apply.
  assert.equal(await youngCaps({ numWorkers: 0, workerYoungGenerationMB: 8 }), [-1]);
  const x = shared.zeros("float32", [4, 2]);
  assert.is(new DataLoader(new TensorDataset({ x })).workerYoungGenerationMB, 2);
  assert.is(new DataLoader(new TensorDataset({ x }), { workerYoungGenerationMB: 0 }).workerYoungGenerationMB, 0);
});

test("a dataset module's params may hold a sabre primitive: the loader's workers then register the primitives before the first epoch's args reach them", async () => {
  const count = shared.zeros("int32", [1]);
  const lock = new Mutex();
  const loader = new DataLoader({ module: fixture("loader/locked"), params: { length: 30, lock, count } }, { batchSize: 4, numWorkers: 2, shuffle: true, seed: 3 });
  try {
    for (let epoch = 0; epoch < 2; epoch++) {
      const seen: number[] = [];
      for await (const b of loader) for (let r = 0; r < b.size; r++) seen.push(Number(b.fields.x!.get(r, 0)) / 2);
      assert.equal(seen.sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));
    }
  } finally {
    await loader.close();
  }
  assert.is(count.get(0), 60);
});

test("workerYoungGenerationMB: bad values are SabreTypeErrors", () => {
  const ds = new TensorDataset({ x: shared.zeros("float32", [4, 2]) });
  for (const bad of [-1, 1.5, 1025, Number.NaN, "2", null]) {
    throwsTyped(() => new DataLoader(ds, { numWorkers: 1, workerYoungGenerationMB: bad as never }), SabreTypeError, /workerYoungGenerationMB must be an integer in \[0, 1024\]/);
  }
});

test.run();
