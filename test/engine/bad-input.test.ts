// Every engine entry point given bad input answers with a typed error that says what was wrong.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, KernelError, SabreTypeError, deserialize, reduction, rows, readOnly, shared, defineKernels, registerShareable } from "sabre";
import { fixture, rejectsTyped, throwsTyped } from "../helpers.js";

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 2, kernels: [fixture("kernels-basic")] });
});
test.after(async () => {
  await engine.close();
});

test("Engine.start refuses bad options", async () => {
  await rejectsTyped(Engine.start({ threads: 0 }), SabreTypeError, /threads must be an integer in \[1, 1024\], got 0/);
  await rejectsTyped(Engine.start({ threads: 1.5 }), SabreTypeError, /threads/);
  await rejectsTyped(Engine.start({ threads: Number.NaN }), SabreTypeError, /threads/);
  await rejectsTyped(Engine.start({ kernels: "x.js" as unknown as string[] }), SabreTypeError, /kernels must be an array/);
  await rejectsTyped(Engine.start({ kernels: ["/no/such/kernels.js"] }), SabreTypeError, /kernel module not found: \/no\/such\/kernels\.js/);
  await rejectsTyped(Engine.start({ kernels: [new URL("https://example.com/k.js")] }), SabreTypeError, /file: URL/);
  await rejectsTyped(Engine.start({ checked: "yes" as unknown as boolean }), SabreTypeError, /checked must be a boolean/);
  await rejectsTyped(Engine.start({ spinMicros: -1 }), SabreTypeError, /spinMicros/);
  await rejectsTyped(Engine.start(null as unknown as object), SabreTypeError, /options must be an object/);
});

test("a kernel name defined twice is an error naming it and both modules", async () => {
  const err = await rejectsTyped(
    Engine.start({ threads: 1, kernels: [fixture("kernels-basic"), fixture("kernels-dup")] }),
    SabreTypeError,
    /kernel "visit" is defined twice/,
  );
  assert.match(err.message, /kernels-dup/);
});

test("unknown kernels are named, with the known ones listed", async () => {
  const err = await rejectsTyped(engine.parallelFor(10, "nope"), SabreTypeError, /unknown kernel "nope"/);
  assert.match(err.message, /visit/);
  await rejectsTyped(engine.run(42 as unknown as string), SabreTypeError, /kernel must be a kernel name/);
});

test("n must be a non-negative safe integer; chunk a positive one", async () => {
  for (const n of [-1, 1.5, Number.NaN, Infinity, "10", 2 ** 60]) {
    await rejectsTyped(engine.parallelFor(n as number, "sabre.noop"), SabreTypeError, /^n must be an integer/);
  }
  // chunk 1 over 10^9 items: a typed error at once, not gigabytes of result slots and minutes of claims.
  await rejectsTyped(engine.parallelFor(1e9, "sabre.noop", {}, { chunk: 1 }), SabreTypeError, /1000000000 chunks; at most 16777216 \(2\^24\)/);
  for (const chunk of [0, -3, 2.5, Number.NaN]) {
    await rejectsTyped(engine.parallelFor(10, "sabre.noop", {}, { chunk }), SabreTypeError, /chunk must be an integer/);
  }
  await rejectsTyped(engine.parallelFor(10, "sabre.noop", {}, { schedule: "guided" as "static" }), SabreTypeError, /schedule/);
  await rejectsTyped(engine.parallelFor(10, "sabre.noop", {}, { signal: {} as AbortSignal }), SabreTypeError, /signal must be an AbortSignal/);
  await rejectsTyped(engine.parallelFor(10, "sabre.noop", {}, { onProgress: 3 as unknown as () => void }), SabreTypeError, /onProgress/);
});

test("args: non-shared arrays, functions, symbols, cycles and class instances are refused", async () => {
  await rejectsTyped(engine.run("echo", { x: new Float64Array(4) }), SabreTypeError, /args\.x is a Float64Array over non-shared memory/);
  await rejectsTyped(engine.run("echo", { f: () => 1 }), SabreTypeError, /args\.f is a function/);
  await rejectsTyped(engine.run("echo", { s: Symbol("s") }), SabreTypeError, /symbol/);
  const cyc: Record<string, unknown> = {};
  cyc["self"] = cyc;
  await rejectsTyped(engine.run("echo", { cyc }), SabreTypeError, /refers back to itself/);
  class Point {
    x = 1;
  }
  await rejectsTyped(engine.run("echo", { p: new Point() }), SabreTypeError, /args\.p is a Point/);
  await rejectsTyped(engine.run("echo", [1, 2] as unknown as Record<string, unknown>), SabreTypeError, /args must be a plain object/);
});

