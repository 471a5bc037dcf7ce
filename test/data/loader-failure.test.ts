// DataLoader failures: sample errors, dead and stuck workers, break, abort, close, bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AbortError, BatchSampler, ClosedError, DataLoader, DatasetError, SabreTypeError, SampleError, SequentialSampler, TensorDataset, TimeoutError, WorkerCrashedError, shared } from "sabre";
import { defineDataset, defineIterableDataset, defineTransform } from "sabre/worker";
import { fixture, rejectsTyped, throwsTyped } from "../helpers.js";

const squares = (params: Record<string, unknown>) => ({ module: fixture("loader/squares"), params: { length: 40, ...params } });

async function drain(loader: DataLoader): Promise<number> {
  let n = 0;
  for await (const b of loader) n += b.size;
  return n;
}

test("a dataset module whose init() or length() throws rejects with DatasetError, the same with or without workers", async () => {
  for (const numWorkers of [0, 2]) {
    const loader = new DataLoader(squares({ initThrows: true }), { batchSize: 4, numWorkers });
    const err = await rejectsTyped(drain(loader), DatasetError, /squares\.js: init\(\) in worker \d threw: cannot open the shard of worker \d/);
    assert.is(err.code, "ERR_SABRE_DATASET");
    assert.is(err.stage, "init");
    assert.ok(err.module.endsWith("squares.js"), err.module);
    assert.ok(err.workerId !== undefined && err.workerId >= 0 && err.workerId < Math.max(1, numWorkers));
    assert.ok(err.originalStack?.includes("TypeError"), err.originalStack);
    assert.ok(err.originalStack?.includes("squares"), err.originalStack);
    await loader.close();
  }
  const lengthLoader = new DataLoader(squares({ lengthThrows: true }), { batchSize: 4, numWorkers: 2 });
  const err = await rejectsTyped(drain(lengthLoader), DatasetError, /squares\.js: length\(\) threw: the index file is empty/);
  assert.is(err.stage, "length");
  assert.is(err.workerId, undefined);
  assert.ok(err.originalStack?.includes("RangeError"), err.originalStack);
  await lengthLoader.close();
});

test("an error in getItem rejects with SampleError naming the index and carrying the original stack", async () => {
  for (const numWorkers of [0, 2]) {
    const loader = new DataLoader(squares({ throwAt: 17 }), { batchSize: 4, numWorkers });
    const err = await rejectsTyped(drain(loader), SampleError, /sample 17 \(batch 4, worker \d\) failed: bad sample 17/);
    assert.is(err.index, 17);
    assert.is(err.batch, 4);
    assert.ok(err.originalStack?.includes("RangeError"), err.originalStack);
    assert.ok(err.originalStack?.includes("squares"), err.originalStack);
    // The loader is usable again: the next epoch starts fresh workers and fails the same way.
    await rejectsTyped(drain(loader), SampleError, /sample 17/);
    await loader.close();
  }
});

test("a worker that calls process.exit in getItem is reported with the batch it was loading", async () => {
  const loader = new DataLoader(squares({ exitAt: 9 }), { batchSize: 4, numWorkers: 2, timeout: 20_000 });
  const err = await rejectsTyped(drain(loader), WorkerCrashedError, /code 7.*loading batch 2 \(samples 8, 9, 10, 11\)/);
  assert.is(err.exitCode, 7);
  await loader.close();
});

test("a worker killed by an error thrown outside getItem is reported too", async () => {
  const loader = new DataLoader(squares({ uncaughtAt: 5 }), { batchSize: 4, numWorkers: 2 });
  await rejectsTyped(drain(loader), WorkerCrashedError, /thrown outside getItem.*loading batch 1/);
  await loader.close();
});

test("a stuck getItem is bounded by timeout (TimeoutError naming the batch and its samples); the stuck worker is terminated", async () => {
  const loader = new DataLoader(squares({ hangAt: 13 }), { batchSize: 4, numWorkers: 2, timeout: 300 });
  let got = 0;
  const err = await rejectsTyped(
    (async () => {
      for await (const b of loader) got += b.size;
    })(),
    TimeoutError,
    /DataLoader batch 3 of epoch 0 \(samples 12, 13, 14, 15\) timed out after 300 ms/,
  );
  assert.is(err.timeout, 300);
  assert.is(got, 12);
  await loader.close();
});

