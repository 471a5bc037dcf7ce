// Data for the forest suite (bench/forest.ts), shared by the suite and its
// node child processes: where Fashion-MNIST lives, and the continuous table,
// generated once, deterministically, into bench/.cache as raw little-endian
// files that node and numpy read byte for byte the same.
import { closeSync, createReadStream, existsSync, openSync, readSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { rng, shared, type NdArray } from "sabre";

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";
export const FASHION_FILES = {
  trainX: "train-images-idx3-ubyte.gz",
  trainY: "train-labels-idx1-ubyte.gz",
  testX: "t10k-images-idx3-ubyte.gz",
  testY: "t10k-labels-idx1-ubyte.gz",
} as const;

export function fashionPresent(dir = FASHION_DIR): boolean {
  return Object.values(FASHION_FILES).every((f) => existsSync(join(dir, f)));
}

/**
 * A gzipped IDX file of unsigned bytes streamed straight into shared memory,
 * as a uint8 ndarray [n, rest] (or [n] for labels); with `scaled`, as
 * float32 values / 255 (pixels in [0, 1], what users hold after normalizing),
 * converted chunk by chunk so no uint8 copy of the whole file is held. sabre's readIdx holds the
 * whole compressed file and the whole inflated file in Buffers before it
 * copies them into shared memory, which would add ~2.5x the array to the
 * peak RSS; numpy's side reads into one bytes object. Streaming makes both
 * sides pay about the array itself, so the peak RSS compares the forests.
 */
export async function loadIdxShared(path: string, scaled = false): Promise<NdArray> {
  let header: Buffer = Buffer.alloc(0);
  let out: NdArray | undefined;
  let bytes: Uint8Array | Float32Array | undefined;
  let at = 0;
  for await (const chunk of createReadStream(path).pipe(createGunzip())) {
    let c = chunk as Buffer;
    if (!out) {
      header = Buffer.concat([header, c]);
      if (header.length < 4 || header.length < 4 + 4 * header[3]!) continue;
      if (header[0] !== 0 || header[1] !== 0 || header[2] !== 0x08) throw new Error(`${path}: not an IDX file of unsigned bytes`);
      const ndim = header[3]!;
      const dims = Array.from({ length: ndim }, (_, i) => header.readUInt32BE(4 + 4 * i));
      const width = dims.slice(1).reduce((a, x) => a * x, 1);
      const dtype = scaled ? "float32" : "uint8";
      out = ndim > 1 ? shared.empty(dtype, [dims[0]!, width]) : shared.empty(dtype, [dims[0]!]);
      bytes = out.data as Uint8Array | Float32Array;
      c = header.subarray(4 + 4 * ndim);
    }
    if (at + c.length > bytes!.length) throw new Error(`${path}: more data than its header announces`);
    if (bytes instanceof Float32Array) for (let i = 0; i < c.length; i++) bytes[at + i] = c[i]! / 255;
    else bytes!.set(c, at);
    at += c.length;
  }
  if (!out || at !== bytes!.length) throw new Error(`${path}: truncated (${at} of ${bytes?.length ?? "?"} bytes)`);
  return out;
}

/**
 * The continuous table: rows 0..train-1 train, the rest test; X float64
 * [rows, features] row-major, y int32 (the class), yr float64 (the
 * regression target: the same score before it is thresholded).
 */
export interface TableFiles {
  readonly x: string;
  readonly y: string;
  readonly yr: string;
  readonly train: number;
  readonly test: number;
  readonly features: number;
}

/** Bump when the generator below changes, so a stale cached table is never read. */
const TABLE_VERSION = 1;

/**
 * The label rule: a nonlinear score of six of the features plus noise; the
 * other features are pure noise. Thresholds on single features cannot carve
 * sin(2 x0) or x1 x2 exactly, so where the bin edges fall matters (binning is
 * not exact here: every value is distinct).
 */
function score(x: Float64Array, o: number, noise: number): number {
  return Math.sin(2 * x[o]!) + x[o + 1]! * x[o + 2]! + 0.5 * (x[o + 3]! * x[o + 3]! - 1) - 0.5 * Math.abs(x[o + 4]!) + 0.3 * x[o + 5]! + 0.4 + noise;
}

/**
 * Writes (once; later calls find the cached files) a table of `train + test`
 * rows of `features` standard normal float64 features and a binary label,
 * all drawn from sabre's counter-based RNG with `seed`: the same bytes on
 * every run and machine.
 */
export function ensureTable(cacheDir: string, train: number, test: number, features: number, seed = 1): TableFiles {
  if (features < 6) throw new RangeError(`the continuous table needs at least 6 features, got ${features}`);
  const rows = train + test;
  const stem = join(cacheDir, `forest-table-v${TABLE_VERSION}-${rows}x${features}-s${seed}`);
  const files: TableFiles = { x: `${stem}.X.f64`, y: `${stem}.y.i32`, yr: `${stem}.yr.f64`, train, test, features };
  if (existsSync(files.x) && existsSync(files.y) && existsSync(files.yr)) return files;
  const X = new Float64Array(rows * features);
  rng(seed, 0).fillNormal(X);
  const noise = rng(seed, 1);
  const y = new Int32Array(rows);
  const yr = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    yr[r] = score(X, r * features, noise.normal(0, 0.5));
    y[r] = yr[r]! > 0 ? 1 : 0;
  }
  writeTable(files, X, y, yr);
  return files;
}

