import { test } from "uvu";
import * as assert from "uvu/assert";
import { Rng, rng, philox4x32, SabreTypeError } from "sabre";
import { fixture, runWorkers, throwsTyped } from "../helpers.js";

const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, "0")).join(" ");

test("philox4x32-10 matches the Random123 known-answer vectors", () => {
  // Random123 kat_vectors, the three "philox4x32 10" lines: counter[4] key[2] -> output[4].
  const kat: [number[], number[], string][] = [
    [[0, 0, 0, 0], [0, 0], "6627e8d5 e169c58d bc57ac4c 9b00dbd8"],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], "408f276d 41c83b0e a20bc7c6 6d5451fd"],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], "d16cfe09 94fdcceb 5001e420 24126ea1"],
  ];
  const out = new Uint32Array(4);
  for (const [c, k, want] of kat) {
    philox4x32(c[0]!, c[1]!, c[2]!, c[3]!, k[0]!, k[1]!, out);
    assert.is(hex(out), want);
  }
});

test("the same seed and ids give the same numbers; fork(...) equals the longer id path", () => {
  const a = rng(7, 3, 1);
  const b = rng(7, 3, 1);
  const c = rng(7, 3).fork(1);
  for (let i = 0; i < 1000; i++) {
    const x = a.uint32();
    assert.is(b.uint32(), x);
    assert.is(c.uint32(), x);
  }
  // fork does not depend on how much the parent drew.
  const p = rng(7, 3);
  for (let i = 0; i < 17; i++) p.float();
  assert.is(p.fork(1).uint32(), rng(7, 3, 1).uint32());
  assert.equal(rng(7, 3, 1).ids, [3, 1]);
  assert.is(rng(7).seed, 7);
});

test("different seeds and ids give different streams", () => {
  const first = (r: ReturnType<typeof rng>) => Array.from({ length: 8 }, () => r.uint32()).join(",");
  const seen = new Set<string>();
  const variants = [rng(0), rng(1), rng(0, 0), rng(0, 1), rng(0, 0, 0), rng(0, 1, 0), rng(0, 0, 1), rng(2 ** 40), rng(2 ** 40 + 1), rng(0, 2 ** 33)];
  for (const r of variants) seen.add(first(r));
  assert.is(seen.size, variants.length);
  // Neighbouring tree streams are uncorrelated: matching words would be a defect.
  const a = rng(5, 10);
  const b = rng(5, 11);
  let same = 0;
  for (let i = 0; i < 10000; i++) if (a.uint32() === b.uint32()) same++;
  assert.ok(same <= 1, `${same} equal words`);
});

test("streams are identical in worker threads and the main thread", async () => {
  const streams = [[0], [1], [2, 5], [123456789]];
  const here = streams.map((ids) => {
    const r = rng(99, ...ids);
    return Array.from({ length: 64 }, () => r.uint32());
  });
  const results = await runWorkers<number[][]>(fixture("rng-stream"), 3, () => ({ seed: 99, streams, count: 64 }));
  for (const r of results) assert.equal(r, here);
});

test("int(lo, hi) is uniform: chi-square over 10 cells", () => {
  const r = rng(2024);
  const cells = new Array<number>(10).fill(0);
  const n = 200000;
  for (let i = 0; i < n; i++) {
    const v = r.int(-3, 7);
    assert.ok(v >= -3 && v < 7);
    cells[v + 3]!++;
  }
  const e = n / 10;
  const chi2 = cells.reduce((s, c) => s + (c - e) ** 2 / e, 0);
  // 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
  assert.ok(chi2 < 27.9, `chi2 = ${chi2}`);
  // A range that does not divide 2^32 (rejection sampling at work) stays in range and unbiased.
  const big = 3 * 2 ** 30;
  let low = 0;
  for (let i = 0; i < 100000; i++) if (r.int(0, big) < big / 2) low++;
  assert.ok(Math.abs(low - 50000) < 1000, `low half ${low}`);
  // Ranges above 2^32.
  const v = r.int(0, 2 ** 50);
  assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 50);
});

test("float() is in [0, 1) with the right mean and variance, and uses more than 32 bits", () => {
  const r = rng(1);
  let s = 0;
  let s2 = 0;
  let fine = 0;
  const n = 200000;
  for (let i = 0; i < n; i++) {
    const u = r.float();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
    if (u * 2 ** 32 !== Math.floor(u * 2 ** 32)) fine++;
  }
  const mean = s / n;
  const variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
  assert.ok(fine > n * 0.99, "float() has 53 bits");
});

test("normal() has mean 0, variance 1 and normal tails", () => {
  const r = rng(3);
  const n = 200000;
  let s = 0;
  let s2 = 0;
  let s4 = 0;
  let beyond2 = 0;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    s += z;
    s2 += z * z;
    s4 += z ** 4;
    if (Math.abs(z) > 2) beyond2++;
  }
  const mean = s / n;
  const variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
  assert.ok(Math.abs(s4 / n - 3) < 0.1, `kurtosis ${s4 / n}`);
  // P(|Z| > 2) = 0.0455
  assert.ok(Math.abs(beyond2 / n - 0.0455) < 0.003, `tail ${beyond2 / n}`);
  const shifted = rng(3).normal(10, 0.5);
  assert.ok(shifted > 7 && shifted < 13);
});

