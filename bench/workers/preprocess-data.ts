// The preprocess suite's data, generated once from a seed into
// bench/.cache/preprocess/ as .npy files (both sides load the same bytes:
// sabre with readNpy, Python with np.load) and one numeric CSV written by
// numpy (np.savetxt, so the CSV is what a Python user would have).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { shared, writeNpy, type NdArray } from "sabre";
import { cacheDir } from "../harness/index.js";
import { PYTHON } from "./preprocess-python.js";

export interface PreSizes {
  /** Rows of the big tables (32 float32 columns). */
  readonly rows: number;
  /** Rows of the small tables. */
  readonly small: number;
  readonly cols: number;
  /** Rows of the CSV (32 columns, ~10.5 bytes a cell: 1.6M rows make ~500 MB). */
  readonly csvRows: number;
  /** Rows of the small CSV. */
  readonly csvSmall: number;
}

export const FULL: PreSizes = { rows: 2_000_000, small: 10_000, cols: 32, csvRows: 1_600_000, csvSmall: 10_000 };
export const QUICK: PreSizes = { rows: 200_000, small: 10_000, cols: 32, csvRows: 150_000, csvSmall: 10_000 };

/** One-hot: columns and categories per column. */
export const CAT_COLS = 4;
export const CATS = 50;
/** Classes of the stratified split's labels (skewed: class c has weight c + 1). */
export const CLASSES = 10;
/** Fraction of the imputer's cells that are NaN. */
export const NAN_FRACTION = 0.05;

export interface PreFiles {
  /** float32 [rows, cols], normal(0, 1) * (1 + column). */
  X: string;
  /** X with NAN_FRACTION of its cells NaN. */
  Xnan: string;
  /** float64 [rows, CAT_COLS] category codes 0..CATS-1 (integers as float64). */
  cats: string;
  /** int32 [rows] class labels. */
  y: string;
  csv: string;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function make(path: string, build: () => NdArray): Promise<void> {
  if (existsSync(path)) return;
  const tmp = `${path}.tmp.npy`;
  await writeNpy(tmp, build());
  renameSync(tmp, path);
}

function normalTable(rows: number, cols: number): NdArray<Float32Array> {
  const r = mulberry32(1);
  const x = shared.empty("float32", [rows, cols]) as NdArray<Float32Array>;
  const n = rows * cols;
  for (let i = 0; i < n; i += 2) {
    // Box-Muller: two normals per pair of uniforms.
    const m = Math.sqrt(-2 * Math.log(1 - r()));
    const v = 2 * Math.PI * r();
    x.data[i] = m * Math.cos(v) * (1 + (i % cols));
    if (i + 1 < n) x.data[i + 1] = m * Math.sin(v) * (1 + ((i + 1) % cols));
  }
  return x;
}

/** The files for `rows` rows (and the small ones), generated if missing. */
export async function prepareFiles(rows: number, cols: number, log: (line: string) => void, tag: string): Promise<PreFiles> {
  const dir = join(cacheDir(), "preprocess");
  mkdirSync(dir, { recursive: true });
  const f: PreFiles = {
    X: join(dir, `X-${rows}x${cols}.npy`),
    Xnan: join(dir, `Xnan-${rows}x${cols}.npy`),
    cats: join(dir, `cats-${rows}x${CAT_COLS}.npy`),
    y: join(dir, `y-${rows}.npy`),
    csv: "",
  };
  if (!existsSync(f.X) || !existsSync(f.Xnan) || !existsSync(f.cats) || !existsSync(f.y)) log(`generating the ${tag} tables (${rows} rows) into ${dir}`);
  await make(f.X, () => normalTable(rows, cols));
  await make(f.Xnan, () => {
    // X again (same seed), so both tables agree where a cell is present.
    const x = normalTable(rows, cols);
    const r = mulberry32(2);
    for (let i = 0; i < x.data.length; i++) if (r() < NAN_FRACTION) x.data[i] = Number.NaN;
    return x;
  });
  await make(f.cats, () => {
    const r = mulberry32(3);
    const c = shared.empty("float64", [rows, CAT_COLS]);
    for (let i = 0; i < c.data.length; i++) c.data[i] = Math.floor(r() * CATS);
    return c;
  });
  await make(f.y, () => {
    const r = mulberry32(4);
    const y = shared.empty("int32", [rows]);
    const total = (CLASSES * (CLASSES + 1)) / 2;
    for (let i = 0; i < rows; i++) {
      let u = r() * total;
      let c = 0;
      while (u >= c + 1 && c < CLASSES - 1) u -= ++c;
      y.data[i] = c;
    }
    return y;
  });
  return f;
}

/** The numeric CSV of `rows` x 32 (header c0..c31, cells "%.5f" of normal * 100), written by numpy once. */
export function prepareCsv(rows: number, log: (line: string) => void): string {
  const path = join(cacheDir(), "preprocess", `table-${rows}.csv`);
  if (existsSync(path) && statSync(path).size > 0) return path;
  log(`writing ${path} with numpy (once)`);
  const tmp = `${path}.tmp`;
  const script = [
    "import numpy as np, sys",
    "rows = int(sys.argv[1]); out = sys.argv[2]",
    "rng = np.random.default_rng(5)",
    "with open(out, 'w') as fh:",
    "    fh.write(','.join('c%d' % i for i in range(32)) + '\\n')",
    "    for s in range(0, rows, 100000):",
    "        X = rng.standard_normal((min(100000, rows - s), 32)) * 100",
    "        np.savetxt(fh, X, fmt='%.5f', delimiter=',')",
  ].join("\n");
  const r = spawnSync(PYTHON, ["-c", script, String(rows), tmp], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`numpy could not write ${path}`);
  renameSync(tmp, path);
  return path;
}
