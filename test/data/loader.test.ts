// DataLoader: order, counts and contents with real workers and shared memory.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset, shared } from "sabre";
import { fixture } from "../helpers.js";

function table(n: number, d: number) {
  const x = shared.zeros("float32", [n, d]);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x.data[i * d + j] = i * 100 + j;
  const y = shared.zeros("int32", [n]);
  for (let i = 0; i < n; i++) y.data[i] = i;
  return { x, y };
}

async function collect(loader: DataLoader): Promise<{ order: number[]; sizes: number[] }> {
  const order: number[] = [];
  const sizes: number[] = [];
  for await (const b of loader) {
    order.push(...b.indices);
    sizes.push(b.size);
  }
  return { order, sizes };
}

test("TensorDataset: every index once per epoch, contents equal to the source rows, [B] for a 1-D field", async () => {
  const { x, y } = table(103, 5);
  for (const numWorkers of [0, 1, 3]) {
    const loader = new DataLoader(new TensorDataset({ x, y }), { batchSize: 10, shuffle: true, numWorkers, seed: 3 });
    try {
      assert.is(loader.length, 11);
      const seen = new Array(103).fill(0);
      let batches = 0;
      for await (const b of loader) {
        batches++;
        assert.equal(b.fields.x!.shape, [b.size, 5]);
        assert.equal(b.fields.y!.shape, [b.size]);
        for (let r = 0; r < b.size; r++) {
          const i = b.indices[r]!;
          seen[i]++;
          assert.is(b.fields.y!.get(r), i);
          for (let j = 0; j < 5; j++) assert.is(b.fields.x!.get(r, j), i * 100 + j);
        }
        assert.is(b.size, batches === 11 ? 3 : 10);
      }
      assert.is(batches, 11);
      assert.ok(seen.every((c) => c === 1), `numWorkers ${numWorkers}: every index once`);
    } finally {
      await loader.close();
    }
  }
});

test("batch count with and without dropLast; length matches", async () => {
  const { x } = table(25, 2);
  for (const [dropLast, want] of [[false, [8, 8, 8, 1]], [true, [8, 8, 8]]] as const) {
    const loader = new DataLoader(new TensorDataset({ x }), { batchSize: 8, dropLast, numWorkers: 2, seed: 1 });
    assert.is(loader.length, want.length);
    assert.equal((await collect(loader)).sizes, [...want]);
    await loader.close();
  }
});

