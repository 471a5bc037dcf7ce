// Small inputs (and first calls while the default engine starts) run the
// preprocessing kernels on the calling thread (src/ml/preprocess/runner.ts);
// larger ones on the workers. Both paths must give the same bits. The limits
// are forced here so both run on the same data: this file imports the
// classes from src (one module instance with the limits it sets), not from
// the package.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Engine } from "../../src/engine/engine.js";
import { AbortError } from "../../src/errors.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { shared } from "../../src/memory/shared.js";
import {
  KBinsDiscretizer,
  MinMaxScaler,
  OneHotEncoder,
  RobustScaler,
  shuffle,
  SimpleImputer,
  StandardScaler,
  trainTestSplit,
  type Transformer,
} from "../../src/ml/preprocess/index.js";
import { callingThread, inlineLimits, runnerFor } from "../../src/ml/preprocess/runner.js";
import { fixture } from "../helpers.js";
import { randomTable, sameBits } from "./preprocess-fixtures.js";

const saved = { ...inlineLimits };
const engines: Engine[] = [];
test.before(async () => {
  engines.push(...(await Promise.all([1, 2, 5].map((threads) => Engine.start({ threads })))));
});
test.after(async () => {
  Object.assign(inlineLimits, saved);
  await Promise.all(engines.map((e) => e.close()));
});

function bitsOf(a: NdArray): Float64Array {
  const out = new Float64Array(a.size);
  let k = 0;
  const [n, m] = a.shape.length === 2 ? (a.shape as [number, number]) : [a.shape[0]!, 1];
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[k++] = Number(a.shape.length === 2 ? a.get(i, j) : a.get(i));
  return out;
}

/** The fitted attributes a transformer exposes, as arrays of numbers. */
function attrs(t: Transformer, keys: string[]): Float64Array[] {
  const o = t as unknown as Record<string, ArrayLike<number> | number | null | ArrayLike<number>[]>;
  return keys.flatMap((k) => {
    const v = o[k];
    if (v === null || v === undefined) return [new Float64Array(0)];
    if (typeof v === "number") return [Float64Array.of(v)];
    if (Array.isArray(v)) return (v as ArrayLike<number>[]).map((a) => Float64Array.from(a));
    return [Float64Array.from(v as ArrayLike<number>)];
  });
}

interface Case {
  name: string;
  make: (engine?: Engine) => Transformer;
  keys: string[];
  nan: boolean;
}

const CASES: Case[] = [
  { name: "StandardScaler", make: (engine) => new StandardScaler({ engine }), keys: ["mean", "var", "scale", "nSamplesSeen"], nan: true },
  { name: "MinMaxScaler clip", make: (engine) => new MinMaxScaler({ featureRange: [-1, 2], clip: true, engine }), keys: ["dataMin", "dataMax", "scale", "min"], nan: true },
  { name: "RobustScaler", make: (engine) => new RobustScaler({ quantileRange: [10, 90], unitVariance: true, engine }), keys: ["center", "scale"], nan: true },
  ...(["mean", "median", "most_frequent", "constant"] as const).map((strategy) => ({
    name: `SimpleImputer ${strategy}`,
    make: (engine?: Engine) => new SimpleImputer({ strategy, engine }),
    keys: ["statistics"],
    nan: true,
  })),
  ...(["uniform", "quantile", "kmeans"] as const).map((strategy) => ({
    name: `KBinsDiscretizer ${strategy}`,
    make: (engine?: Engine) => new KBinsDiscretizer({ nBins: 7, strategy, encode: "onehot-dense", engine }),
    keys: ["binEdges", "nBins"],
    nan: false,
  })),
];

/** Fit, transform and (where there is one) inverse transform of every case on X; every output and attribute. */
async function runAll(X64: NdArray[], Xnan: NdArray[], engine: Engine | undefined): Promise<Float64Array[]> {
  const got: Float64Array[] = [];
  for (const c of CASES) {
    for (const X of c.nan ? Xnan : X64) {
      const t = c.make(engine);
      const out = await t.fitTransform(X);
      got.push(bitsOf(out), ...attrs(t, c.keys));
      const inv = (t as { inverseTransform?: (x: NdArray) => Promise<NdArray> }).inverseTransform;
      if (inv) got.push(bitsOf(await inv.call(t, out)));
    }
  }
  return got;
}

