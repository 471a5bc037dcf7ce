// Kernel results through shared memory (src/engine/dispatch.md, "results"):
// numbers and the other primitives come back exact and in chunk order,
// structured values still come through reports, reductions fold in chunk
// order whatever the thread count, errors still reject.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbortError, Engine, KernelError, reduction, readOnly, shared, type NdArray } from "sabre";
import { fixture, rejectsTyped } from "../helpers.js";
import { TABLE } from "../fixtures/results-table.js";

/** More workers than the machine's 2 cores. */
const THREADS = 6;
let engine: Engine;

test.before(async () => {
  engine = await Engine.start({ threads: THREADS, kernels: [fixture("kernels-results")] });
});
test.after(async () => {
  await engine.close();
});

/** Asserts every element of `got` is the same value as `want`'s (Object.is: -0 and NaN count). */
function same(got: unknown[], want: unknown[], what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.unreachable(`${what}: chunk ${i} gave ${String(got[i])}, expected ${String(want[i])}`);
  }
}

const tableFor = (nChunks: number) => Array.from({ length: nChunks }, (_, i) => TABLE[i % TABLE.length]);

test("numbers, booleans, null, undefined, NaN, -0 and Infinity come back exact, in chunk order", async () => {
  same(await engine.parallelFor(100, "table", {}, { chunk: 1 }), tableFor(100), "dynamic, chunk 1");
  same(await engine.parallelFor(100, "table", {}, { chunk: 1, schedule: "static" }), tableFor(100), "static, chunk 1");
  same(await engine.parallelFor(5, "table", {}, { schedule: "static" }), tableFor(5), "static, one chunk per worker");
  same(await engine.parallelFor(1000, "table", {}, { chunk: 3 }), tableFor(334), "chunk 3");
  same(await engine.parallelFor(4, "later", {}, { chunk: 1 }), [-0.5, -1.5, -2.5, -3.5], "async kernel");
});

test("a mix of numbers and structured values keeps chunk order", async () => {
  const got = await engine.parallelFor(53, "mixed", {}, { chunk: 1 });
  assert.is(got.length, 53);
  got.forEach((v, i) => {
    switch (i % 5) {
      case 0:
        assert.is(v, i + 0.5);
        break;
      case 1:
        assert.equal(v, { chunk: i });
        break;
      case 2:
        assert.is(v, `s${i}`);
        break;
      case 3:
        assert.is(v, BigInt(i));
        break;
      default:
        assert.equal(v, [i, true]);
    }
  });
});