/** Bump when make_friedman1's port below changes. */
const FRIEDMAN_VERSION = 1;

/**
 * scikit-learn's make_friedman1 (noise 1.0), ported: 10 uniform [0, 1)
 * features, y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + N(0, 1);
 * features 5..9 are noise. Drawn from sabre's RNG with `seed` and written
 * once into the cache as the table files (yr the target, y = yr > 14.4, its
 * median, unused by the regressor rows), so both sides read the same bytes.
 */
export function ensureFriedman(cacheDir: string, train: number, test: number, seed = 1): TableFiles {
  const rows = train + test;
  const features = 10;
  const stem = join(cacheDir, `forest-friedman1-v${FRIEDMAN_VERSION}-${rows}-s${seed}`);
  const files: TableFiles = { x: `${stem}.X.f64`, y: `${stem}.y.i32`, yr: `${stem}.yr.f64`, train, test, features };
  if (existsSync(files.x) && existsSync(files.y) && existsSync(files.yr)) return files;
  const X = new Float64Array(rows * features);
  rng(seed, 0).fillFloat(X);
  const noise = rng(seed, 1);
  const y = new Int32Array(rows);
  const yr = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * features;
    yr[r] = 10 * Math.sin(Math.PI * X[o]! * X[o + 1]!) + 20 * (X[o + 2]! - 0.5) ** 2 + 10 * X[o + 3]! + 5 * X[o + 4]! + noise.normal();
    y[r] = yr[r]! > 14.4 ? 1 : 0;
  }
  writeTable(files, X, y, yr);
  return files;
}

function writeTable(files: TableFiles, X: Float64Array, y: Int32Array, yr: Float64Array): void {
  // Typed arrays are little-endian on every platform node runs on here (x64, arm64); numpy reads "<f8"/"<i4".
  for (const [path, data] of [
    [files.x, X],
    [files.y, y],
    [files.yr, yr],
  ] as const) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    renameSync(tmp, path);
  }
}

/** Reads a raw file straight into `out` (no intermediate Buffer, so it adds nothing to the peak RSS). */
export function readRaw(path: string, out: Uint8Array): void {
  const fd = openSync(path, "r");
  try {
    let off = 0;
    while (off < out.byteLength) {
      const got = readSync(fd, out, off, out.byteLength - off, off);
      if (got === 0) throw new Error(`${path} is shorter than the ${out.byteLength} bytes expected`);
      off += got;
    }
  } finally {
    closeSync(fd);
  }
}

/** What one child process is asked to do: one fit and one predict (or, for sabre, only the binning step). */
export interface RunSpec {
  readonly data:
    | {
        readonly kind: "fashion";
        readonly dir: string;
        readonly trainRows: number;
        /** "float32": the pixels / 255 as float32 (train and test), on both sides; default uint8. */
        readonly pixels?: "uint8" | "float32";
      }
    | { readonly kind: "table"; readonly files: TableFiles };
  readonly trees: number;
  readonly seed: number;
  /** Table only: "regression" fits a regressor to the continuous target (yr) and reports R^2 as `accuracy`. */
  readonly task?: "classification" | "regression";
  /** Threads (sabre engine threads, sklearn n_jobs); ml-random-forest is single-threaded. */
  readonly threads: number;
  /** sabre only: "binning" times the binning step alone, `repeats` times in one process. */
  readonly mode?: "fit" | "binning";
  readonly repeats?: number;
  /**
   * sabre only: fits of the same shape run (and dropped) in the same process
   * before the timed one, with other seeds: by then V8 has compiled the
   * growth code, so the timed fit shows what a fresh process pays for that.
   */
  readonly warmFits?: number;
}

/** The one JSON line a child prints last on stdout. */
export type RunResult =
  | {
      readonly fitS: number;
      /** CPU time (user + system, every thread of the process) spent in fit, s. */
      readonly fitCpuS: number;
      readonly predictS: number;
      /** Test accuracy (classification) or R^2 (regression). */
      readonly accuracy: number;
      /** Peak resident set size of the whole child process (all its threads), MiB. */
      readonly peakRssMiB: number;
      /** Resident set size once the data was loaded, before fit, MiB. */
      readonly loadedRssMiB: number;
      readonly nodes: number;
      readonly version: string;
      /** CPU time (user + system) of the whole child process over its life, s. */
      readonly cpuS: number;
    }
  | { readonly binningS: readonly number[]; readonly version: string; readonly cpuS: number }
  | { readonly skip: string };

/** CPU time (user + system) of this whole process (every thread) so far, s. */
export function processCpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Runs a contender child's main on the RunSpec in argv[2] and prints its one
 * RunResult line last on stdout (exit 0), or the error on stderr (exit 1).
 */
export function runAsChild(main: (spec: RunSpec) => Promise<RunResult>): void {
  main(JSON.parse(process.argv[2] ?? "null") as RunSpec).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
