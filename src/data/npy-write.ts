import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fdatasyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { open, realpath, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { AbortError, SabreError, SabreTypeError } from "../errors.js";
import { CONSTRUCTORS, dtypeOf, type DType, type TypedArray } from "../memory/dtypes.js";
import { isNdArray, ndarray, type NdArray } from "../memory/ndarray-type.js";
import { describe } from "../validate.js";
import { formatHeader } from "./npy-header.js";
import { checkNpyOptions, checkPath, type NpyOptions } from "./npy-path.js";

/** Bytes gathered per write from a strided view: one write call per MiB is lost in the copy. */
const GATHER_BYTES = 1 << 20;

function checkArray(fn: string, x: unknown): { array: NdArray; dtype: DType } {
  const array = isNdArray(x) ? x : ArrayBuffer.isView(x) && dtypeOf(x) ? ndarray(x as TypedArray, [(x as TypedArray).length]) : undefined;
  const dtype = array && dtypeOf(array.data);
  if (!array || !dtype) {
    throw new SabreTypeError(`${fn} needs an ndarray (or a typed array) of one of sabre's dtypes, got ${describe(x)}${isNdArray(x) ? ` over ${describe(x.data)}` : ""}`);
  }
  return { array, dtype };
}

/** True when the elements lie in row-major order, back to back (whatever the offset). */
function isCContiguous(x: NdArray): boolean {
  let expected = 1;
  for (let ax = x.shape.length - 1; ax >= 0; ax--) {
    if (x.shape[ax]! !== 1 && x.stride[ax]! !== expected) return false;
    expected *= x.shape[ax]!;
  }
  return true;
}

/** Bytes to write at a file position. */
interface Piece {
  bytes: Uint8Array;
  at: number;
}

/**
 * The file's bytes as a generator shared by the async and sync writers: the
 * header, then the data in C order. A contiguous array goes out straight
 * from its own buffer; a strided view (transposed, sliced, stepped,
 * Fortran-ordered) is gathered through one reused 1 MiB buffer, so writing
 * never needs a second copy of the array. Each piece carries its file
 * position: a 2-D view whose rows are strided in memory is gathered tile by
 * tile (`tiles2d`), and a tile's rows land at separate places in the file.
 */
function* npyChunks(x: NdArray, dtype: DType): Generator<Piece, void, void> {
  const shape = x.shape;
  const header = formatHeader(dtype, shape);
  yield { bytes: header, at: 0 };
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return;
  const itemSize = x.data.BYTES_PER_ELEMENT;
  if (isCContiguous(x)) {
    yield { bytes: new Uint8Array(x.data.buffer, x.data.byteOffset + x.offset * itemSize, size * itemSize), at: header.length };
    return;
  }
  const buf = new CONSTRUCTORS[dtype](Math.min(size, Math.max(1, GATHER_BYTES / itemSize)));
  if (shape.length === 2 && Math.abs(x.stride[0]!) < Math.abs(x.stride[1]!)) {
    yield* tiles2d(x, buf, header.length);
    return;
  }
  const src = x.data as unknown as { [i: number]: number | bigint };
  const out = buf as unknown as { [i: number]: number | bigint };
  const bytes = new Uint8Array(buf.buffer);
  // Walk the outer axes like an odometer; copy along the last axis.
  const d = shape.length;
  const n = shape[d - 1]!;
  const s = x.stride[d - 1]!;
  const idx = new Array<number>(Math.max(0, d - 1)).fill(0);
  let base = x.offset;
  let k = 0;
  let at = header.length;
  for (let r = size / n; r > 0; r--) {
    for (let j = 0, p = base; j < n; j++, p += s) {
      out[k++] = src[p]!;
      if (k === buf.length) {
        yield { bytes, at };
        at += bytes.length;
        k = 0;
      }
    }
    for (let ax = d - 2; ax >= 0; ax--) {
      idx[ax]!++;
      base += x.stride[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      base -= x.stride[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
  if (k > 0) yield { bytes: bytes.subarray(0, k * itemSize), at };
}

/**
 * A 2-D view whose first axis has the smaller stride (a transpose, a
 * Fortran-ordered array): walking it in C order would touch a new cache
 * line for every element. Gathered instead in tiles of at least 16 rows,
 * reading down each tile column (16 neighbouring elements in memory) and
 * writing each tile row to its place in the file; short rows make tall
 * tiles of whole rows, written at once. Measured on the transpose of a
 * [250000, 100] float64 array (200 MB; 2 cores, load ~7, medians of 5):
 * 0.83-0.90 s tiled against 1.14-1.30 s element by element in the same
 * run, and 0.31 s to write the contiguous array itself.
 */
function* tiles2d(x: NdArray, buf: TypedArray, dataAt: number): Generator<Piece, void, void> {
  const [n0, n1] = x.shape as [number, number];
  const [s0, s1] = x.stride as [number, number];
  const itemSize = buf.BYTES_PER_ELEMENT;
  const src = x.data as unknown as { [i: number]: number | bigint };
  const out = buf as unknown as { [i: number]: number | bigint };
  const bytes = new Uint8Array(buf.buffer);
  const rows = Math.min(n0, Math.max(16, Math.floor(buf.length / n1)));
  const cols = Math.max(1, Math.min(n1, Math.floor(buf.length / rows)));
  for (let i0 = 0; i0 < n0; i0 += rows) {
    const h = Math.min(rows, n0 - i0);
    for (let j0 = 0; j0 < n1; j0 += cols) {
      const w = Math.min(cols, n1 - j0);
      for (let j = 0; j < w; j++) {
        for (let r = 0, p = x.offset + i0 * s0 + (j0 + j) * s1, k = j; r < h; r++, p += s0, k += w) out[k] = src[p]!;
      }
      const at = dataAt + (i0 * n1 + j0) * itemSize;
      if (w === n1) {
        yield { bytes: bytes.subarray(0, h * w * itemSize), at };
        continue;
      }
      for (let r = 0; r < h; r++) yield { bytes: bytes.subarray(r * w * itemSize, (r + 1) * w * itemSize), at: at + r * n1 * itemSize };
    }
  }
}

/** A hidden file next to the target, so that the final rename stays on one file system (its name kept short). */
function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target).slice(0, 40)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Where the rename must land: through a symlink to its file (renaming onto
 * the link would replace the link), keeping an existing file's permissions.
 */
async function targetOf(name: string): Promise<{ target: string; mode: number | undefined }> {
  const target = await realpath(name).catch(() => name);
  const mode = await stat(target).then((s) => (s.isFile() ? s.mode & 0o7777 : undefined), () => undefined);
  return { target, mode };
}

function targetOfSync(name: string): { target: string; mode: number | undefined } {
  let target = name;
  let mode: number | undefined;
  try {
    target = realpathSync(name);
    const s = statSync(target);
    if (s.isFile()) mode = s.mode & 0o7777;
  } catch {
    // A new file: nothing to follow or keep.
  }
  return { target, mode };
}

function writeError(name: string, err: unknown): unknown {
  if (err instanceof SabreError) return err;
  return new SabreTypeError(`cannot write ${name}: ${(err as Error).message}`, { cause: err });
}

/**
 * Writes an ndarray to a .npy file numpy reads with `np.load`: C order,
 * this machine's byte order (little-endian on x86 and ARM), format 1.0.
 * Any ndarray (shared or not, any strides: transposed and sliced views are
 * written in their logical order) or typed array; uint8_clamped is written
 * as uint8. The file appears atomically: the data goes to a temporary file
 * beside it, is flushed to disk, then renamed over `path`, so a reader never
 * sees half a file and a failed write leaves the old file in place. An
 * existing file keeps its permissions; a symlink is written through.
 *
 * ```ts
 * await writeNpy("scores.npy", scores);   // np.load("scores.npy")
 * ```
 */
export async function writeNpy(path: string | URL, x: NdArray | TypedArray, options?: NpyOptions): Promise<void> {
  const name = checkPath("writeNpy", path);
  const { array, dtype } = checkArray("writeNpy", x);
  const signal = checkNpyOptions("writeNpy", options);
  if (signal?.aborted) throw new AbortError(`writeNpy(${name})`, signal.reason);
  const { target, mode } = await targetOf(name);
  const tmp = tempPath(target);
  let file;
  try {
    file = await open(tmp, "wx");
  } catch (err) {
    throw writeError(name, err);
  }
  let renamed = false;
  try {
    if (mode !== undefined) await file.chmod(mode);
    for (const { bytes, at } of npyChunks(array, dtype)) {
      if (signal?.aborted) throw new AbortError(`writeNpy(${name})`, signal.reason);
      for (let off = 0; off < bytes.length; ) off += (await file.write(bytes, off, bytes.length - off, at + off)).bytesWritten;
    }
    await file.datasync();
    await file.close();
    file = undefined;
    await rename(tmp, target);
    renamed = true;
  } catch (err) {
    throw writeError(name, err);
  } finally {
    await file?.close().catch(() => {});
    if (!renamed) await unlink(tmp).catch(() => {});
  }
}

/** writeNpy, synchronously. */
export function writeNpySync(path: string | URL, x: NdArray | TypedArray): void {
  const name = checkPath("writeNpySync", path);
  const { array, dtype } = checkArray("writeNpySync", x);
  const { target, mode } = targetOfSync(name);
  const tmp = tempPath(target);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx");
  } catch (err) {
    throw writeError(name, err);
  }
  let renamed = false;
  try {
    if (mode !== undefined) fchmodSync(fd, mode);
    for (const { bytes, at } of npyChunks(array, dtype)) {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off, at + off);
    }
    fdatasyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
    renamed = true;
  } catch (err) {
    throw writeError(name, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (!renamed) {
      try {
        unlinkSync(tmp);
      } catch {
        // Already gone, or never created: nothing to clean.
      }
    }
  }
}
