// DataLoader: transforms, iterable datasets, and a stress run with more workers than cores.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DataLoader, RandomSampler, SabreTypeError, SampleError, TensorDataset, normalize, randomCrop, randomFlip, rng, shared, transformModule } from "sabre";
import { fixture, rejectsTyped, throwsTyped } from "../helpers.js";

/** n images [C, H, W] (uint8) whose pixel (c, y, x) of image i is (i + 10c + 3y + x) % 256. */
function images(n: number, c: number, h: number, w: number) {
  const X = shared.zeros("uint8", [n, c, h, w]);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    X.data[((i * c + ch) * h + y) * w + x] = (i + 10 * ch + 3 * y + x) % 256;
  }
  return X;
}

async function all(loader: DataLoader): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  for await (const b of loader) {
    const img = b.fields.img!;
    const row = img.size / b.size;
    for (let r = 0; r < b.size; r++) out.set(b.indices[r]!, Array.from(img.data.subarray(img.offset + r * row, img.offset + (r + 1) * row) as Float32Array));
  }
  return out;
}

test("randomCrop / randomFlip / normalize: the slot takes the cropped shape and float32; each sample's result depends only on seed, epoch, index", async () => {
  const X = images(24, 2, 6, 5);
  const transform = [randomCrop("img", { size: [4, 3], padding: 1 }), randomFlip("img", { horizontal: true, vertical: true }), normalize("img", { mean: [1, 2], std: [2, 4] })];
  const results: Map<number, number[]>[] = [];
  for (const numWorkers of [0, 1, 3]) {
    const loader = new DataLoader(new TensorDataset({ img: X }), { batchSize: 5, shuffle: true, numWorkers, seed: 8, transform });
    await loader.ready();
    assert.equal(loader.fields!.img, { dtype: "float32", shape: [2, 4, 3] });
    for await (const b of loader) assert.equal(b.fields.img!.shape, [b.size, 2, 4, 3]);
    results.push(await all(loader)); // epoch 1
    await loader.close();
  }
  assert.equal(results[1], results[0]);
  assert.equal(results[2], results[0]);
  // Recompute sample 7 of epoch 1 by hand from its own streams.
  const i = 7;
  const r0 = rng(8, 1, i, 0);
  const oy = r0.below(6 + 2 - 4 + 1) - 1;
  const ox = r0.below(5 + 2 - 3 + 1) - 1;
  const r1 = rng(8, 1, i, 1);
  const fh = r1.float32() < 0.5;
  const fv = r1.float32() < 0.5;
  const want: number[] = [];
  for (let c = 0; c < 2; c++) for (let y = 0; y < 4; y++) for (let x = 0; x < 3; x++) {
    const cy = fv ? 3 - y : y;
    const cx = fh ? 2 - x : x;
    const sy = cy + oy;
    const sx = cx + ox;
    const v = sy < 0 || sy >= 6 || sx < 0 || sx >= 5 ? 0 : (i + 10 * c + 3 * sy + sx) % 256;
    want.push(Math.fround((v - [1, 2][c]!) / [2, 4][c]!));
  }
  assert.equal(results[0]!.get(i), want);
});

test("layout hwc: crop, flip and normalize give the channels-last transpose of the chw result", async () => {
  const chw = images(9, 3, 5, 4);
  const hwc = shared.zeros("uint8", [9, 5, 4, 3]);
  for (let i = 0; i < 9; i++) for (let c = 0; c < 3; c++) for (let y = 0; y < 5; y++) for (let x = 0; x < 4; x++) {
    hwc.data[((i * 5 + y) * 4 + x) * 3 + c] = chw.data[((i * 3 + c) * 5 + y) * 4 + x]!;
  }
  const chain = (layout: "chw" | "hwc") => [randomCrop("img", { size: [3, 3], padding: 2, layout }), randomFlip("img", { vertical: true, horizontal: true, layout }), normalize("img", { mean: [1, 2, 3], std: [1, 2, 4], layout })];
  const a = await all(new DataLoader(new TensorDataset({ img: chw }), { batchSize: 4, numWorkers: 2, seed: 4, transform: chain("chw") }));
  const b = await all(new DataLoader(new TensorDataset({ img: hwc }), { batchSize: 4, numWorkers: 2, seed: 4, transform: chain("hwc") }));
  for (let i = 0; i < 9; i++) {
    const p = a.get(i)!;
    const q = b.get(i)!;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) assert.is(q[(y * 3 + x) * 3 + c], p[(c * 3 + y) * 3 + x]);
  }
});

