import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { AbortError, FormatError, SabreError, SabreTypeError } from "../errors.js";
import { ndarray, type NdArray } from "../memory/ndarray-type.js";
import { rowMajorStrides, userTypedArray } from "../memory/shared.js";
import { describe } from "../validate.js";
import { MAX_HEADER, PREAMBLE_START, checkStart, headerLength, parseHeader } from "./npy-header.js";
import { checkNpyOptions, checkPath, type NpyOptions } from "./npy-path.js";
import { swapBytes } from "./npy-swap.js";

/**
 * Bytes read per call once the header is parsed: big enough that a call's
 * cost is lost in the copy, small enough that a big-endian chunk is swapped
 * while still in cache and an abort is noticed quickly. A multiple of 8, so
 * every chunk holds whole elements.
 */
const CHUNK = 4 << 20;

/**
 * A .npy reader as a generator, so that the async, sync and in-memory
 * readers share one parser: it yields the buffer it wants filled from the
 * next bytes of the source and is resumed with the count read (fewer only
 * at the end of the source). The body is yielded as views into the shared
 * array itself, so the file's data lands there directly, once.
 * `fileSize` (when the source is a regular file) lets a truncated file fail
 * before anything is allocated.
 */
function* npyReader(what: string, fileSize: number | undefined): Generator<Uint8Array, NdArray, number> {
  const start = new Uint8Array(PREAMBLE_START + 4);
  let got: number = yield start.subarray(0, PREAMBLE_START + 2);
  const { version, lengthBytes } = checkStart(start, got, what);
  if (lengthBytes === 4 && got === PREAMBLE_START + 2) got += yield start.subarray(PREAMBLE_START + 2);
  const headerAt = PREAMBLE_START + lengthBytes;
  if (got < headerAt) {
    throw new FormatError(`${what}: truncated: the file ends inside the version ${version} preamble (${got} of ${headerAt} bytes)`);
  }
  const hlen = headerLength(start, lengthBytes);
  const beyond = (): FormatError =>
    new FormatError(
      `${what}: the header length at byte ${PREAMBLE_START} says ${hlen} bytes, beyond the end of the file` +
        (fileSize === undefined ? "" : ` (${fileSize} bytes, which leaves ${Math.max(0, fileSize - headerAt)} for the header)`),
    );
  if (fileSize !== undefined && headerAt + hlen > fileSize) throw beyond();
  if (hlen > MAX_HEADER) {
    throw new FormatError(`${what}: the header length at byte ${PREAMBLE_START} says ${hlen} bytes; sabre reads headers up to ${MAX_HEADER} (a plain array's is under 1 KiB)`);
  }
  const headerBytes = new Uint8Array(hlen);
  if ((yield headerBytes) < hlen) throw beyond();
  const header = parseHeader(headerBytes, version, headerAt, what);
  const dataAt = headerAt + hlen;
  const { shape, dataBytes } = header;
  const needs = `shape [${shape.join(", ")}] of '${header.descr}' needs ${dataBytes} bytes of data after the ${dataAt}-byte header`;
  if (fileSize !== undefined) {
    const have = fileSize - dataAt;
    if (have < dataBytes) throw new FormatError(`${what}: truncated: ${needs}, the file has ${have}`);
    if (have > dataBytes) throw new FormatError(`${what}: ${have - dataBytes} unexpected bytes after the data: ${needs}, the file has ${have} (a shape that does not match the file size)`);
  }
  const data = userTypedArray(header.dtype, header.size);
  const body = new Uint8Array(data.buffer, data.byteOffset, dataBytes);
  for (let off = 0; off < dataBytes; off += CHUNK) {
    const part = body.subarray(off, Math.min(off + CHUNK, dataBytes));
    const n: number = yield part;
    if (n < part.length) throw new FormatError(`${what}: truncated: ${needs}, the file has ${off + n}`);
    if (header.swap) swapBytes(part, header.itemSize);
  }
  if (fileSize === undefined && (yield new Uint8Array(1)) > 0) {
    throw new FormatError(`${what}: unexpected bytes after the data: ${needs} (a shape that does not match the file size)`);
  }
  // Fortran order: the same bytes, viewed with column-major strides.
  const strides = header.fortran ? rowMajorStrides(shape.slice().reverse()).reverse() : rowMajorStrides(shape);
  return ndarray(data, shape, strides, 0);
}

