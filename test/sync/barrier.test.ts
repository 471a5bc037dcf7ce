import { test } from "uvu";
import { availableParallelism } from "node:os";
import * as assert from "uvu/assert";
import { AbortError, Barrier, BrokenBarrierError, SabreTypeError, Semaphore, TimeoutError, deserialize, serialize } from "sabre";
import { fixture, rejectsTyped, runWorkers, throwsTyped } from "../helpers.js";

const worker = fixture("coord-barrier");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Once = { ok: boolean; leader?: boolean; generation?: number; error?: string; ms: number };

function int32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(n, 1) * 4));
}

/** Starts `count` workers that each call wait(timeout) once; resolves with their reports. */
function waiters(barrier: Barrier, count: number, timeout = 10_000, delay = 0): Promise<Once[]> {
  return runWorkers<Once>(worker, count, () => serialize({ mode: "once", barrier, timeout, delay }));
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(1);
  }
}

test("6 workers x 1000 phases: every party sees every write, one leader per generation, generations 0, 1, 2, ...", async () => {
  const n = 6;
  const phases = 1000;
  const barrier = new Barrier(n);
  const cells = int32(2 * n).fill(-1);
  const leaders = int32(phases);
  const gens = int32(n * phases).fill(-1);
  const results = await runWorkers<{ errors: number }>(worker, n, (me) =>
    serialize({ mode: "phases", barrier, cells, leaders, gens, me, n, phases }),
  );
  assert.equal(results.map((r) => r.errors), new Array(n).fill(0));
  for (let p = 0; p < phases; p++) {
    assert.is(leaders[p], 1, `phase ${p} had ${leaders[p]} leaders`);
    for (let w = 0; w < n; w++) assert.is(gens[w * phases + p], p, `worker ${w} phase ${p}`);
  }
  assert.is(barrier.waiting, 0);
  assert.not.ok(barrier.isBroken);
});

for (const timeout of [undefined, 20_000]) {
  test(`16 parties on ${availableParallelism()} cores (oversubscribed) x 400 phases${timeout ? ", every wait timed" : ""}: exact`, async () => {
    const n = 16;
    const phases = 400;
    const barrier = new Barrier(n);
    const cells = int32(2 * n).fill(-1);
    const leaders = int32(phases);
    const gens = int32(n * phases).fill(-1);
    const results = await runWorkers<{ errors: number }>(worker, n, (me) =>
      serialize({ mode: "phases", barrier, cells, leaders, gens, me, n, phases, timeout }),
    );
    assert.equal(results.map((r) => r.errors), new Array(n).fill(0));
    for (let p = 0; p < phases; p++) {
      assert.is(leaders[p], 1, `phase ${p} had ${leaders[p]} leaders`);
      for (let w = 0; w < n; w++) assert.is(gens[w * phases + p], p, `worker ${w} phase ${p}`);
    }
    assert.is(barrier.waiting, 0);
    assert.not.ok(barrier.isBroken);
  });
}

test("timeouts racing arrivals with 16 parties (oversubscribed, 100 rounds): all released with one leader, or one TimeoutError and the rest broken", async () => {
  const n = 16;
  const rounds = 100;
  const barrier = new Barrier(n);
  const control = new Barrier(n);
  const outcomes = int32(rounds * n);
  const gens = int32(rounds * n).fill(-1);
  await runWorkers(worker, n, (me) => serialize({ mode: "chaos", barrier, control, outcomes, gens, me, n, rounds }));
  for (let r = 0; r < rounds; r++) {
    const codes = Array.from(outcomes.subarray(r * n, (r + 1) * n));
    const count = (c: number) => codes.filter((x) => x === c).length;
    const released = count(1) + count(2);
    if (released > 0) {
      assert.is(released, n, `round ${r}: ${codes}`);
      assert.is(count(2), 1, `round ${r}: one leader`);
    } else {
      assert.is(count(3), 1, `round ${r}: exactly one TimeoutError (${codes})`);
      assert.is(count(4), n - 1, `round ${r}: the rest broken (${codes})`);
    }
  }
});