test("permutation, shuffle and sample", () => {
  const r = rng(11);
  const p = r.permutation(1000);
  assert.ok(p instanceof Uint32Array);
  assert.equal(Array.from(p).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.not.equal(Array.from(p.slice(0, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Each position is uniform: element 0 lands in each of 4 slots ~1/4 of the time.
  const where = [0, 0, 0, 0];
  for (let i = 0; i < 20000; i++) where[r.permutation(4).indexOf(0)]!++;
  for (const w of where) assert.ok(Math.abs(w - 5000) < 300, `${where}`);
  const arr = [1, 2, 3, 4, 5];
  assert.is(r.shuffle(arr), arr);
  assert.equal(arr.slice().sort(), [1, 2, 3, 4, 5]);
  const f = Float64Array.of(0.5, 1.5, 2.5);
  r.shuffle(f);
  assert.equal(Array.from(f).sort(), [0.5, 1.5, 2.5]);
  // sample: distinct, in range; the sparse and dense paths give the same numbers.
  const s = rng(4).sample(1000000, 50);
  assert.is(new Set(s).size, 50);
  for (const v of s) assert.ok(v < 1000000);
  const dense = rng(4).sample(400, 100);
  const sparse = rng(4).sample(400, 40);
  assert.equal(Array.from(sparse), Array.from(dense.slice(0, 40)));
  assert.is(rng(4).sample(5, 5).length, 5);
  assert.is(rng(4).sample(5, 0).length, 0);
  // Every element equally likely to be in a sample of 3 from 6.
  const hits = new Array<number>(6).fill(0);
  for (let i = 0; i < 12000; i++) for (const v of r.sample(6, 3)) hits[v]!++;
  for (const h of hits) assert.ok(Math.abs(h - 6000) < 300, `${hits}`);
});

test("bulk fills match the one-at-a-time calls", () => {
  const a = rng(8);
  const b = rng(8);
  const u = a.fillUint32(new Uint32Array(10));
  for (const x of u) assert.is(x, b.uint32());
  const f = a.fillFloat(new Float64Array(10));
  for (const x of f) assert.is(x, b.float());
  const i = a.fillInt(new Int32Array(10), 5, 9);
  for (const x of i) assert.is(x, b.int(5, 9));
  const n = a.fillNormal(new Float64Array(10));
  for (const x of n) assert.is(x, b.normal());
  const c = a.clone();
  assert.is(c.float(), a.float());
});

test("bad seeds, ids and arguments are SabreTypeErrors", () => {
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, "1", undefined, null]) {
    throwsTyped(() => rng(bad as number), SabreTypeError, /seed must be an integer/);
    throwsTyped(() => rng(1, bad as number), SabreTypeError, /stream id 0 must be an integer/);
    throwsTyped(() => rng(1).fork(bad as number), SabreTypeError, /stream id 0 must be an integer/);
  }
  throwsTyped(() => rng(1, 2, -3), SabreTypeError, /stream id 1/);
  const r = rng(1);
  throwsTyped(() => r.int(5, 5), SabreTypeError, /lo < hi/);
  throwsTyped(() => r.int(0, 2 ** 54), SabreTypeError, /safe integer|2\^53/);
  throwsTyped(() => r.int(0.5, 3), SabreTypeError, /lo must be a safe integer/);
  throwsTyped(() => r.int(0, NaN), SabreTypeError, /hi must be a safe integer/);
  throwsTyped(() => r.permutation(-1), SabreTypeError, /permutation\(n\)/);
  throwsTyped(() => r.sample(3, 4), SabreTypeError, /k <= n/);
  throwsTyped(() => r.sample(3, 1.5), SabreTypeError, /sample\(n, k\): k/);
  throwsTyped(() => r.shuffle("abc" as unknown as number[]), SabreTypeError, /shuffle needs/);
  throwsTyped(() => r.fillInt(new Int32Array(2), 3, 1), SabreTypeError, /lo < hi/);
});

test("new Rng misused (it is exported for instanceof) is a SabreTypeError naming the argument, not a plain TypeError", () => {
  const make = (...a: unknown[]) => new (Rng as unknown as new (...args: unknown[]) => Rng)(...a);
  // Before: "ids.slice is not a function" and "Cannot read properties of null (reading 'slice')", both plain TypeErrors.
  const err = throwsTyped(() => make("x", 5, 0, 0), SabreTypeError, /new Rng: seed must be an integer in \[0, 2\^53 - 1\], got "x"/);
  assert.is(err.code, "ERR_SABRE_TYPE");
  throwsTyped(() => make(1, null, 0, 0), SabreTypeError, /new Rng: ids must be an array of integers .* got null \(make streams with rng\(seed, \.\.\.ids\)\)/);
  throwsTyped(() => make(1, [2, -1], 0, 0), SabreTypeError, /new Rng: ids\[1\] must be an integer in \[0, 2\^53 - 1\], got -1/);
  throwsTyped(() => make(1, [], Number.NaN, 0), SabreTypeError, /new Rng: s0 must be an integer in \[0, 4294967295\], got NaN/);
  const r = rng(7, 3);
  assert.ok(r instanceof Rng);
  assert.is(r.clone().float(), rng(7, 3).float());
});

test.run();