test("break frees the workers: a child process that breaks out of the loop, finishes it or abandons its iterator, without close(), exits by itself", () => {
  for (const mode of ["", "persistent", "finish", "abandon"]) {
    const script = fileURLToPath(fixture("loader/break-script"));
    const r = spawnSync(process.execPath, [script, mode], { encoding: "utf8", timeout: 30_000 });
    assert.is(r.error, undefined, `the child did not exit by itself (${mode})`);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, mode === "finish" ? /finished after 1000/ : mode === "abandon" ? /abandoned after 1/ : /broke after 5/);
  }
});

test("Symbol.asyncDispose closes the loader and its workers", async () => {
  const x = shared.zeros("float32", [20, 2]);
  const loader = new DataLoader(new TensorDataset({ x }), { batchSize: 4, numWorkers: 2, persistentWorkers: true });
  assert.is(await drain(loader), 20);
  await loader[Symbol.asyncDispose]();
  await rejectsTyped(drain(loader), ClosedError);
});

test("break, then the next iteration is the next epoch from its first batch; return() on the iterator stops it; setEpoch replays", async () => {
  const x = shared.zeros("float32", [64, 2]);
  const loader = new DataLoader(new TensorDataset({ x }), { batchSize: 4, numWorkers: 3, persistentWorkers: true, seed: 1, shuffle: true });
  const firsts: number[][] = [];
  for await (const b of loader) {
    assert.is(b.index, 0);
    assert.is(b.epoch, 0);
    firsts.push([...b.indices]);
    break;
  }
  assert.is(loader.epoch, 1);
  const it = loader[Symbol.asyncIterator]();
  const first = await it.next();
  assert.is(first.done, false);
  assert.is((first.value as { epoch: number }).epoch, 1);
  await it.return();
  assert.is(await drain(loader), 64);
  assert.is(loader.epoch, 3);
  loader.setEpoch(0);
  for await (const b of loader) {
    assert.equal([...b.indices], firsts[0]);
    break;
  }
  await loader.close();
});

test("abort stops the iteration with AbortError; close() during iteration rejects with ClosedError", async () => {
  const ac = new AbortController();
  const loader = new DataLoader(squares({ hangAt: 30 }), { batchSize: 4, numWorkers: 2, signal: ac.signal });
  let n = 0;
  await rejectsTyped(
    (async () => {
      for await (const _ of loader) if (++n === 2) setTimeout(() => ac.abort(), 20);
    })(),
    AbortError,
  );
  await loader.close();
  await rejectsTyped(drain(loader), ClosedError);

  const hung = new DataLoader(squares({ hangAt: 0 }), { batchSize: 4, numWorkers: 2 });
  setTimeout(() => void hung.close(), 200);
  await rejectsTyped(drain(hung), ClosedError);
});

test("bad input: typed errors", async () => {
  const x = shared.zeros("float32", [10, 2]);
  const ds = new TensorDataset({ x });
  throwsTyped(() => new DataLoader(ds, { batchSize: 0 }), SabreTypeError, /batchSize/);
  throwsTyped(() => new DataLoader(ds, { batchSize: 2.5 }), SabreTypeError, /batchSize/);
  throwsTyped(() => new DataLoader(ds, { numWorkers: -1 }), SabreTypeError, /numWorkers/);
  throwsTyped(() => new DataLoader(ds, { prefetchFactor: 0 }), SabreTypeError, /prefetchFactor/);
  throwsTyped(() => new DataLoader(ds, { timeout: -5 }), SabreTypeError, /timeout/);
  throwsTyped(() => new DataLoader(ds, { shuffle: true, sampler: [1, 2] }), SabreTypeError, /sampler excludes shuffle/);
  throwsTyped(() => new DataLoader(null as never), SabreTypeError, /TensorDataset/);
  throwsTyped(() => new TensorDataset({ x, y: shared.zeros("int32", [9]) }), SabreTypeError, /disagree/);
  throwsTyped(() => new TensorDataset({ x: "nope" }), SabreTypeError, /field "x"/);
  // A non-shared array is copied into shared memory once.
  const copied = new TensorDataset({ y: new Float64Array([1, 2, 3]) });
  assert.ok(copied.copied);
  await rejectsTyped(drain(new DataLoader({ module: fixture("loader/notfields") }, {})), SabreTypeError, /field "x" needs a shape/);
  await rejectsTyped(drain(new DataLoader(squares({ length: 3.5 }), {})), SabreTypeError, /length\(params\) must return an integer/);
  await rejectsTyped(drain(new DataLoader({ module: "/nonexistent/ds.js" }, {})), SabreTypeError, /not found/);
  for (const numWorkers of [0, 2]) {
    await rejectsTyped(drain(new DataLoader(squares({ wrongDtypeAt: 6 }), { batchSize: 4, numWorkers })), SabreTypeError, /sample 6: field "label" .*Float64Array; expected a Int32Array/);
    await rejectsTyped(drain(new DataLoader(squares({ wrongShapeAt: 3 }), { batchSize: 4, numWorkers })), SabreTypeError, /sample 3: field "x" .*2 elements; expected 3/);
  }
  await rejectsTyped(drain(new DataLoader(ds, { sampler: [0, 1, 10] })), SabreTypeError, /index 10; the dataset has 10 samples/);
});

