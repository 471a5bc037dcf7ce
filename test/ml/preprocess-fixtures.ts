// Shared by the preprocess-{scalers,imputer,kbins} tests: the scikit-learn
// fixtures (test/fixtures/preprocess/scalers.json), live runs of the same
// script when /usr/bin/python3 has scikit-learn, and comparisons.
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { NdArray } from "sabre";

export type JNum = number | string;
export interface Case {
  estimator: string;
  params: Record<string, unknown>;
  data?: string;
  dtype?: "float32";
  X: JNum[][];
  result?: Result;
}
export interface Result {
  error?: string;
  attrs: Record<string, JNum | JNum[] | JNum[][]>;
  out: JNum[][];
  inverse?: JNum[][];
}

const SCRIPT = new URL("../../../test/fixtures/preprocess/make-scalers.py", import.meta.url);

export function fixtureCases(estimator: string): Case[] {
  const all = JSON.parse(readFileSync(new URL("../../../test/fixtures/preprocess/scalers.json", import.meta.url), "utf8")) as { cases: Case[] };
  return all.cases.filter((c) => c.estimator === estimator);
}

export function num(v: JNum): number {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  throw new Error(`not a number: ${v}`);
}

export function rowsOf(X: JNum[][]): number[][] {
  return X.map((r) => r.map(num));
}

export function toJ(rows: number[][]): JNum[][] {
  return rows.map((r) => r.map((v) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : v)));
}

let liveChecked: boolean | undefined;
/** True when /usr/bin/python3 imports scikit-learn (then the live tests run). */
export function haveSklearn(): boolean {
  if (liveChecked === undefined) {
    const r = spawnSync("/usr/bin/python3", ["-c", "import sklearn"], { encoding: "utf8" });
    liveChecked = r.status === 0;
  }
  return liveChecked;
}

/** Runs the cases through scikit-learn now. */
export function sklearnLive(cases: Case[]): Result[] {
  const r = spawnSync("/usr/bin/python3", [SCRIPT.pathname, "--live"], { input: JSON.stringify({ cases }), encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`make-scalers.py --live failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { results: Result[] }).results;
}

export function closeNum(actual: number, expected: number, what: string, rel = 1e-6): void {
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${what}: ${actual}, scikit-learn NaN`);
    return;
  }
  if (!Number.isFinite(expected)) {
    assert.is(actual, expected, what);
    return;
  }
  const err = Math.abs(actual - expected);
  assert.ok(err <= rel * Math.abs(expected) || err <= 1e-12, `${what}: ${actual} vs scikit-learn ${expected}`);
}

export function closeArray(actual: ArrayLike<number> | number | null, expected: unknown, what: string, rel = 1e-6): void {
  if (expected === null) {
    assert.is(actual, null, `${what}: expected null (sklearn None)`);
    return;
  }
  if (!Array.isArray(expected)) {
    assert.type(actual, "number", `${what}: a number`);
    closeNum(actual as number, num(expected as JNum), what, rel);
    return;
  }
  assert.ok(actual !== null && typeof actual === "object", `${what}: an array`);
  const a = actual as ArrayLike<number>;
  assert.is(a.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) closeNum(a[i]!, num(expected[i] as JNum), `${what}[${i}]`, rel);
}

/** The rows of a 2-D ndarray. */
export function rowsOfNd(x: NdArray): number[][] {
  const [n, m] = x.shape as [number, number];
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r: number[] = [];
    for (let j = 0; j < m; j++) r.push(x.get(i, j) as number);
    rows.push(r);
  }
  return rows;
}

export function closeRows(actual: NdArray, expected: JNum[][], what: string, rel = 1e-6): void {
  assert.equal(actual.shape, [expected.length, expected[0]?.length ?? 0], `${what}: shape`);
  const a = rowsOfNd(actual);
  for (let i = 0; i < expected.length; i++) {
    for (let j = 0; j < expected[i]!.length; j++) closeNum(a[i]![j]!, num(expected[i]![j]!), `${what}[${i}][${j}]`, rel);
  }
}

/** Same bits, NaN included. */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

/** A deterministic table: normal-ish values, negatives, a constant column, `nanFrac` NaN. */
export function randomTable(n: number, m: number, seed: number, nanFrac: number): number[][] {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r: number[] = [];
    for (let j = 0; j < m; j++) {
      let v: number;
      if (j === 1) v = 7.5;
      else if (j === 2) v = Math.round(next() * 6 - 3);
      else v = (next() + next() + next() - 1.5) * (j + 1) * 3 - j;
      if (j !== 1 && next() < nanFrac) v = NaN;
      r.push(v);
    }
    rows.push(r);
  }
  return rows;
}
