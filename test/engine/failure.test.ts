// Failures: kernel throws, worker crashes, aborts, close during work, checked-mode races.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  AbortError,
  ClosedError,
  Engine,
  KernelError,
  Mutex,
  RaceError,
  RandomForestClassifier,
  WorkerCrashedError,
  readOnly,
  rng,
  rows,
  shared,
} from "sabre";
import { fixture, rejectsTyped } from "../helpers.js";

const kernels = [fixture("kernels-basic")];

test("a kernel that throws rejects with KernelError: message, stack, worker, chunk; other chunks stop", async () => {
  const engine = await Engine.start({ threads: 3, kernels });
  try {
    const err = await rejectsTyped(engine.parallelFor(1000, "throwAt", { at: 500 }, { chunk: 10 }), KernelError, /bad index 500/);
    assert.is(err.code, "ERR_SABRE_KERNEL");
    assert.is(err.kernel, "throwAt");
    assert.equal(err.chunk, { start: 500, end: 510 });
    assert.ok(err.workerId >= 0 && err.workerId < 3);
    assert.match(err.kernelStack ?? "", /RangeError: bad index 500/);
    await rejectsTyped(engine.parallelFor(300, "throwAt", { at: 0 }, { chunk: 1, schedule: "static" }), KernelError);
    // The engine is still fine afterwards.
    const after = shared.zeros("int32", 50);
    await engine.parallelFor(50, "visit", { hits: after });
    assert.ok(after.data.every((v) => v === 1));
  } finally {
    await engine.close();
  }
});

test("a failing chunk stops the others early", async () => {
  const engine = await Engine.start({ threads: 2, kernels });
  try {
    // chunk 0 fails at once; each other chunk would take 2 ms: 2000 chunks = 2 s per worker if nothing stopped them.
    const t0 = performance.now();
    await rejectsTyped(engine.parallelFor(2000, "throwSlowly", { at: 0, ms: 2 }, { chunk: 1 }), KernelError);
    await engine.parallelFor(1, "sabre.noop"); // wait for the workers to leave the failed call
    const elapsed = performance.now() - t0;
    assert.ok(elapsed < 1500, `took ${elapsed} ms`);
  } finally {
    await engine.close();
  }
});

test("a worker that exits mid-call rejects with WorkerCrashedError, is replaced, and the engine keeps working", async () => {
  const engine = await Engine.start({ threads: 3, kernels });
  try {
    const err = await rejectsTyped(engine.parallelFor(30, "exitWorker", { at: 10 }, { chunk: 5 }), WorkerCrashedError, /exit/);
    assert.is(err.code, "ERR_SABRE_WORKER_CRASHED");
    for (let round = 0; round < 3; round++) {
      const hits = shared.zeros("int32", 600);
      await engine.parallelFor(600, "visit", { hits }, { schedule: round === 1 ? "static" : "dynamic" });
      assert.ok(hits.data.every((v) => v === 1), `round ${round}`);
    }
    const all = (await engine.broadcast("describeChunk")) as Array<{ threadId: number }>;
    assert.equal(
      all.map((c) => c.threadId),
      [0, 1, 2],
    );
    // Every worker crashing in one call is survived too.
    await rejectsTyped(engine.broadcast("exitWorker", { at: 0 }).then(() => engine.broadcast("exitWorker", { at: 1 })), WorkerCrashedError);
    const hits = shared.zeros("int32", 100);
    await engine.parallelFor(100, "visit", { hits });
    assert.ok(hits.data.every((v) => v === 1));
  } finally {
    await engine.close();
  }
});

test("a replacement that dies while it is still starting fails its call, and the next replacement carries on", async () => {
  const engine = await Engine.start({ threads: 2, kernels });
  try {
    await rejectsTyped(engine.broadcast("exitWorker", { at: 0 }), WorkerCrashedError);
    // Published while worker 0's replacement is starting: the replacement runs it during start-up and dies too.
    await rejectsTyped(engine.broadcast("exitWorker", { at: 0 }), WorkerCrashedError);
    // Its successor must start after that job (not re-run it), and static chunks of worker 0 must run exactly once.
    for (let round = 0; round < 3; round++) {
      const hits = shared.zeros("int32", 50);
      await engine.parallelFor(50, "visit", { hits }, { schedule: "static" });
      assert.ok(hits.data.every((v) => v === 1), `round ${round}`);
    }
  } finally {
    await engine.close();
  }
});

test("a worker that runs out of memory crashes alone and is replaced", async () => {
  const engine = await Engine.start({ threads: 2, kernels: [...kernels, fixture("kernels-oom")], workerHeapMB: 64 });
  try {
    const err = await rejectsTyped(engine.run("hog"), WorkerCrashedError);
    assert.match(err.message, /memory|exit/i);
    const hits = shared.zeros("int32", 10);
    await engine.parallelFor(10, "visit", { hits });
    assert.ok(hits.data.every((v) => v === 1));
  } finally {
    await engine.close();
  }
});

