// parallelFor / run / broadcast over real workers: every index exactly once,
// results in chunk order, clauses, progress.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Barrier, Engine, shared, reduction, rows, readOnly, type NdArray } from "sabre";
import { fixture } from "../helpers.js";

let engine: Engine;

test.before(async () => {
  // More workers than the machine's 2 cores: oversubscription must stay correct.
  engine = await Engine.start({ threads: 5, kernels: [fixture("kernels-basic")] });
});
test.after(async () => {
  await engine.close();
});

function visits(n: number): NdArray<Int32Array> {
  return shared.zeros("int32", Math.max(n, 1));
}

test("every index is visited exactly once, for every schedule and chunking", async () => {
  const cases: Array<[number, { schedule?: "static" | "dynamic"; chunk?: number }]> = [
    [1000, {}],
    [1000, { schedule: "static" }],
    [1001, { schedule: "dynamic", chunk: 7 }],
    [1001, { schedule: "static", chunk: 7 }],
    [3, {}], // fewer indices than threads
    [3, { schedule: "static" }],
    [1, { schedule: "static" }],
    [100_003, { chunk: 1 }],
  ];
  for (const [n, opts] of cases) {
    const hits = visits(n);
    await engine.parallelFor(n, "visit", { hits }, opts);
    for (let i = 0; i < n; i++) {
      if (hits.data[i] !== 1) assert.unreachable(`n=${n} ${JSON.stringify(opts)}: index ${i} visited ${hits.data[i]} times`);
    }
  }
});

test("n = 0 runs nothing and resolves to []", async () => {
  const hits = visits(0);
  assert.equal(await engine.parallelFor(0, "visit", { hits }), []);
  assert.is(hits.data[0], 0);
});

test("results come back in chunk order with their ranges", async () => {
  const r = (await engine.parallelFor(103, "describeChunk", {}, { chunk: 10 })) as Array<{ start: number; end: number; chunk: number; threads: number }>;
  assert.is(r.length, 11);
  r.forEach((c, i) => {
    assert.is(c.chunk, i);
    assert.is(c.start, i * 10);
    assert.is(c.end, Math.min(103, i * 10 + 10));
    assert.is(c.threads, 5);
  });
});

test("static schedule puts chunk i on worker i % threads", async () => {
  const r = (await engine.parallelFor(40, "describeChunk", {}, { schedule: "static", chunk: 4 })) as Array<{ threadId: number }>;
  r.forEach((c, i) => assert.is(c.threadId, i % 5));
  const balanced = (await engine.parallelFor(12, "describeChunk", {}, { schedule: "static" })) as Array<{ start: number; end: number }>;
  assert.equal(
    balanced.map((c) => c.end - c.start),
    [3, 3, 2, 2, 2],
  );
});

test("run executes once; broadcast once per worker, in worker order", async () => {
  const one = (await engine.run("describeChunk")) as { start: number; end: number };
  assert.equal([one.start, one.end], [0, 1]);
  const all = (await engine.broadcast("describeChunk")) as Array<{ threadId: number; start: number }>;
  assert.equal(
    all.map((c) => c.threadId),
    [0, 1, 2, 3, 4],
  );
  assert.equal(
    all.map((c) => c.start),
    [0, 1, 2, 3, 4],
  );
});

test("broadcast runs SPMD kernels: all workers meet at a Barrier, phase after phase", async () => {
  const barrier = new Barrier(5);
  const marks = shared.zeros("int32", 5);
  const leaders = (await engine.broadcast("phases", { barrier, marks, phases: 200 })) as number[];
  assert.is(leaders.reduce((a, b) => a + b, 0), 200, "exactly one leader per phase");
});

test("many concurrent calls all complete with their own results", async () => {
  const calls = Array.from({ length: 200 }, (_, k) => engine.parallelFor(k % 17, "describeChunk", {}, { chunk: 1 }));
  const results = (await Promise.all(calls)) as Array<Array<{ start: number }>>;
  results.forEach((r, k) => {
    assert.is(r.length, k % 17);
    r.forEach((c, i) => assert.is(c.start, i));
  });
});

test("async kernels are awaited", async () => {
  assert.equal(await engine.parallelFor(4, "delayed", { ms: 5 }, { chunk: 1 }), [0, 1, 2, 3]);
});