/** Runs the reader over a synchronous source; `read` fills `into` from `offset` and returns the count (0 at the end). */
function drive(reader: Generator<Uint8Array, NdArray, number>, read: (into: Uint8Array, offset: number) => number): NdArray {
  let step = reader.next(0);
  while (!step.done) {
    const into = step.value;
    let n = 0;
    while (n < into.length) {
      const r = read(into, n);
      if (r === 0) break;
      n += r;
    }
    step = reader.next(n);
  }
  return step.value;
}

function fsError(name: string, err: unknown): unknown {
  if (err instanceof SabreError) return err;
  return new SabreTypeError(`cannot read ${name}: ${(err as Error).message}`, { cause: err });
}

/**
 * Reads a .npy file straight into a new shared ndarray: the header is
 * parsed, the SharedArrayBuffer allocated once, and the data read into it
 * in chunks, so the file is never held twice in memory.
 *
 * ```ts
 * const X = await readNpy("features.npy");   // np.save("features.npy", X)
 * X.shape; X.dtype;                         // [60000, 784] "float32"
 * ```
 * Every dtype sabre has (int64/uint64 as bigint64/biguint64, bool as
 * uint8), either byte order (big-endian data is swapped), C or Fortran
 * order (a view with Fortran strides, no copy), format versions 1.0-3.0.
 * A malformed or truncated file, or one holding a dtype sabre lacks
 * (complex, float16, strings, records, objects), is a FormatError naming
 * what is wrong and where; a file that cannot be opened is a SabreTypeError
 * carrying the system error.
 */
export async function readNpy(path: string | URL, options?: NpyOptions): Promise<NdArray> {
  const name = checkPath("readNpy", path);
  const signal = checkNpyOptions("readNpy", options);
  if (signal?.aborted) throw new AbortError(`readNpy(${name})`, signal.reason);
  let file;
  try {
    file = await open(name, "r");
  } catch (err) {
    throw fsError(name, err);
  }
  try {
    const stat = await file.stat();
    const reader = npyReader(name, stat.isFile() ? stat.size : undefined);
    let step = reader.next(0);
    while (!step.done) {
      if (signal?.aborted) throw new AbortError(`readNpy(${name})`, signal.reason);
      const into = step.value;
      let n = 0;
      while (n < into.length) {
        const { bytesRead } = await file.read(into, n, into.length - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      step = reader.next(n);
    }
    return step.value;
  } catch (err) {
    throw fsError(name, err);
  } finally {
    await file.close().catch(() => {});
  }
}

/** readNpy, synchronously (for scripts and worker-side dataset modules). */
export function readNpySync(path: string | URL): NdArray {
  const name = checkPath("readNpySync", path);
  let fd: number;
  try {
    fd = openSync(name, "r");
  } catch (err) {
    throw fsError(name, err);
  }
  try {
    const stat = fstatSync(fd);
    return drive(npyReader(name, stat.isFile() ? stat.size : undefined), (into, offset) => readSync(fd, into, offset, into.length - offset, null));
  } catch (err) {
    throw fsError(name, err);
  } finally {
    closeSync(fd);
  }
}

/** Parses .npy bytes already in memory into a new shared ndarray (one copy, into shared memory). */
export function parseNpy(bytes: Uint8Array, what = ".npy data"): NdArray {
  if (!(bytes instanceof Uint8Array)) throw new SabreTypeError(`parseNpy needs a Uint8Array, got ${describe(bytes)}`);
  let pos = 0;
  return drive(npyReader(what, bytes.length), (into, offset) => {
    const n = Math.min(into.length - offset, bytes.length - pos);
    into.set(bytes.subarray(pos, pos + n), offset);
    pos += n;
    return n;
  });
}