test("same order for 0, 1 and 3 workers; different across epochs and seeds; setEpoch replays", async () => {
  const { x } = table(200, 1);
  const runs: number[][][] = [];
  for (const numWorkers of [0, 1, 3]) {
    const loader = new DataLoader(new TensorDataset({ x }), { batchSize: 7, shuffle: true, numWorkers, seed: 11, persistentWorkers: numWorkers > 0 });
    const epochs: number[][] = [];
    for (let e = 0; e < 3; e++) {
      assert.is(loader.epoch, e);
      epochs.push((await collect(loader)).order);
    }
    loader.setEpoch(1);
    assert.equal((await collect(loader)).order, epochs[1]);
    await loader.close();
    runs.push(epochs);
  }
  assert.equal(runs[1], runs[0]);
  assert.equal(runs[2], runs[0]);
  assert.not.equal(runs[0]![0], runs[0]![1]);
  assert.equal([...runs[0]![0]!].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
  const other = new DataLoader(new TensorDataset({ x }), { batchSize: 7, shuffle: true, numWorkers: 2, seed: 12 });
  assert.not.equal((await collect(other)).order, runs[0]![0]);
  await other.close();
});

test("the default order (no sampler given, computed in the ring's shared order) equals RandomSampler / SequentialSampler through BatchSampler, with and without workers", async () => {
  const { x } = table(53, 1);
  for (const shuffle of [true, false]) {
    for (const dropLast of [false, true]) {
      for (const numWorkers of [0, 2]) {
        const plain = new DataLoader(new TensorDataset({ x }), { batchSize: 5, shuffle, dropLast, numWorkers, seed: 4, persistentWorkers: numWorkers > 0 });
        const sampler = shuffle ? new RandomSampler(53, { seed: 4 }) : new SequentialSampler(53);
        const explicit = new DataLoader(new TensorDataset({ x }), { batchSize: 5, sampler, dropLast, numWorkers: 0 });
        for (let e = 0; e < 2; e++) {
          const a = await collect(plain);
          const b = await collect(explicit);
          assert.equal(a, b, `shuffle ${shuffle} dropLast ${dropLast} numWorkers ${numWorkers} epoch ${e}`);
          assert.is(a.sizes.length, dropLast ? 10 : 11);
        }
        await plain.close();
        await explicit.close();
      }
    }
  }
});

test("a sampler whose length, or a batch sampler whose batch count, changes between epochs: the ring's order and starts grow (and are reused when they fit), contents exact, persistent workers", async () => {
  const { x, y } = table(40, 2);
  const lengths = [7, 40, 3, 40];
  let epoch = 0;
  const sampler = {
    setEpoch(e: number) {
      epoch = e;
    },
    *[Symbol.iterator]() {
      // Odd epochs run backwards, so a stale order from the epoch before would show.
      const n = lengths[epoch]!;
      for (let i = 0; i < n; i++) yield epoch % 2 === 1 ? n - 1 - i : i;
    },
  };
  const loader = new DataLoader(new TensorDataset({ x, y }), { batchSize: 3, sampler, numWorkers: 2, persistentWorkers: true });
  for (let e = 0; e < lengths.length; e++) {
    const n = lengths[e]!;
    const order: number[] = [];
    for await (const b of loader) {
      for (let r = 0; r < b.size; r++) {
        const i = b.indices[r]!;
        order.push(i);
        assert.is(b.fields.y!.get(r), i);
        assert.is(b.fields.x!.get(r, 1), i * 100 + 1);
      }
    }
    assert.equal(order, Array.from({ length: n }, (_, i) => (e % 2 === 1 ? n - 1 - i : i)), `epoch ${e}`);
  }
  await loader.close();
  // The same indices in more, smaller batches: only starts must grow.
  const splits = [[[5, 4, 3], [2, 1, 0]], [[0], [1], [2], [3], [4], [5]], [[1, 2], [0, 3, 4], [5]]];
  let at = 0;
  const batchSampler = {
    setEpoch(e: number) {
      at = e;
    },
    [Symbol.iterator]: () => splits[at]![Symbol.iterator](),
  };
  const bl = new DataLoader(new TensorDataset({ x, y }), { batchSampler, numWorkers: 2, persistentWorkers: true });
  for (let e = 0; e < splits.length; e++) {
    const got: number[][] = [];
    for await (const b of bl) got.push([...b.indices]);
    assert.equal(got, splits[e], `batch sampler epoch ${e}`);
  }
  await bl.close();
});

test("a dataset module: getItem runs in the workers, init state and params reach it, contents exact", async () => {
  for (const numWorkers of [0, 2]) {
    for (const extra of [{}, { returnRecord: true }, { async: true }]) {
      const loader = new DataLoader({ module: fixture("loader/squares"), params: { length: 50, offset: 0.5, ...extra } }, { batchSize: 6, numWorkers, seed: 2, shuffle: true });
      assert.ok(Number.isNaN(loader.length));
      await loader.ready();
      assert.is(loader.length, 9);
      const seen = new Set<number>();
      for await (const b of loader) {
        assert.equal(b.fields.x!.shape, [b.size, 3]);
        assert.equal(b.fields.label!.shape, [b.size, 1]);
        for (let r = 0; r < b.size; r++) {
          const i = b.indices[r]!;
          seen.add(i);
          assert.equal([b.fields.x!.get(r, 0), b.fields.x!.get(r, 1), b.fields.x!.get(r, 2)], [i, i * i, 0.5]);
          assert.is(b.fields.label!.get(r, 0), i);
        }
      }
      assert.is(seen.size, 50);
      await loader.close();
    }
  }
});

test("samplers: SequentialSampler, RandomSampler with replacement, BatchSampler as batchSampler", async () => {
  const { x } = table(30, 1);
  const seq = new DataLoader(new TensorDataset({ x }), { sampler: new SequentialSampler(30), batchSize: 4, numWorkers: 2 });
  assert.equal((await collect(seq)).order, Array.from({ length: 30 }, (_, i) => i));
  await seq.close();
  const rs = new RandomSampler(30, { replacement: true, numSamples: 50, seed: 4 });
  const withRepl = new DataLoader(new TensorDataset({ x }), { sampler: rs, batchSize: 8, numWorkers: 2 });
  assert.is(withRepl.length, 7);
  const a = await collect(withRepl);
  assert.is(a.order.length, 50);
  await withRepl.close();
  const bs = new BatchSampler(new RandomSampler(30, { seed: 9 }), 5, true);
  const viaBatch = new DataLoader(new TensorDataset({ x }), { batchSampler: bs, numWorkers: 3 });
  const r = await collect(viaBatch);
  assert.equal(r.sizes, [5, 5, 5, 5, 5, 5]);
  assert.equal([...r.order].sort((p, q) => p - q), Array.from({ length: 30 }, (_, i) => i));
  await viaBatch.close();
});

test("clone() keeps a batch; release() hands the slot back early", async () => {
  const { x } = table(40, 2);
  const loader = new DataLoader(new TensorDataset({ x }), { batchSize: 4, numWorkers: 2, prefetchFactor: 1 });
  const kept = [];
  for await (const b of loader) {
    kept.push(b.clone());
    b.release();
  }
  assert.is(kept.length, 10);
  kept.forEach((c, k) => {
    for (let r = 0; r < 4; r++) assert.is(c.fields.x!.get(r, 1), (k * 4 + r) * 100 + 1);
    assert.equal([...c.indices], [k * 4, k * 4 + 1, k * 4 + 2, k * 4 + 3]);
  });
  await loader.close();
});

test("inOrder false: every batch once, each with its own indices", async () => {
  const { x } = table(300, 1);
  const loader = new DataLoader(new TensorDataset({ x }), { batchSize: 3, numWorkers: 3, inOrder: false, shuffle: true, seed: 5 });
  const seen = new Set<number>();
  const batches = new Set<number>();
  for await (const b of loader) {
    batches.add(b.index);
    for (let r = 0; r < b.size; r++) {
      assert.is(b.fields.x!.get(r, 0), b.indices[r]! * 100);
      seen.add(b.indices[r]!);
    }
  }
  assert.is(seen.size, 300);
  assert.is(batches.size, 100);
  await loader.close();
});

test.run();