test("the main thread takes part with waitAsync next to workers", async () => {
  const n = 3;
  const phases = 300;
  const barrier = new Barrier(n);
  const cells = int32(2 * n).fill(-1);
  const leaders = int32(phases);
  const gens = int32(n * phases).fill(-1);
  const run = runWorkers<{ errors: number }>(worker, n - 1, (me) =>
    serialize({ mode: "phases", barrier, cells, leaders, gens, me, n, phases }),
  );
  const me = n - 1;
  let errors = 0;
  for (let p = 0; p < phases; p++) {
    const half = (p % 2) * n;
    Atomics.store(cells, half + me, p);
    const { leader, generation } = await barrier.waitAsync({ timeout: 10_000 });
    if (leader) Atomics.add(leaders, p, 1);
    gens[me * phases + p] = generation;
    for (let j = 0; j < n; j++) if (Atomics.load(cells, half + j) !== p) errors++;
  }
  const results = await run;
  assert.is(errors, 0);
  assert.equal(results.map((r) => r.errors), [0, 0]);
  for (let p = 0; p < phases; p++) {
    assert.is(leaders[p], 1, `phase ${p}`);
    for (let w = 0; w < n; w++) assert.is(gens[w * phases + p], p);
  }
});

test("timeouts racing arrivals (6 workers, 300 rounds): each round is all-released with one leader, or one TimeoutError and the rest broken", async () => {
  const n = 6;
  const rounds = 300;
  const barrier = new Barrier(n);
  const control = new Barrier(n);
  const outcomes = int32(n * rounds);
  const gens = int32(n * rounds).fill(-1);
  await runWorkers(worker, n, (me) => serialize({ mode: "chaos", barrier, control, outcomes, gens, me, n, rounds }));
  let generation = 0;
  let broken = 0;
  for (let r = 0; r < rounds; r++) {
    const codes = Array.from(outcomes.subarray(r * n, (r + 1) * n));
    if (codes.some((c) => c === 1 || c === 2)) {
      assert.ok(codes.every((c) => c === 1 || c === 2), `round ${r} mixed released and failed parties: ${codes}`);
      assert.is(codes.filter((c) => c === 2).length, 1, `round ${r}: ${codes}`);
      assert.equal(Array.from(gens.subarray(r * n, (r + 1) * n)), new Array(n).fill(generation), `round ${r}`);
      generation++;
    } else {
      assert.equal(codes.slice().sort(), [3, 4, 4, 4, 4, 4], `round ${r}: ${codes}`);
      broken++;
    }
  }
  // Rounds with a 0 or 1 ms timeout mostly break; the rest always complete.
  assert.ok(broken > 0 && generation >= rounds * 0.6, `${broken} broken, ${generation} completed`);
  assert.not.ok(barrier.isBroken);
});

test("Barrier(1) releases every wait at once, each its own generation's leader", () => {
  const b = new Barrier(1);
  for (let g = 0; g < 5; g++) assert.equal(b.wait(0), { leader: true, generation: g });
});

test("a timeout breaks the barrier for every waiting party; later waits fail at once; reset restores it", async () => {
  const b = new Barrier(5);
  const run = waiters(b, 3);
  await until(() => b.waiting === 3, "3 workers to arrive");
  const t0 = performance.now();
  throwsTyped(() => b.wait(50), TimeoutError, /Barrier\.wait timed out after 50 ms/);
  const ms = performance.now() - t0;
  assert.ok(ms >= 45 && ms < 1000, `timed out after ${ms} ms`);
  const results = await run;
  assert.equal(results.map((r) => r.error), ["BrokenBarrierError", "BrokenBarrierError", "BrokenBarrierError"]);
  assert.ok(b.isBroken);
  assert.is(b.waiting, 0);
  throwsTyped(() => b.wait(), BrokenBarrierError, /reset\(\)/);
  await rejectsTyped(b.waitAsync(), BrokenBarrierError);
  const late = await waiters(b, 1);
  assert.is(late[0]!.error, "BrokenBarrierError");

  b.reset();
  assert.not.ok(b.isBroken);
  const again = waiters(b, 4);
  const mine = await b.waitAsync({ timeout: 10_000 });
  const all = [...(await again), { ok: true, ...mine, ms: 0 }];
  assert.ok(all.every((r) => r.ok), JSON.stringify(all));
  assert.is(all.filter((r) => r.leader).length, 1);
  // Broken generations do not count: this is the first completed one.
  assert.ok(all.every((r) => r.generation === 0));
});

