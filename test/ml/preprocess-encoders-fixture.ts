// The scikit-learn 1.2 fixture of the encoder and split tests
// (test/fixtures/preprocess/make-encoders.py > encoders.json), and the same
// script run live when /usr/bin/python3 has scikit-learn.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type V = number | "NaN";
export const v = (x: V | null): number => (x === "NaN" || x === null ? NaN : x);
export const rows = (a: V[][]): number[][] => a.map((r) => r.map(v));

export interface OneHotCase {
  name: string;
  X: V[][];
  Xt: V[][];
  dtype: string;
  params: Record<string, unknown>;
  categories: V[][];
  dropIdx: Array<number | null> | null;
  out: V[][];
  inverse: V[][];
  names: string[];
  namesGiven: string[];
}

export interface Fixture {
  sklearn: string;
  onehot: OneHotCase[];
  labels: Array<{ name: string; y: Array<number | string>; classes: Array<number | string>; codes: number[] }>;
  sizes: Array<{ n: number; testSize: number | null; trainSize: number | null; nTrain?: number; nTest?: number; error?: string | null }>;
  stratified: Array<{ name: string; counts: number[]; testSize: number; splits: Array<{ train: number[]; test: number[] }> }>;
}

function root(): string {
  const here = import.meta.url;
  const at = here.lastIndexOf("/build/test/");
  return at >= 0 ? here.slice(0, at + 1) : new URL("../../", here).href;
}

const SCRIPT = fileURLToPath(new URL("test/fixtures/preprocess/make-encoders.py", root()));

export const FIXTURE = JSON.parse(readFileSync(new URL("test/fixtures/preprocess/encoders.json", root()), "utf8")) as Fixture;

/** The fixture computed now by /usr/bin/python3, or null when it has no scikit-learn. */
export function liveFixture(): Fixture | null {
  if (!existsSync("/usr/bin/python3")) return null;
  const probe = spawnSync("/usr/bin/python3", ["-c", "import sklearn"], { encoding: "utf8" });
  if (probe.status !== 0) return null;
  const run = spawnSync("/usr/bin/python3", ["-W", "ignore", SCRIPT], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`make-encoders.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Fixture;
}