test("an unknown DataLoader option is a typed error naming it (it was ignored and the default used)", () => {
  const ds = new TensorDataset({ x: shared.zeros("float32", [4, 2]) });
  throwsTyped(() => new DataLoader(ds, { batchsize: 2 } as never), SabreTypeError, /DataLoader options: unknown option "batchsize" \(known: batchSize, shuffle/);
});

test("a batch sampler yielding a non-array, or a BatchSampler with a non-boolean dropLast, is a typed error", async () => {
  const ds = new TensorDataset({ x: shared.zeros("float32", [8, 2]) });
  // A batch of 5 (not an array) used to count as an empty batch: the epoch silently loaded nothing.
  for (const batchSampler of [[5], [[0, 1], 5], [null]]) {
    const loader = new DataLoader(ds, { batchSampler: batchSampler as never });
    await rejectsTyped(async () => {
      for await (const _ of loader) void _;
    }, SabreTypeError, /the batch sampler yielded (5|null); each batch must be an array \(or typed array\) of indices/);
    await loader.close();
  }
  throwsTyped(() => new BatchSampler(new SequentialSampler(3), 2, "x" as never), SabreTypeError, /BatchSampler: dropLast must be a boolean, got "x"/);
});

test("new SampleError / new DatasetError misused is a SabreTypeError naming the argument, not a plain TypeError", () => {
  const sample = (...a: unknown[]) => new (SampleError as unknown as new (...args: unknown[]) => SampleError)(...a);
  const dataset = (...a: unknown[]) => new (DatasetError as unknown as new (...args: unknown[]) => DatasetError)(...a);
  // Before: "Cannot read properties of null (reading 'index')", a plain TypeError.
  const err = throwsTyped(() => sample(null, null), SabreTypeError, /new SampleError: site must be an object like \{ index, batch, workerId \}, got null/);
  assert.is(err.code, "ERR_SABRE_TYPE");
  throwsTyped(() => sample({ index: 1, batch: 0, workerId: 0 }, "boom"), SabreTypeError, /new SampleError: original must be an object like \{ message: string, stack\?, code\? \}, got "boom"/);
  throwsTyped(() => dataset(undefined, { message: "x" }), SabreTypeError, /new DatasetError: site must be an object like \{ stage, module, workerId\? \}, got undefined/);
  const ok = new SampleError({ index: 3, batch: 1, workerId: 0 }, { message: "bad pixel" });
  assert.is(ok.code, "ERR_SABRE_SAMPLE");
  assert.match(ok.message, /sample 3 \(batch 1, worker 0\) failed: bad pixel/);
});

test("an empty field name and unknown keys in a dataset or transform definition are refused (they were accepted or ignored)", () => {
  const x = shared.zeros("float32", [4, 2]);
  // Before: new TensorDataset({ "": x }) made a dataset whose batches had fields[""].
  const err = throwsTyped(() => new TensorDataset({ "": x }), SabreTypeError, /TensorDataset: a field name must be a non-empty string, got ""/);
  assert.is(err.code, "ERR_SABRE_TYPE");
  const getItem = () => undefined;
  throwsTyped(() => defineDataset({ fields: { "": { dtype: "float32", shape: [1] } }, length: () => 1, getItem }), SabreTypeError, /fields: a field name must be a non-empty string/);
  // Before: a misspelt hook or a stray key was silently dropped.
  throwsTyped(() => defineDataset({ fields: { a: { dtype: "float32", shape: [1] } }, length: () => 1, getItem, lenght: 3 } as never), SabreTypeError, /defineDataset: unknown option "lenght" \(known: fields, init, length, getItem\)/);
  throwsTyped(() => defineIterableDataset({ fields: { a: { dtype: "float32", shape: [1] } }, iterate: () => [], length: () => 1 } as never), SabreTypeError, /defineIterableDataset: unknown option "length"/);
  throwsTyped(() => defineTransform({ apply: () => undefined, outptu: () => undefined } as never), SabreTypeError, /defineTransform: unknown option "outptu"/);
  assert.is(new TensorDataset({ a: x }).length, 4);
});

test.run();