test("run and broadcast return numbers and objects", async () => {
  assert.is(await engine.run("affine", { a: 7 }), 7000.25);
  assert.is(await engine.run("table"), 0);
  assert.equal(await engine.run("mixed"), 0.5);
  assert.equal(await engine.broadcast("whoAmI"), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
  assert.equal(await engine.broadcast("mixed"), [0.5, { chunk: 1 }, "s2", 3n, [4, true], 5.5]);
  same(await engine.broadcast("table"), tableFor(THREADS), "broadcast table");
});

// ---- reductions ----------------------------------------------------------------------------------

const N = 100_003;
/**
 * Values of very different magnitudes and both signs, both within a chunk and
 * from chunk to chunk: the sum depends on the order of additions, and so
 * does the fold of the partials.
 */
function data(): NdArray<Float64Array> {
  const x = shared.empty("float64", N) as NdArray<Float64Array>;
  for (let i = 0; i < N; i++) {
    x.data[i] = (((i * 7919) % 1000) - 500) * 10 ** ((i % 7) + (Math.floor(i / 997) % 23) - 14) * (1 + (i % 3) * 1e-9);
  }
  return x;
}

/** The chunks a reduction call without a chunk option gets (plan.ts: 64, whatever the thread count). */
function chunks(n: number): Array<[number, number]> {
  const size = Math.max(1, Math.ceil(n / 64));
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

/** What the engine computed before results moved to shared memory, and must still: a fold of per-chunk partials in chunk order. */
function expectedSum(x: Float64Array, initial: number): number {
  let acc = initial;
  for (const [a, b] of chunks(x.length)) {
    let s = 0;
    for (let i = a; i < b; i++) s += x[i]!;
    acc = acc + (0 + s);
  }
  return acc;
}

function expectedWeighted(x: Float64Array, width: number): Float64Array {
  const acc = new Float64Array(width);
  for (const [a, b] of chunks(x.length)) {
    const p = new Float64Array(width);
    for (let i = a; i < b; i++) p[i % width]! += x[i]!;
    for (let k = 0; k < width; k++) acc[k] = acc[k]! + p[k]!;
  }
  return acc;
}

interface Outcome {
  sum: number;
  lo: number;
  hi: number;
  weighted: Float64Array;
  loWide: Float64Array;
  hiWide: Float64Array;
}

async function reduceAll(e: Engine, x: NdArray<Float64Array>): Promise<Outcome> {
  const total = reduction(0.125, "sum");
  await e.parallelFor(N, "sum", { x: readOnly(x), total });
  const lo = reduction(Infinity, "min");
  const hi = reduction(-Infinity, "max");
  await e.parallelFor(N, "extremes", { x, lo, hi });
  const bins = reduction(new Float64Array(7), "sum");
  await e.parallelFor(N, "weighted", { x, bins });
  const loWide = reduction(new Float64Array(3).fill(Infinity), "min");
  const hiWide = reduction([-Infinity, -Infinity, -Infinity], "max");
  await e.parallelFor(N, "extremesWide", { x, lo: loWide, hi: hiWide });
  return {
    sum: total.value as number,
    lo: lo.value as number,
    hi: hi.value as number,
    weighted: bins.value as Float64Array,
    loWide: loWide.value as Float64Array,
    hiWide: hiWide.value as Float64Array,
  };
}

test("reductions (sum, min, max; scalar and array) give the same bits for 1, 2, 3 and 6 threads", async () => {
  const x = data();
  const want = expectedSum(x.data, 0.125);
  let plain = 0.125;
  for (let i = 0; i < N; i++) plain += x.data[i]!;
  let reversed = 0.125;
  const parts = chunks(N).map(([a, b]) => {
    let s = 0;
    for (let i = a; i < b; i++) s += x.data[i]!;
    return s;
  });
  for (let c = parts.length - 1; c >= 0; c--) reversed += parts[c]!;
  assert.ok(!Object.is(plain, want), "the data must make the sum depend on the order of additions");
  assert.ok(!Object.is(reversed, want), "the data must make the fold depend on the order of the chunks");
  const outcomes: Outcome[] = [];
  for (const threads of [1, 2, 3, THREADS]) {
    const e = threads === THREADS ? engine : await Engine.start({ threads, kernels: [fixture("kernels-results")] });
    try {
      outcomes.push(await reduceAll(e, x));
    } finally {
      if (e !== engine) await e.close();
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  const loWide = new Float64Array(3).fill(Infinity);
  const hiWide = new Float64Array(3).fill(-Infinity);
  for (let i = 0; i < N; i++) {
    const v = x.data[i]!;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    loWide[i % 3] = Math.min(loWide[i % 3]!, v);
    hiWide[i % 3] = Math.max(hiWide[i % 3]!, v);
  }
  const weighted = expectedWeighted(x.data, 7);
  for (const [k, o] of outcomes.entries()) {
    const what = `${[1, 2, 3, THREADS][k]} threads`;
    assert.ok(Object.is(o.sum, want), `${what}: sum ${o.sum}, expected ${want}`);
    assert.is(o.lo, lo, what);
    assert.is(o.hi, hi, what);
    same([...o.weighted], [...weighted], `${what}: weighted`);
    same([...o.loWide], [...loWide], `${what}: min, array`);
    same([...o.hiWide], [...hiWide], `${what}: max, array`);
  }
});

test("two reductions in one call are told apart by name, whatever the key order", async () => {
  const x = shared.from([1, 5, 2, 8, 3]) as NdArray<Float64Array>;
  for (let round = 0; round < 3; round++) {
    const zeta = reduction(0, "sum");
    const alpha = reduction(-Infinity, "max");
    // Equal args in another key order share the workers' cached args set.
    const args = round % 2 === 0 ? { zeta, alpha, x } : { x, alpha, zeta };
    await engine.parallelFor(5, "twoReductions", args, { chunk: 2 });
    assert.is(zeta.value, 19, `round ${round}: zeta`);
    assert.is(alpha.value, 8, `round ${round}: alpha`);
  }
});

test("a reduction set to something other than a number fails its chunk", async () => {
  await rejectsTyped(engine.parallelFor(4, "badTotal", { total: reduction(0) }), KernelError, /reduction "total".*must be a number/);
});

test("an args object changed between calls is sent again (the last args object is remembered)", async () => {
  const args: Record<string, unknown> = { a: 1 };
  assert.equal(await engine.parallelFor(2, "affine", args, { chunk: 1 }), [1000.25, 1001.25]);
  assert.equal(await engine.parallelFor(2, "affine", args, { chunk: 1 }), [1000.25, 1001.25]);
  args["a"] = 2;
  assert.equal(await engine.parallelFor(2, "affine", args, { chunk: 1 }), [2000.25, 2001.25]);
  delete args["a"];
  args["b"] = 5;
  args["a"] = 3;
  assert.equal(await engine.parallelFor(2, "affine", args, { chunk: 1 }), [3000.25, 3001.25]);
  const x = shared.from([1, 2, 3, 4]) as NdArray<Float64Array>;
  const withTotal: Record<string, unknown> = { x, total: reduction(0, "sum") };
  await engine.parallelFor(4, "sum", withTotal);
  assert.is((withTotal["total"] as { value: number }).value, 10);
  // Another array and another reduction in the same object.
  withTotal["x"] = shared.from([1, 1, 1, 1]);
  withTotal["total"] = reduction(0.5, "sum");
  await engine.parallelFor(4, "sum", withTotal);
  assert.is((withTotal["total"] as { value: number }).value, 4.5);
});

// ---- many calls, large calls, errors ------------------------------------------------------------

test("thousands of calls in flight all get their own exact results", async () => {
  const x = shared.from(Array.from({ length: 100 }, (_, i) => i * 0.5)) as NdArray<Float64Array>;
  const sumX = x.data.reduce((a, b) => a + b, 0);
  const calls: Array<Promise<void>> = [];
  let wrong = 0;
  const check = (ok: boolean) => {
    if (!ok) wrong++;
  };
  // More calls than the engine's 1024 job slots: some wait for a slot.
  for (let k = 0; k < 3000; k++) {
    const a = k % 13;
    switch (k % 4) {
      case 0: {
        const n = (k % 9) + 1;
        calls.push(
          engine.parallelFor(n, "affine", { a }, { chunk: 1 }).then((r) => check(r.length === n && r.every((v, i) => v === a * 1000 + i + 0.25))),
        );
        break;
      }
      case 1:
        calls.push(engine.run("affine", { a }).then((v) => check(v === a * 1000 + 0.25)));
        break;
      case 2: {
        const total = reduction(k, "sum");
        calls.push(engine.parallelFor(100, "sum", { x, total }, { chunk: 10 }).then(() => check(total.value === k + sumX)));
        break;
      }
      default:
        calls.push(engine.parallelFor(7, "mixed", {}, { chunk: 1 }).then((r) => check(r[0] === 0.5 && (r[1] as { chunk: number }).chunk === 1 && r[5] === 5.5)));
    }
  }
  await Promise.all(calls);
  assert.is(wrong, 0, `${wrong} of ${calls.length} calls got a wrong result`);
});

test("calls with very many chunks or very wide reductions (a results arena of their own)", async () => {
  const n = 200_001;
  for (let round = 0; round < 2; round++) {
    const r = (await engine.parallelFor(n, "affine", { a: round }, { chunk: 1 })) as number[];
    assert.is(r.length, n);
    for (let i = 0; i < n; i++) if (r[i] !== round * 1000 + i + 0.25) assert.unreachable(`round ${round}: chunk ${i} gave ${r[i]}`);
    const x = shared.from(Array.from({ length: 6400 }, (_, i) => (i % 7) + 0.5)) as NdArray<Float64Array>;
    const bins = reduction(new Float64Array(3000), "sum");
    await engine.parallelFor(6400, "weighted", { x, bins });
    same([...(bins.value as Float64Array)], [...expectedWeighted(x.data, 3000)], `round ${round}: wide reduction`);
  }
  // Small calls still work after them.
  assert.equal(await engine.parallelFor(3, "affine", { a: 1 }, { chunk: 1 }), [1000.25, 1001.25, 1002.25]);
});

test("an error in one chunk still rejects with KernelError naming the chunk; later calls are exact", async () => {
  for (let round = 0; round < 20; round++) {
    const err = await rejectsTyped(engine.parallelFor(40, "retOrThrow", { at: 17 + round }, { chunk: 4 }), KernelError, /bad index/);
    const at = 17 + round;
    const start = at - (at % 4);
    assert.equal(err.chunk, { start, end: start + 4 });
    const ok = await engine.parallelFor(40, "retOrThrow", { at: -1 }, { chunk: 4 });
    same(ok, Array.from({ length: 10 }, (_, i) => i * 2), `round ${round}`);
  }
  // Failing and succeeding calls in flight together.
  const mixed = await Promise.allSettled(
    Array.from({ length: 200 }, (_, k) => engine.parallelFor(12, "retOrThrow", { at: k % 2 === 0 ? 5 : -1 }, { chunk: 1 })),
  );
  mixed.forEach((r, k) => {
    if (k % 2 === 0) assert.ok(r.status === "rejected" && r.reason instanceof KernelError, `call ${k} should fail`);
    else assert.ok(r.status === "fulfilled" && r.value.every((v, i) => v === i * 2), `call ${k} should succeed`);
  });
});

test("a chunk still running after its call was aborted never writes into another call's results", async () => {
  for (let round = 0; round < 3; round++) {
    const ac = new AbortController();
    // Chunk 0 runs long enough that the abort (due at 5 ms) lands while it runs even when timers are late under load.
    const slow = engine.parallelFor(THREADS, "slowFirst", { ms: 400 }, { chunk: 1, signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    await rejectsTyped(slow, AbortError);
    // While chunk 0 runs on, the other workers serve calls of the same size; none may see its -1.
    const until = Date.now() + 150;
    let calls = 0;
    while (Date.now() < until || calls < 10) {
      const r = await engine.parallelFor(THREADS, "affine", { a: calls % 5 }, { chunk: 1 });
      same(r, Array.from({ length: THREADS }, (_, i) => (calls % 5) * 1000 + i + 0.25), `round ${round}, call ${calls}`);
      calls++;
    }
  }
});

test.run();
