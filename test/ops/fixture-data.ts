// The numpy fixture of the sort and histogram tests (test/fixtures/ops-histogram.py).
import { readFileSync } from "node:fs";

export type Num = number | "nan" | "inf" | "-inf" | "-0";

export function num(v: Num): number {
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  if (v === "-0") return -0;
  return v;
}

export const nums = (a: readonly Num[]): number[] => a.map(num);

export interface HistCase {
  name: string;
  x: Num[];
  dtype: string;
  counts: Num[];
  edges: Num[];
  edgesDtype: string;
  bins?: number | Num[];
  range?: [number, number];
  weights?: Num[];
  density?: boolean;
}

export interface HistFormulaCase {
  n: number;
  dtype: "float64" | "float32";
  bins: number | number[];
  range: [number, number] | null;
  weights: boolean;
  density: boolean;
  counts: Num[];
  edges: Num[];
}

export interface SortCase {
  name: string;
  dtype: string;
  x: Num[];
  sort: Num[];
  argsort: number[];
}

export interface Fixture {
  numpy: string;
  histogram: HistCase[];
  histogramFormula: HistFormulaCase[];
  bincount: Array<{ name: string; x: number[]; weights?: number[]; minlength?: number; counts: Num[] }>;
  sort: SortCase[];
  sort2d: { x: Num[]; shape: number[]; sort0: Num[]; sort1: Num[]; argsort0: number[]; argsort1: number[] };
}

function load(): Fixture {
  const here = import.meta.url;
  const at = here.lastIndexOf("/build/test/");
  const root = at >= 0 ? here.slice(0, at + 1) : new URL("../../", here).href;
  return JSON.parse(readFileSync(new URL("test/fixtures/ops-histogram.json", root), "utf8")) as Fixture;
}

export const FIXTURE = load();

/** The fixture script's exact-arithmetic data: same bits in numpy and JS. */
export function formula(n: number): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = (((i * 7919) % 10007) / 10007) * 6 - 3;
  return x;
}

export function formulaWeights(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = (((i * 104729) % 1009) / 1009) * 0.37 - 0.05;
  return w;
}

/** Same value, counting -0 and NaN (Object.is). */
export function sameArray(got: ArrayLike<number>, want: readonly number[], what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${what}: [${i}] = ${got[i]}, expected ${want[i]}`);
  }
}