test("every transformer: the same bits on the calling thread and on 1, 2 and 5 workers (float64 and float32, NaN, many row blocks)", async () => {
  const rows = randomTable(6000, 6, 7, 0);
  const nanRows = randomTable(6000, 6, 8, 0.05);
  const X64 = [shared.from(rows, { dtype: "float64" }), shared.from(rows, { dtype: "float32" })];
  const Xnan = [shared.from(nanRows, { dtype: "float64" }), shared.from(nanRows, { dtype: "float32" })];
  try {
    Object.assign(inlineLimits, { small: Infinity, cold: Infinity });
    const inline = await runAll(X64, Xnan, engines[1]);
    Object.assign(inlineLimits, { small: 0, cold: 0 });
    for (const engine of engines) {
      const workers = await runAll(X64, Xnan, engine);
      assert.is(workers.length, inline.length);
      workers.forEach((w, k) => sameBits(w, inline[k]!, `${engine.threads} threads, array ${k}`));
    }
  } finally {
    Object.assign(inlineLimits, saved);
  }
});

test("OneHotEncoder, trainTestSplit (stratified) and shuffle: the same bits on the calling thread and on the workers", async () => {
  const n = 20_011;
  const cats = shared.empty("float64", [n, 3]);
  const X = shared.empty("float32", [n, 5]);
  const y = shared.empty("int32", [n]);
  for (let i = 0; i < n; i++) {
    cats.set(i, 0, (i * 7) % 13);
    cats.set(i, 1, i % 5 === 0 ? NaN : ((i * 31) % 9) - 4.5);
    cats.set(i, 2, (i * 3) % 1000);
    for (let j = 0; j < 5; j++) X.set(i, j, i + j / 8);
    y.set(i, (i * 11) % 7);
  }
  const run = async (engine: Engine): Promise<Float64Array[]> => {
    const enc = new OneHotEncoder({ drop: "first" });
    const out = await enc.fitTransform(cats, { engine });
    const parts = [
      out,
      await enc.inverseTransform(out, { engine }),
      ...(await trainTestSplit(X, y, { testSize: 0.3, seed: 5, stratify: y, engine })),
      ...(await trainTestSplit(X, { trainSize: 1000, testSize: 50, seed: 6, engine })),
      ...(await shuffle(X, y, { seed: 7, engine })),
    ];
    return [...parts.map(bitsOf), ...enc.categories!.map((c) => Float64Array.from(c))];
  };
  try {
    Object.assign(inlineLimits, { small: Infinity, cold: Infinity });
    const inline = await run(engines[0]!);
    Object.assign(inlineLimits, { small: 0, cold: 0 });
    for (const engine of engines) {
      const workers = await run(engine);
      workers.forEach((w, k) => sameBits(w, inline[k]!, `${engine.threads} threads, array ${k}`));
    }
  } finally {
    Object.assign(inlineLimits, saved);
  }
});

test("the calling thread honours an aborted signal and reports a kernel's error as the workers do", async () => {
  const ac = new AbortController();
  ac.abort();
  try {
    await callingThread.parallelFor(10, "sabre.preprocess.affine", {}, { signal: ac.signal });
    assert.unreachable("an aborted signal must reject");
  } catch (err) {
    assert.instance(err, AbortError);
  }
  try {
    await callingThread.parallelFor(10, "sabre.preprocess.noSuchKernel", {});
    assert.unreachable("an unknown kernel must reject");
  } catch (err) {
    assert.match((err as Error).message, /noSuchKernel/);
  }
  // the limits: small inputs ignore the engine given; larger ones use it
  assert.is(runnerFor(engines[0], undefined, 100), callingThread);
  assert.is(runnerFor(engines[0], undefined, saved.small + 1), engines[0]);
  assert.is(runnerFor(undefined, engines[1], saved.small + 1), engines[1]);
});

test("a fresh process: small calls and first calls do not wait for the default engine; the same bits as on its workers", async () => {
  const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(fixture("preprocess-cold-script"))], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    child.stderr.on("data", (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the script did not exit within 120 s: ${text}`));
    }, 120_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    });
  });
  assert.is(out.code, 0, out.text);
  const r = JSON.parse(out.text.trim().split("\n").pop()!) as { coldReady: boolean[]; same: boolean[]; warmReady: boolean };
  // ready right after a call means the call waited for the start (it cannot finish between microtasks)
  assert.equal(r.coldReady, r.coldReady.map(() => false), "small calls and first calls must not wait for the default engine");
  assert.ok(r.warmReady);
  assert.equal(r.same, r.same.map(() => true), out.text);
  assert.ok(r.same.length >= 4);
});

test.run();
