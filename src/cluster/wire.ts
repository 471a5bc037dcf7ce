// The JSON form of kernel args and results as they cross hosts (README.md § Payloads).
// Shared memory does not cross hosts: arrays travel by value, either inline
// (base64, for results) or as blobs named by a content hash (for args, put
// once in Redis and cached by every host).
import { createHash } from "node:crypto";
import { ClusterError, SabreTypeError } from "../errors.js";
import { Reduction, ReadOnlyClause, RowsClause } from "../engine/clauses.js";
import { CONSTRUCTORS, dtypeOf, isDType, type DType, type TypedArray } from "../memory/dtypes.js";
import { isNdArray, ndarray, type NdArray } from "../memory/ndarray-type.js";
import { allocShared } from "../memory/shared.js";
import { describe } from "../validate.js";
import { ClusterFile, type FileFormat } from "./file-ref.js";

export type Wire = null | boolean | number | string | Wire[] | { [k: string]: Wire };

/** An array's bytes as a blob: its content hash and the bytes (a copy when the array was a strided view). */
export interface Blob {
  hash: string;
  bytes: Uint8Array;
}

/** Values nested deeper than this are refused (a cycle, or not data). */
const MAX_DEPTH = 64;

export function hashBytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The elements of an ndarray in row-major order, as a compact typed array (the data itself when it already is). */
function compact(x: NdArray): TypedArray {
  const size = x.shape.reduce((a, b) => a * b, 1);
  let expect = 1;
  let contiguous = true;
  for (let k = x.shape.length - 1; k >= 0; k--) {
    if (x.shape[k]! > 1 && x.stride[k] !== expect) contiguous = false;
    expect *= x.shape[k]!;
  }
  if (contiguous) return x.data.subarray(x.offset, x.offset + size) as TypedArray;
  const dtype = dtypeOf(x.data)!;
  const out = new CONSTRUCTORS[dtype](size) as TypedArray;
  const dims = x.shape.length;
  const idx = new Array<number>(dims).fill(0);
  for (let i = 0; i < size; i++) {
    let at = x.offset;
    for (let k = 0; k < dims; k++) at += idx[k]! * x.stride[k]!;
    (out as unknown as unknown[])[i] = (x.data as unknown as unknown[])[at];
    for (let k = dims - 1; k >= 0; k--) {
      if (++idx[k]! < x.shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

function b64(a: TypedArray): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

function number(v: number): Wire {
  if (Number.isFinite(v) && !Object.is(v, -0)) return v;
  return { $n: Object.is(v, -0) ? "-0" : String(v) };
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Encodes `value`. With `blobs`, arrays become blob references (collected
 * there, deduplicated by hash); without, they are inlined as base64.
 * `top` allows the clauses (readOnly, reduction) that only make sense as
 * top-level args. Anything that is not data is refused with SabreTypeError.
 */
export function encode(value: unknown, path: string, blobs?: Map<string, Blob>, top = false, depth = 0): Wire {
  if (depth > MAX_DEPTH) throw new SabreTypeError(`${path}: nested deeper than ${MAX_DEPTH} levels (a cycle?); cluster args must be plain data`);
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (value === undefined) return { $u: 1 };
  if (typeof value === "number") return number(value);
  if (typeof value === "bigint") return { $bi: value.toString() };
  if (typeof value !== "object") throw new SabreTypeError(`${path}: a ${typeof value} cannot be sent to another host; cluster args must be plain data`);
  const array = (a: TypedArray): Wire => {
    if (!blobs) return b64(a);
    const bytes = bytesOf(a);
    const hash = hashBytes(bytes);
    if (!blobs.has(hash)) blobs.set(hash, { hash, bytes });
    return { $h: hash };
  };
  if (value instanceof ReadOnlyClause) {
    if (!top) throw new SabreTypeError(`${path}: readOnly() clauses must be top-level properties of args`);
    return { $ro: encode(value.value, path, blobs, false, depth + 1) };
  }
  if (value instanceof Reduction) {
    if (!top) throw new SabreTypeError(`${path}: reduction() clauses must be top-level properties of args`);
    return { $r: value.op, i: typeof value.initial === "number" ? number(value.initial) : b64(value.initial) };
  }
  if (value instanceof ClusterFile) return { $f: value.path, fmt: value.format };
  if (value instanceof RowsClause) {
    throw new SabreTypeError(`${path}: rows() hands each chunk a view to write into, and shared memory does not cross hosts; return the chunk's values from the kernel instead`);
  }
  if (isNdArray(value)) {
    const dtype = dtypeOf(value.data);
    if (!dtype) throw new SabreTypeError(`${path}: an ndarray over ${describe(value.data)} cannot be sent`);
    const { shape } = value;
    const data = array(compact(value));
    return { $a: dtype, shape: [...shape], d: data };
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const dtype = dtypeOf(value);
    if (!dtype) throw new SabreTypeError(`${path}: ${describe(value)} cannot be sent`);
    return { $t: dtype, d: array(value as TypedArray) };
  }
  if (Array.isArray(value)) return value.map((v, i) => encode(v, `${path}[${i}]`, blobs, false, depth + 1));
  if (!isPlainObject(value)) {
    throw new SabreTypeError(`${path}: ${describe(value)} cannot be sent to another host; cluster args must be plain data (numbers, strings, arrays, plain objects, typed arrays, ndarrays)`);
  }
  const out: { [k: string]: Wire } = {};
  for (const [k, v] of Object.entries(value)) out[k] = encode(v, `${path}.${k}`, blobs, top, depth + 1);
  return { $o: out };
}

/** Every blob hash `w` refers to. */
export function blobHashes(w: Wire, out = new Set<string>()): Set<string> {
  if (Array.isArray(w)) for (const v of w) blobHashes(v, out);
  else if (w !== null && typeof w === "object") {
    if (typeof w["$h"] === "string") out.add(w["$h"]);
    else for (const v of Object.values(w)) blobHashes(v, out);
  }
  return out;
}

/** Every file reference in `w`, by path. */
export function fileRefs(w: Wire, out = new Map<string, FileFormat>()): Map<string, FileFormat> {
  if (Array.isArray(w)) for (const v of w) fileRefs(v, out);
  else if (w !== null && typeof w === "object") {
    if (typeof w["$f"] === "string") {
      const fmt = w["fmt"];
      if (fmt !== "npy" && fmt !== "idx" && fmt !== "csv") throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `file ${w["$f"]}: unknown format ${describe(fmt)}`);
      out.set(w["$f"], fmt);
    } else for (const v of Object.values(w)) fileRefs(v, out);
  }
  return out;
}

function bad(path: string, what: string): never {
  throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `${path}: malformed payload: ${what}`);
}

/** Where decode finds blobs (a host's cache) and how it treats clauses. */
export interface DecodeContext {
  blob?: (hash: string) => Uint8Array;
  /** Arrays go into shared memory (a host handing them to its Engine). */
  shared?: boolean;
  /** Makes a reduction clause's accumulator (a host) or the clause itself. */
  reduction?: (op: "sum" | "min" | "max", initial: number | Float64Array, name: string) => unknown;
  readOnly?: (x: unknown) => unknown;
  /** A file a host has read (fileRefs first). */
  file?: (path: string) => unknown;
}

function typed(dtype: DType, bytes: Uint8Array, shared: boolean, copy: boolean, path: string): TypedArray {
  const Ctor = CONSTRUCTORS[dtype];
  const size = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) bad(path, `${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  if (!copy && bytes.byteOffset % size === 0 && (!shared || bytes.buffer instanceof SharedArrayBuffer)) {
    return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / size) as TypedArray;
  }
  const buf = shared ? allocShared(bytes.byteLength) : new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return new Ctor(buf as ArrayBuffer, 0, bytes.byteLength / size) as TypedArray;
}

/**
 * Decodes a wire value. Arrays from the blob cache are shared with later
 * jobs, so only a readOnly() arg is handed out without a copy.
 */
export function decode(w: Wire, path: string, ctx: DecodeContext = {}, top = false, readonly = false, name = ""): unknown {
  if (w === null || typeof w === "boolean" || typeof w === "string" || typeof w === "number") return w;
  if (Array.isArray(w)) return w.map((v, i) => decode(v, `${path}[${i}]`, ctx, false, readonly));
  if (typeof w !== "object") bad(path, describe(w));
  const data = (d: Wire | undefined, dtype: unknown): TypedArray => {
    if (!isDType(dtype)) bad(path, `unknown dtype ${describe(dtype)}`);
    if (typeof d === "string") return typed(dtype, Buffer.from(d, "base64"), ctx.shared === true, true, path);
    if (d !== null && typeof d === "object" && !Array.isArray(d) && typeof d["$h"] === "string") {
      if (!ctx.blob) bad(path, "a blob reference where none is expected");
      return typed(dtype, ctx.blob(d["$h"]), ctx.shared === true, !readonly, path);
    }
    return bad(path, `array data ${describe(d)}`);
  };
  if ("$o" in w) {
    const o = w["$o"];
    if (o === null || typeof o !== "object" || Array.isArray(o)) bad(path, "object");
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decode(v, `${path}.${k}`, ctx, top, readonly, k);
    return out;
  }
  if ("$n" in w) {
    const s = w["$n"];
    if (s === "-0") return -0;
    if (s === "NaN" || s === "Infinity" || s === "-Infinity") return Number(s);
    return bad(path, `number ${describe(s)}`);
  }
  if ("$u" in w) return undefined;
  if ("$f" in w) {
    if (!ctx.file || typeof w["$f"] !== "string") bad(path, "a file reference where none is expected");
    return ctx.file(w["$f"]);
  }
  if ("$bi" in w) {
    if (typeof w["$bi"] !== "string" || !/^-?\d+$/.test(w["$bi"])) bad(path, "bigint");
    return BigInt(w["$bi"]);
  }
  if ("$t" in w) return data(w["d"], w["$t"]);
  if ("$a" in w) {
    const shape = w["shape"];
    if (!Array.isArray(shape) || !shape.every((s) => typeof s === "number" && Number.isInteger(s) && s >= 0)) bad(path, "shape");
    const flat = data(w["d"], w["$a"]);
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (flat.length !== size) bad(path, `${flat.length} elements for shape [${shape.join(", ")}]`);
    const stride: number[] = [];
    let s = 1;
    for (let k = shape.length - 1; k >= 0; k--) {
      stride[k] = s;
      s *= shape[k] as number;
    }
    return ndarray(flat, shape as number[], stride, 0);
  }
  if ("$ro" in w) {
    if (!top) bad(path, "a readOnly clause below the top level");
    const inner = decode(w["$ro"], path, ctx, false, true);
    return ctx.readOnly ? ctx.readOnly(inner) : inner;
  }
  if ("$r" in w) {
    if (!top) bad(path, "a reduction clause below the top level");
    const op = w["$r"];
    if (op !== "sum" && op !== "min" && op !== "max") bad(path, `reduction op ${describe(op)}`);
    const i = w["i"];
    const initial = typeof i === "string" ? (typed("float64", Buffer.from(i, "base64"), false, true, path) as Float64Array) : (decode(i ?? null, path) as number);
    if (typeof initial !== "number" && !(initial instanceof Float64Array)) bad(path, "reduction initial value");
    return ctx.reduction ? ctx.reduction(op, initial, name) : { op, initial };
  }
  return bad(path, `unknown tag in ${Object.keys(w).join(", ")}`);
}
