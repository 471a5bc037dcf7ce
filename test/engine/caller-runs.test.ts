// The calling thread taking chunks of its own call (Engine.parallelForLocal,
// dispatch.md "The caller takes chunks"): every chunk runs exactly once,
// whoever takes it; results keep chunk order; a local failure rejects like a
// worker's; long kernels and checked engines get no local help.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, KernelError, shared, type NdArray } from "sabre";
import { fixture, rejectsTyped } from "../helpers.js";
import { busy, markValue } from "../fixtures/kernels-local.js";

/** More workers than the machine's 2 cores. */
const THREADS = 5;
let engine: Engine;

test.before(async () => {
  engine = await Engine.start({ threads: THREADS, kernels: [fixture("kernels-local")] });
});
test.after(async () => {
  await engine.close();
});

interface Run {
  results: unknown[];
  local: number[];
}

/** One call of `mark` over `nChunks` chunks with the calling thread's copy beside it. */
async function call(e: Engine, runs: NdArray<Int32Array>, nChunks: number, us: number, longUs: number, tag: number): Promise<Run> {
  const local: number[] = [];
  const results = await e.parallelForLocal(nChunks, "mark", { runs, us, longUs, tag }, { chunk: 1 }, (_start, _end, chunk) => {
    local.push(chunk);
    Atomics.add(runs.data, chunk, 1);
    busy(chunk === 0 ? longUs : us);
    return markValue(chunk, tag);
  });
  return { results, local };
}

function checkRun(run: Run, runs: NdArray<Int32Array>, nChunks: number, tag: number, what: string): void {
  assert.is(run.results.length, nChunks, `${what}: result count`);
  for (let i = 0; i < nChunks; i++) {
    if (runs.data[i] !== 1) assert.unreachable(`${what}: chunk ${i} ran ${runs.data[i]} times`);
    if (run.results[i] !== markValue(i, tag)) assert.unreachable(`${what}: chunk ${i} gave ${String(run.results[i])}`);
  }
}

test("every chunk runs exactly once and results keep chunk order, over many calls, with the caller taking some", async () => {
  const nChunks = 64;
  const runs = shared.zeros("int32", [nChunks]);
  let localChunks = 0;
  for (let c = 0; c < 150; c++) {
    runs.data.fill(0);
    const run = await call(engine, runs, nChunks, 10, 10, c);
    checkRun(run, runs, nChunks, c, `call ${c}`);
    localChunks += run.local.length;
  }
  // The caller claims its first chunk right after ringing the doorbell, before any parked worker wakes.
  assert.ok(localChunks > 0, "the calling thread took no chunk in 150 calls");
});

test("pipelined calls (several in flight) each count every chunk once", async () => {
  const nChunks = 40;
  const calls = Array.from({ length: 12 }, () => shared.zeros("int32", [nChunks]));
  const done = await Promise.all(calls.map((runs, c) => call(engine, runs, nChunks, 5, 5, c)));
  done.forEach((run, c) => checkRun(run, calls[c]!, nChunks, c, `call ${c}`));
});

test("a kernel whose last call outlasted the polling window gets no local help on its next call", async () => {
  const e = await Engine.start({ threads: 2, kernels: [fixture("kernels-local")] });
  try {
    const runs = shared.zeros("int32", [8]);
    // Chunk 0 spins 5 ms, so the call lasts at least that long whoever runs it.
    await call(e, runs, 8, 1, 5000, 0);
    runs.data.fill(0);
    const next = await call(e, runs, 8, 1, 1, 1);
    checkRun(next, runs, 8, 1, "the call after a long one");
    assert.equal(next.local, [], "the calling thread took chunks of a kernel known to be long");
  } finally {
    await e.close();
  }
});

test("a checked engine runs every chunk on its workers", async () => {
  const e = await Engine.start({ threads: 2, checked: true, kernels: [fixture("kernels-local")] });
  try {
    const runs = shared.zeros("int32", [32]);
    const run = await call(e, runs, 32, 5, 5, 3);
    checkRun(run, runs, 32, 3, "checked");
    assert.equal(run.local, []);
  } finally {
    await e.close();
  }
});

test("a throwing local chunk rejects the call with a KernelError naming the calling thread, and the engine goes on", async () => {
  // A fresh engine: it knows no duration of "mark" yet, so its first call is helped for sure.
  const e = await Engine.start({ threads: 3, kernels: [fixture("kernels-local")] });
  try {
    await throwingLocal(e);
  } finally {
    await e.close();
  }
});

async function throwingLocal(engine: Engine): Promise<void> {
  const runs = shared.zeros("int32", [64]);
  const err = await rejectsTyped(
    engine.parallelForLocal(64, "mark", { runs, us: 50, longUs: 50, tag: 0 }, { chunk: 1 }, (start) => {
      throw new RangeError(`local failure at ${start}`);
    }),
    KernelError,
    /kernel "mark" threw on the calling thread on chunk \[\d+, \d+\): local failure at \d+/,
  );
  assert.is(err.workerId, -1);
  assert.is(err.code, "ERR_SABRE_KERNEL");
  // Chunks cancelled or not, the engine answers the next calls in full.
  for (let c = 0; c < 20; c++) {
    runs.data.fill(0);
    const run = await call(engine, runs, 64, 2, 2, 7);
    checkRun(run, runs, 64, 7, `after the failure, call ${c}`);
  }
}

test.run();