test("a user transform module (changes the dtype) after a module dataset's getItem; bad transforms are typed errors", async () => {
  const X = images(10, 1, 3, 3);
  const loader = new DataLoader(new TensorDataset({ img: X }), { batchSize: 4, numWorkers: 2, transform: transformModule("img", fixture("loader/invert"), { max: 255 }) });
  const got = await all(loader);
  assert.is(got.size, 10);
  assert.equal(got.get(3)![4], 255 - ((3 + 3 + 1) % 256));
  await loader.close();
  throwsTyped(() => randomCrop("img", { size: 0 }), SabreTypeError, /size/);
  throwsTyped(() => normalize("img", { mean: [0], std: [0] }), SabreTypeError, /std/);
  throwsTyped(() => new DataLoader(new TensorDataset({ img: X }), { transform: { kind: "blur" } as never }), SabreTypeError, /transform must be/);
  await rejectsTyped(new DataLoader(new TensorDataset({ img: X }), { transform: randomCrop("nope", { size: 2 }) }).ready(), SabreTypeError, /field "nope"/);
  await rejectsTyped(new DataLoader(new TensorDataset({ img: X }), { transform: randomCrop("img", { size: 9 }) }).ready(), SabreTypeError, /larger than/);
  await rejectsTyped(new DataLoader(new TensorDataset({ img: X }), { transform: normalize("img", { mean: [1, 2], std: [1, 1] }) }).ready(), SabreTypeError, /channels/);
});

test("an iterable dataset: every worker iterates its shard, every sample once, length NaN", async () => {
  for (const numWorkers of [0, 1, 3]) {
    for (const dropLast of [false, true]) {
      const loader = new DataLoader({ module: fixture("loader/stream"), params: { n: 50 } }, { batchSize: 4, numWorkers, dropLast });
      await loader.ready();
      assert.ok(Number.isNaN(loader.length));
      const seen: number[] = [];
      let epochSeen = -1;
      for await (const b of loader) {
        assert.equal(b.fields.v!.shape, [b.size]);
        assert.equal(b.fields.sq!.shape, [b.size, 2]);
        for (let r = 0; r < b.size; r++) {
          const v = b.fields.v!.get(r) as number;
          seen.push(v);
          assert.is(b.fields.sq!.get(r, 0), v * v);
          epochSeen = b.fields.sq!.get(r, 1) as number;
        }
        if (dropLast) assert.is(b.size, 4);
      }
      assert.is(epochSeen, 0);
      const shards = Math.max(1, numWorkers);
      // Each shard drops its own last partial batch under dropLast (PyTorch does the same per worker).
      let expected = 0;
      for (let w = 0; w < shards; w++) {
        const mine = Math.ceil((50 - w) / shards);
        expected += dropLast ? mine - (mine % 4) : mine;
      }
      assert.is(seen.length, expected, `numWorkers ${numWorkers} dropLast ${dropLast}`);
      assert.is(new Set(seen).size, expected);
      await loader.close();
    }
  }
  const bad = new DataLoader({ module: fixture("loader/stream"), params: { n: 50, throwAt: 21 } }, { batchSize: 4, numWorkers: 2 });
  await rejectsTyped(
    (async () => {
      for await (const _ of bad);
    })(),
    SampleError,
    /stream broke at 21/,
  );
  await bad.close();
});

test("stress: 8 workers (more than cores), prefetchFactor 1 and 3, 6 epochs each, exact counts", async () => {
  const n = 1009;
  const x = shared.zeros("int32", [n, 3]);
  for (let i = 0; i < n; i++) x.data.set([i, 2 * i, 3 * i], i * 3);
  for (const prefetchFactor of [1, 3]) {
    const loader = new DataLoader(new TensorDataset({ x }), { batchSize: 13, shuffle: true, numWorkers: 8, prefetchFactor, seed: prefetchFactor, persistentWorkers: prefetchFactor === 3 });
    for (let e = 0; e < 6; e++) {
      const count = new Int32Array(n);
      let batches = 0;
      for await (const b of loader) {
        batches++;
        for (let r = 0; r < b.size; r++) {
          const i = b.indices[r]!;
          count[i]!++;
          if (b.fields.x!.get(r, 2) !== 3 * i) assert.unreachable(`row ${r} of batch ${b.index} holds ${b.fields.x!.get(r, 2)}, not sample ${i}`);
        }
      }
      assert.is(batches, Math.ceil(n / 13));
      assert.ok(count.every((c) => c === 1), `epoch ${e}: every index exactly once`);
    }
    await loader.close();
  }
});

test("a module dataset with a RandomSampler with replacement and many workers", async () => {
  const loader = new DataLoader({ module: fixture("loader/squares"), params: { length: 100 } }, {
    sampler: new RandomSampler(100, { replacement: true, numSamples: 500, seed: 3 }),
    batchSize: 16,
    numWorkers: 5,
  });
  let total = 0;
  for await (const b of loader) {
    for (let r = 0; r < b.size; r++) assert.is(b.fields.x!.get(r, 1), b.indices[r]! ** 2);
    total += b.size;
  }
  assert.is(total, 500);
  await loader.close();
});

test.run();