test("clauses: wrong arrays, wrong row counts, nesting", async () => {
  throwsTyped(() => readOnly(new Float64Array(3) as never), SabreTypeError, /readOnly\(\) takes a shared ndarray/);
  throwsTyped(() => rows(shared.zeros("float64", []) as never), SabreTypeError, /at least one axis/);
  throwsTyped(() => reduction(Number.NaN), SabreTypeError, /NaN/);
  throwsTyped(() => reduction(0, "avg" as "sum"), SabreTypeError, /op must be one of sum, min, max/);
  throwsTyped(() => reduction([] as number[]), SabreTypeError, /empty/);
  const out = shared.zeros("float64", [10, 2]);
  await rejectsTyped(engine.parallelFor(12, "fillRows", { out: rows(out) }), SabreTypeError, /n = 12 rows, it has 10/);
  await rejectsTyped(engine.parallelFor(10, "fillRows", { deep: { out: rows(out) } }), SabreTypeError, /top-level/);
});

test("defineKernels refuses non-functions", () => {
  throwsTyped(() => defineKernels({ k: 3 as unknown as () => void }), SabreTypeError, /kernel "k" must be a function/);
  throwsTyped(() => defineKernels(null as unknown as Record<string, () => void>), SabreTypeError, /object of kernel functions/);
});

test("a reduction clause whose wire width is forged is a typed error, never a gigabyte accumulator per chunk", async () => {
  const forged = (width: unknown, scalar = false) => ({ __sabre__: "message", v: 1, root: { r: { __sabre__: "clause.reduction", op: "sum", width, scalar } } });
  let err = throwsTyped(() => deserialize(forged(2 ** 33)), SabreTypeError, /a reduction clause's width must be an integer in \[1, 2147483647\], got 8589934592/);
  assert.is(err.code, "ERR_SABRE_TYPE");
  throwsTyped(() => deserialize(forged(0.5)), SabreTypeError, /width must be an integer .* got 0\.5/);
  throwsTyped(() => deserialize(forged(4, true)), SabreTypeError, /a scalar reduction clause has width 1, got 4/);
  // A width the decode bound allows but the call's results block was not sized for (simulated: the
  // clause is encoded with 2^28 while the block is sized for 10) fails the chunk before any accumulator
  // is made; before, each chunk allocated 2 GiB (2^28 float64s).
  const x = shared.from(new Float64Array(100).fill(0.5));
  const bins = reduction(new Float64Array(10));
  let reads = 0;
  Object.defineProperty(bins, "width", { get: () => (reads++ === 0 ? 2 ** 28 : 10) });
  const k = await rejectsTyped(engine.parallelFor(100, "histogram", { x, bins }), KernelError, /reduction "bins": the call's reductions claim 268435456 elements per chunk, more than the results arena the caller allocated holds/);
  assert.is(k.originalCode, "ERR_SABRE_TYPE");
  const ok = reduction(new Float64Array(10));
  await engine.parallelFor(100, "histogram", { x, bins: ok });
  assert.is(ok.value[5], 100);
});

test("the engine still works after all that", async () => {
  const hits = shared.zeros("int32", 10);
  await engine.parallelFor(10, "visit", { hits });
  assert.ok(hits.data.every((v) => v === 1));
});


test("args a worker cannot revive fail the call with a typed error, and the engine goes on", async () => {
  // A kind registered on this thread only: the workers have never heard of it.
  registerShareable<{ mainOnly: true }>({
    kind: "test.mainOnly",
    test: (v): v is { mainOnly: true } => typeof v === "object" && v !== null && (v as { mainOnly?: unknown }).mainOnly === true,
    encode: () => ({}),
    decode: () => ({ mainOnly: true }),
  });
  const plain = await Engine.start({ threads: 2, kernels: [fixture("kernels-plain")] });
  try {
    await rejectsTyped(plain.parallelFor(4, "unreachable", { thing: { mainOnly: true } }), KernelError, /"test\.mainOnly", which is no sabre kind this thread knows/);
    assert.equal(await plain.parallelFor(2, "sabre.noop"), [undefined, undefined]);
  } finally {
    await plain.close();
  }
});

test("unknown option keys and non-object options are refused (a typo was silently ignored)", async () => {
  await rejectsTyped(Engine.start({ threds: 2 } as never), SabreTypeError, /Engine\.start options: unknown option "threds" \(known: threads, kernels/);
  await rejectsTyped(engine.parallelFor(10, "sabre.noop", {}, { chnk: 2 } as never), SabreTypeError, /parallelFor options: unknown option "chnk"/);
  await rejectsTyped(engine.run("sabre.noop", {}, { timeout: 5 } as never), SabreTypeError, /run options: unknown option "timeout" \(known: signal\)/);
  // run(k, args, null) rejected with a plain TypeError (reading 'signal' of null).
  await rejectsTyped(engine.run("sabre.noop", {}, null as never), SabreTypeError, /run options must be an object, got null/);
  await rejectsTyped(engine.broadcast("sabre.noop", {}, null as never), SabreTypeError, /broadcast options must be an object, got null/);
  assert.equal(await engine.parallelFor(2, "sabre.noop", {}, { chunk: 1, schedule: "static" }), [undefined, undefined]);
});

test.run();