test("a timeout in one worker: that worker gets TimeoutError, the others BrokenBarrierError", async () => {
  const b = new Barrier(4);
  const patient = waiters(b, 2);
  await until(() => b.waiting === 2, "2 workers to arrive");
  const [impatient] = await waiters(b, 1, 50);
  assert.is(impatient!.error, "TimeoutError");
  assert.ok(impatient!.ms >= 45 && impatient!.ms < 1000, `timed out after ${impatient!.ms} ms`);
  assert.equal((await patient).map((r) => r.error), ["BrokenBarrierError", "BrokenBarrierError"]);
});

test("abort breaks the barrier: AbortError for the aborted party, BrokenBarrierError for the others", async () => {
  const b = new Barrier(4);
  const run = waiters(b, 2);
  await until(() => b.waiting === 2, "2 workers to arrive");
  const ac = new AbortController();
  const p = b.waitAsync({ signal: ac.signal });
  setTimeout(() => ac.abort(new Error("user cancelled")), 20);
  const err = await rejectsTyped(p, AbortError, /Barrier\.waitAsync was aborted/);
  assert.is((err.cause as Error).message, "user cancelled");
  assert.equal((await run).map((r) => r.error), ["BrokenBarrierError", "BrokenBarrierError"]);
  assert.ok(b.isBroken);

  // An already-aborted signal breaks it too (the party can never arrive), and a broken barrier says so first.
  b.reset();
  await rejectsTyped(b.waitAsync({ signal: AbortSignal.abort() }), AbortError);
  assert.ok(b.isBroken);
  await rejectsTyped(b.waitAsync({ signal: AbortSignal.abort() }), BrokenBarrierError);
});

test("an async timeout breaks the barrier too", async () => {
  const b = new Barrier(2);
  const t0 = performance.now();
  await rejectsTyped(b.waitAsync({ timeout: 50 }), TimeoutError, /after 50 ms/);
  const ms = performance.now() - t0;
  assert.ok(ms >= 45 && ms < 1000, `timed out after ${ms} ms`);
  assert.ok(b.isBroken);
});

test("reset() breaks the parties waiting and opens a fresh generation", async () => {
  const b = new Barrier(3);
  const run = waiters(b, 2);
  await until(() => b.waiting === 2, "2 workers to arrive");
  b.reset();
  assert.equal((await run).map((r) => r.error), ["BrokenBarrierError", "BrokenBarrierError"]);
  assert.not.ok(b.isBroken);
  assert.is(b.waiting, 0);
  b.reset(); // idle: nothing to break
  const again = waiters(b, 2);
  const mine = await b.waitAsync({ timeout: 10_000 });
  const all = [...(await again), mine];
  assert.is(all.filter((r) => r.leader).length, 1);
  assert.ok(all.every((r) => r.generation === 0));
});

test("waitAsync does not block the event loop while it waits", async () => {
  const b = new Barrier(2);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    const run = waiters(b, 1, 10_000, 150); // the worker arrives ~150 ms late
    const r = await b.waitAsync({ timeout: 10_000 });
    const [other] = await run;
    assert.ok(other!.ok);
    assert.is(r.leader !== other!.leader, true);
    assert.ok(ticks > 0, "no timer tick ran while waitAsync waited");
  } finally {
    clearInterval(timer);
  }
});