test("a worker dying while it holds a Mutex: the next locker gets OwnerDiedError, repairs, and work goes on", async () => {
  const engine = await Engine.start({ threads: 3, kernels });
  try {
    const lock = new Mutex();
    const cell = shared.zeros("int32", 1);
    await rejectsTyped(engine.run("dieHolding", { lock }), WorkerCrashedError);
    // Exactly one locker sees the death and repairs; every increment still happens once.
    const repaired = (await engine.parallelFor(3000, "lockedIncrements", { lock, cell }, { chunk: 100 })) as number[];
    assert.is(repaired.reduce((a, b) => a + b, 0), 1);
    assert.is(cell.data[0], 3000);
    lock.lock(); // consistent again: an ordinary lock from the main thread
    lock.unlock();
  } finally {
    await engine.close();
  }
});

test("an AbortSignal cancels between chunks", async () => {
  const engine = await Engine.start({ threads: 2, kernels });
  try {
    const ac = new AbortController();
    const call = engine.parallelFor(1000, "spin", { ms: 2 }, { chunk: 1, signal: ac.signal });
    setTimeout(() => ac.abort(new Error("enough")), 30);
    const t0 = performance.now();
    const err = await rejectsTyped(call, AbortError);
    assert.is(err.code, "ERR_SABRE_ABORTED");
    assert.ok(performance.now() - t0 < 1000);
    // Already-aborted signals reject at once.
    await rejectsTyped(engine.parallelFor(10, "sabre.noop", {}, { signal: AbortSignal.abort() }), AbortError);
    await rejectsTyped(engine.run("sabre.noop", {}, { signal: AbortSignal.abort() }), AbortError);
    const hits = shared.zeros("int32", 10);
    await engine.parallelFor(10, "visit", { hits });
    assert.ok(hits.data.every((v) => v === 1));
  } finally {
    await engine.close();
  }
});

test("close() while work runs rejects it with ClosedError; later calls too", async () => {
  const engine = await Engine.start({ threads: 2, kernels });
  const call = engine.parallelFor(100, "spin", { ms: 10 }, { chunk: 1 });
  const outcome = call.then(
    () => undefined,
    (e: unknown) => e,
  );
  await new Promise((r) => setTimeout(r, 20));
  await engine.close();
  await rejectsTyped(outcome.then((e) => Promise.reject(e)), ClosedError);
  await rejectsTyped(engine.parallelFor(1, "sabre.noop"), ClosedError);
  await engine.close(); // idempotent
});

test("checked mode: writing a readOnly array or outside the chunk's rows is a RaceError", async () => {
  const engine = await Engine.start({ threads: 2, kernels, checked: true });
  try {
    const x = shared.zeros("float64", 10);
    const err = await rejectsTyped(engine.run("writeReadOnly", { x: readOnly(x) }), RaceError, /writeReadOnly/);
    assert.match(err.message, /x\.data\[3\]/);
    assert.is(x.data[3], 0, "the write did not happen");
    const out = shared.zeros("float64", [20, 2]);
    const err2 = await rejectsTyped(engine.parallelFor(20, "writePastRows", { out: rows(out) }, { chunk: 5 }), RaceError, /writePastRows/);
    assert.match(err2.message, /out\.data\[\d+\]/);
    // Correct kernels still run in checked mode.
    await engine.parallelFor(20, "fillRows", { out: rows(out) }, { chunk: 3 });
    for (let r = 0; r < 20; r++) assert.is(out.get(r, 1), r);
  } finally {
    await engine.close();
  }
});

test("checked mode guards user kernels only: a forest fits on a checked engine, with the same trees as unchecked", async () => {
  const engine = await Engine.start({ threads: 2, checked: true });
  const plain = await Engine.start({ threads: 2 });
  try {
    const r = rng(5);
    const X = shared.zeros("float32", [300, 4]);
    const y = new Int32Array(300);
    for (let i = 0; i < 300; i++) {
      for (let f = 0; f < 4; f++) X.set(i, f, r.float());
      y[i] = X.get(i, 0) + X.get(i, 2) > 1 ? 1 : 0;
    }
    const fit = async (e: Engine) => {
      const rf = new RandomForestClassifier({ nEstimators: 4, seed: 2, engine: e });
      await rf.fit(X, y);
      return JSON.stringify(rf.toJSON());
    };
    assert.is(await fit(engine), await fit(plain));
  } finally {
    await engine.close();
    await plain.close();
  }
});

function runScript(name: string, onStdout?: (chunk: string, kill: (sig: NodeJS.Signals) => void) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [fileURLToPath(fixture(name))], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      onStdout?.(out, (sig) => child.kill(sig));
    });
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not exit within 20 s: ${out}`));
    }, 20_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, ms: performance.now() - t0 });
    });
  });
}

test("the default engine's workers do not keep a script alive", async () => {
  const r = await runScript("default-engine-script");
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /^ok \d+/);
});

test("SIGINT still ends a program that has an engine", async () => {
  let sent = false;
  const r = await runScript("sigint-script", (out, kill) => {
    if (!sent && out.includes("ready")) {
      sent = true;
      kill("SIGINT");
    }
  });
  assert.ok(sent, r.out);
  assert.is(r.signal, "SIGINT", `exit code ${r.code}, signal ${r.signal}: Node's default SIGINT behaviour`);
});

test.run();