test("args round-trip: shared arrays arrive live, plain values by value", async () => {
  const x = shared.from([1, 2, 3]);
  const back = (await engine.run("echo", { x, k: 3, s: "s", nested: { a: [1, { b: 2 }] } })) as Record<string, unknown>;
  assert.is(back["k"], 3);
  assert.equal(back["nested"], { a: [1, { b: 2 }] });
  const bx = back["x"] as NdArray<Float64Array>;
  assert.equal([...bx.data], [1, 2, 3]);
  bx.data[1] = 20; // the revived array is a view of the same memory, not a copy
  assert.is(x.data[1], 20);
});

test("reductions and RNG streams are identical for 1, 2 and 5 threads", async () => {
  const n = 100_000;
  const x = shared.zeros("float64", n);
  for (let i = 0; i < n; i++) x.data[i] = Math.sin(i) * 1e-3 + 1 / (i + 1);
  const sums: number[] = [];
  const hists: Float64Array[] = [];
  const streams: Float64Array[] = [];
  for (const threads of [1, 2, 5]) {
    const e = threads === 5 ? engine : await Engine.start({ threads, kernels: [fixture("kernels-basic")] });
    try {
      const total = reduction(0.5, "sum");
      await e.parallelFor(n, "sumInto", { x: readOnly(x), total });
      sums.push(total.value as number);
      const draws = shared.zeros("float64", 5000);
      await e.parallelFor(5000, "rngFill", { out: draws, seed: 99 }, { chunk: 37 });
      streams.push(draws.data);
      const u = shared.zeros("float64", n);
      for (let i = 0; i < n; i++) u.data[i] = (i * 0.6180339887) % 1;
      const bins = reduction(new Float64Array(10), "sum");
      await e.parallelFor(n, "histogram", { x: u, bins }, { schedule: "dynamic" });
      hists.push(bins.value as Float64Array);
    } finally {
      if (e !== engine) await e.close();
    }
  }
  assert.is(sums[0], sums[1]);
  assert.is(sums[0], sums[2]);
  let expected = 0;
  for (let i = 0; i < n; i++) expected += x.data[i]!;
  assert.ok(Math.abs(sums[0]! - 0.5 - expected) < 1e-9);
  assert.equal([...hists[0]!], [...hists[1]!]);
  assert.equal([...hists[0]!], [...hists[2]!]);
  assert.is(hists[0]!.reduce((a, b) => a + b, 0), n);
  // RNG streams depend only on seed and ids, never on which worker drew them.
  assert.equal([...streams[0]!], [...streams[1]!]);
  assert.equal([...streams[0]!], [...streams[2]!]);
});

test("min and max reductions", async () => {
  const x = shared.from([3, -7, 12, 0.5, 9, -2, 11]);
  const lo = reduction(Infinity, "min");
  const hi = reduction(-Infinity, "max");
  await engine.parallelFor(7, "extremes", { x, lo, hi }, { chunk: 2 });
  assert.is(lo.value, -7);
  assert.is(hi.value, 12);
  // The initial value takes part, as in any fold.
  const capped = reduction(5, "max");
  await engine.parallelFor(2, "extremes", { x, lo: reduction(0, "min"), hi: capped });
  assert.is(capped.value, 5);
});

test("rows() gives each chunk only its rows", async () => {
  const out = shared.zeros("float64", [50, 3]);
  await engine.parallelFor(50, "fillRows", { out: rows(out) }, { chunk: 7 });
  for (let r = 0; r < 50; r++) for (let c = 0; c < 3; c++) assert.is(out.get(r, c), r);
});

test("onProgress reports (done, total) and ends at (total, total)", async () => {
  const seen: Array<[number, number]> = [];
  await engine.parallelFor(40, "spin", { ms: 5 }, { chunk: 1, onProgress: (d, t) => seen.push([d, t]) });
  assert.ok(seen.length >= 2, `progress called ${seen.length} times`);
  assert.equal(seen[seen.length - 1], [40, 40]);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![0] >= seen[i - 1]![0], "progress never goes back");
});

test("a repeated call with the same arrays reuses the workers' revived args", async () => {
  const hits = visits(100);
  for (let k = 0; k < 50; k++) await engine.parallelFor(100, "visit", { hits });
  assert.ok(hits.data.slice(0, 100).every((v) => v === 50));
  // More distinct argument sets than the cache holds, interleaved: still all correct.
  const many = Array.from({ length: 40 }, () => visits(10));
  for (let round = 0; round < 3; round++) await Promise.all(many.map((h) => engine.parallelFor(10, "visit", { hits: h })));
  for (const h of many) assert.ok(h.data.every((v) => v === 3));
});

test.run();