test("a late waiter tells a completed generation from a broken one, whatever happened since", async () => {
  // Async parties in one thread: their continuations run only after all the
  // synchronous code below, so they "wake" after later generations and resets.
  const b = new Barrier(2);
  const a = b.waitAsync(); // generation 0
  const lead0 = await b.waitAsync(); // completes generation 0 (a has not looked yet)
  assert.equal(lead0, { leader: true, generation: 0 });
  const c = b.waitAsync(); // generation 1 ...
  b.reset(); // ... broken by a reset
  const d = b.waitAsync();
  const e = b.waitAsync(); // generation 1 again, completed by d and e
  const f = b.waitAsync(); // generation 2 ...
  b.reset(); // ... broken
  const [ra, rc, rd, re, rf] = await Promise.allSettled([a, c, d, e, f]);
  const ok = (r: PromiseSettledResult<unknown> | undefined) => (r?.status === "fulfilled" ? r.value : r?.reason);
  assert.equal(ok(ra), { leader: false, generation: 0 });
  assert.instance(ok(rc), BrokenBarrierError);
  assert.equal(ok(rd), { leader: false, generation: 1 });
  assert.equal(ok(re), { leader: true, generation: 1 });
  assert.instance(ok(rf), BrokenBarrierError);
});

test("a barrier revived by deserialize is the same barrier", async () => {
  const b = new Barrier(3);
  const twin = deserialize<{ b: Barrier }>(serialize({ b })).b;
  assert.is(twin.parties, 3);
  const pending = b.waitAsync();
  assert.is(twin.waiting, 1);
  twin.reset();
  assert.is(b.waiting, 0);
  await rejectsTyped(pending, BrokenBarrierError);
});

test("bad input is a SabreTypeError naming what was wrong", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity, 4097, 2 ** 40, "3", null, undefined]) {
    throwsTyped(() => new Barrier(bad as number), SabreTypeError, /Barrier parties must be an integer in \[1, 4096\]/);
  }
  const b = new Barrier(2);
  for (const bad of [-1, NaN, "10", null]) {
    throwsTyped(() => b.wait(bad as number), SabreTypeError, /timeout must be a number of milliseconds/);
  }
  assert.is(b.waiting, 0, "a refused call must not arrive");
});

test("bad options reject (async) before arriving", async () => {
  const b = new Barrier(2);
  for (const bad of ["x", 5, null, []]) {
    // @ts-expect-error: not an options object
    await rejectsTyped(b.waitAsync(bad), SabreTypeError, /options must be an object/);
  }
  await rejectsTyped(b.waitAsync({ timeout: -5 }), SabreTypeError, /timeout/);
  // @ts-expect-error: not a signal
  await rejectsTyped(b.waitAsync({ signal: {} }), SabreTypeError, /signal must be an AbortSignal/);
  assert.is(b.waiting, 0);
});

test("forged or foreign payloads are refused", () => {
  const good = serialize(new Barrier(2)) as unknown as { root: Record<string, unknown> };
  const forge = (patch: Record<string, unknown>) => ({ ...good, root: { ...good.root, ...patch } });
  throwsTyped(() => deserialize(forge({ buffer: new ArrayBuffer(320) })), SabreTypeError, /must be a SharedArrayBuffer/);
  throwsTyped(() => deserialize(forge({ buffer: new SharedArrayBuffer(64) })), SabreTypeError, /has 64 bytes, a Barrier has 320/);
  throwsTyped(() => deserialize(forge({ buffer: new SharedArrayBuffer(320) })), SabreTypeError, /does not hold a Barrier/);
  throwsTyped(() => deserialize(forge({ buffer: undefined })), SabreTypeError, /Barrier/);
  // A semaphore's memory handed over as a barrier:
  const sem = serialize(new Semaphore(1)) as unknown as { root: Record<string, unknown> };
  throwsTyped(() => deserialize(forge({ buffer: sem.root["buffer"] })), SabreTypeError, /Barrier/);
  // Right header, impossible contents:
  const buf = good.root["buffer"] as SharedArrayBuffer;
  const copy = new SharedArrayBuffer(320);
  new Uint8Array(copy).set(new Uint8Array(buf));
  new Int32Array(copy)[1] = 0; // parties
  throwsTyped(() => deserialize(forge({ buffer: copy })), SabreTypeError, /impossible Barrier party count 0/);
  new Int32Array(copy)[1] = 2;
  new BigUint64Array(copy)[8] = 5n; // 5 of 2 parties arrived
  throwsTyped(() => deserialize(forge({ buffer: copy })), SabreTypeError, /impossible Barrier state/);
});

test.run();
