// Reductions that hand the workers a kept buffer (src/ops/stage.ts) rather
// than a fresh one per call: concurrent calls on one engine never share a
// buffer, each call's result is its own array (a later call does not write
// into an earlier result), and an aborted call leaves the next one right.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, ops, shared, type NdArray } from "sabre";

function table(rows: number, cols: number, seed: number): NdArray {
  const x = shared.empty("float32", [rows, cols]);
  const d = x.data as Float32Array;
  let s = seed >>> 0;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = (s / 2 ** 32 - 0.3) * 100;
  }
  return x;
}

const bits = (x: NdArray | number): number[] => (typeof x === "number" ? [x] : Array.from(x.data as Float64Array));

test("concurrent axis and whole-array reductions on one engine give their sequential results", async () => {
  const engine = await Engine.start({ threads: 2 });
  try {
    const a = table(30000, 24, 1);
    const b = table(30000, 24, 2);
    const calls = [
      () => ops.mean(a, { axis: 1, engine }),
      () => ops.mean(b, { axis: 1, engine }),
      () => ops.variance(a, { axis: 0, engine }),
      () => ops.variance(b, { axis: 0, engine }),
      () => ops.variance(a, { engine }),
      () => ops.std(b, { axis: 1, engine }),
    ];
    const alone: number[][] = [];
    for (const c of calls) alone.push(bits(await c()));
    for (let round = 0; round < 3; round++) {
      const together = await Promise.all(calls.map((c) => c()));
      together.forEach((r, i) => assert.equal(bits(r), alone[i]));
    }
  } finally {
    await engine.close();
  }
});

test("each call's result is its own array: a later call leaves an earlier result alone", async () => {
  const engine = await Engine.start({ threads: 2 });
  try {
    const a = table(20000, 24, 3);
    const b = table(20000, 24, 4);
    const ra = (await ops.mean(a, { axis: 1, engine })) as NdArray;
    const before = bits(ra);
    const rb = (await ops.mean(b, { axis: 1, engine })) as NdArray;
    assert.ok(ra.data.buffer !== rb.data.buffer);
    assert.equal(bits(ra), before);
    assert.not.equal(bits(rb), before);
    assert.equal(bits((await ops.mean(a, { axis: 1, engine })) as NdArray), before);
  } finally {
    await engine.close();
  }
});

test("an aborted axis reduction leaves the next call right", async () => {
  const engine = await Engine.start({ threads: 2 });
  try {
    const a = table(40000, 24, 5);
    const want0 = bits((await ops.variance(a, { axis: 0, engine })) as NdArray);
    const want1 = bits((await ops.mean(a, { axis: 1, engine })) as NdArray);
    for (const [axis, op] of [[0, ops.variance], [1, ops.mean]] as const) {
      const ac = new AbortController();
      const p = op(a, { axis, engine, signal: ac.signal });
      ac.abort();
      await p.then(
        () => undefined,
        (err: unknown) => assert.ok(err instanceof Error),
      );
    }
    assert.equal(bits((await ops.variance(a, { axis: 0, engine })) as NdArray), want0);
    assert.equal(bits((await ops.mean(a, { axis: 1, engine })) as NdArray), want1);
  } finally {
    await engine.close();
  }
});

test.run();
