/**
 * The .npy preamble and header (numpy's NEP 1 format, versions 1.0 to 3.0):
 *
 *   \x93NUMPY  major minor  HEADER_LEN  HEADER  data...
 *
 * HEADER_LEN is a little-endian uint16 in version 1.0 and a uint32 in 2.0
 * and 3.0; HEADER is the repr of a dict with exactly the keys 'descr',
 * 'fortran_order' and 'shape', padded with spaces and a newline so the data
 * starts on a multiple of 64 bytes. Versions 1.0 and 2.0 encode it in
 * latin-1, 3.0 in UTF-8. Nothing here touches the file: the reader feeds
 * bytes in and gets sizes and a dtype back.
 */
import { FormatError } from "../errors.js";
import { MAX_ELEMENTS, type DType } from "../memory/dtypes.js";
import { LiteralError, PyTuple, parsePyLiteral, pyRepr, type PyValue } from "./npy-literal.js";

export const MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY
/** Magic and version; the header length follows (2 bytes in 1.0, 4 after). */
export const PREAMBLE_START = 8;
/** numpy refuses headers over 10,000 bytes unless told the file is trusted; a plain array's is under 200. */
export const MAX_HEADER = 1 << 20;

export const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export interface NpyHeader {
  dtype: DType;
  /** The descr as written, e.g. '>f8'. */
  descr: string;
  itemSize: number;
  /** True when the file's byte order is not this machine's. */
  swap: boolean;
  fortran: boolean;
  shape: number[];
  size: number;
  /** Bytes of data the header announces. */
  dataBytes: number;
}

const READABLE: Record<string, { dtype: DType; size: number }> = {
  f4: { dtype: "float32", size: 4 },
  f8: { dtype: "float64", size: 8 },
  i1: { dtype: "int8", size: 1 },
  i2: { dtype: "int16", size: 2 },
  i4: { dtype: "int32", size: 4 },
  i8: { dtype: "bigint64", size: 8 },
  u1: { dtype: "uint8", size: 1 },
  u2: { dtype: "uint16", size: 2 },
  u4: { dtype: "uint32", size: 4 },
  u8: { dtype: "biguint64", size: 8 },
  // numpy's bool is one byte, 0 or 1: read as uint8.
  b1: { dtype: "uint8", size: 1 },
};

const WRITTEN: Record<DType, string> = {
  float32: "f4",
  float64: "f8",
  int8: "i1",
  int16: "i2",
  int32: "i4",
  bigint64: "i8",
  uint8: "u1",
  uint8_clamped: "u1",
  uint16: "u2",
  uint32: "u4",
  biguint64: "u8",
};

const SABRE_HAS = "float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64 and bool";

/** What numpy calls a dtype that sabre has no array for. */
function unsupported(kind: string, bytes: string): string | undefined {
  switch (kind) {
    case "c":
      return bytes ? `complex${Number(bytes) * 8}` : "complex";
    case "f":
      return bytes === "2" ? "float16" : bytes ? `float${Number(bytes) * 8} (long double)` : "float";
    case "U":
      return "a unicode string";
    case "S":
    case "a":
      return "a byte string";
    case "V":
      return "raw bytes (void)";
    case "O":
      return "Python objects (pickled)";
    case "M":
      return "datetime64";
    case "m":
      return "timedelta64";
    case "i":
    case "u":
      return bytes ? `${kind === "u" ? "uint" : "int"}${Number(bytes) * 8}` : undefined;
    default:
      return undefined;
  }
}

function dtypeFromDescr(descr: PyValue, fail: (msg: string) => never): Pick<NpyHeader, "dtype" | "descr" | "itemSize" | "swap"> {
  if (Array.isArray(descr)) {
    return fail(`'descr' is ${pyRepr(descr).slice(0, 80)}: a structured dtype (record fields), which sabre has no array for (it reads ${SABRE_HAS})`);
  }
  if (typeof descr !== "string") return fail(`'descr' must be a dtype string such as '<f8', got ${pyRepr(descr)}`);
  const m = /^([<>|=]?)([a-zA-Z])(\d*)(.*)$/.exec(descr);
  if (!m) return fail(`unknown dtype descr '${descr}'`);
  const [, order, kind, bytes] = m as unknown as [string, string, string, string, string];
  const known = m[4] === "" ? READABLE[kind + bytes] : undefined;
  if (!known) {
    const name = unsupported(kind, bytes);
    if (name) return fail(`dtype '${descr}' (${name}) is not one sabre has (it reads ${SABRE_HAS})`);
    return fail(`unknown dtype descr '${descr}'`);
  }
  // '|' and '=' mean "not applicable" and "native": numpy writes '|' for one-byte types only.
  const swap = known.size > 1 && ((order === "<" && !LITTLE_ENDIAN_HOST) || (order === ">" && LITTLE_ENDIAN_HOST));
  return { dtype: known.dtype, descr, itemSize: known.size, swap };
}

/** The descr sabre writes for a dtype: this machine's byte order ('<' on x86 and ARM). */
export function descrFor(dtype: DType): string {
  const code = WRITTEN[dtype];
  return (code.endsWith("1") ? "|" : LITTLE_ENDIAN_HOST ? "<" : ">") + code;
}

/**
 * Reads the fixed preamble (the first 8 bytes, plus the header length in the
 * next 2 or 4): returns how many length bytes follow the first 8.
 */
export function checkStart(bytes: Uint8Array, got: number, what: string): { version: string; lengthBytes: 2 | 4 } {
  for (let i = 0; i < MAGIC.length; i++) {
    if (i >= got) break;
    if (bytes[i] !== MAGIC[i]) {
      const shown = Array.from(bytes.subarray(0, Math.min(got, 6)), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
      const zip = bytes[0] === 0x50 && bytes[1] === 0x4b ? " (this is a zip archive: an .npz holds several .npy files; unzip it first)" : "";
      throw new FormatError(`${what}: bad magic at byte ${i}: a .npy file starts with \\x93NUMPY, this one with "${shown}"${zip}`);
    }
  }
  if (got < PREAMBLE_START) {
    throw new FormatError(`${what}: truncated: ${got} bytes is too short for a .npy preamble (magic and version need ${PREAMBLE_START})`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const version = `${major}.${minor}`;
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw new FormatError(`${what}: unknown .npy format version ${version} at byte 6 (sabre reads 1.0, 2.0 and 3.0)`);
  }
  return { version, lengthBytes: major === 1 ? 2 : 4 };
}

/** The header length stored after the first 8 bytes. */
export function headerLength(bytes: Uint8Array, lengthBytes: 2 | 4): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return lengthBytes === 2 ? view.getUint16(PREAMBLE_START, true) : view.getUint32(PREAMBLE_START, true);
}

/**
 * Parses the header text (its bytes start at file offset `at`) into a dtype,
 * an order and a shape. Every failure is a FormatError naming the file and,
 * for syntax errors, the byte where reading stopped.
 */
export function parseHeader(bytes: Uint8Array, version: string, at: number, what: string): NpyHeader {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(version === "3.0" ? "utf8" : "latin1");
  const fail = (msg: string): never => {
    throw new FormatError(`${what}: header (bytes ${at}-${at + bytes.length - 1}): ${msg}`);
  };
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (err) {
    if (!(err instanceof LiteralError)) throw err;
    // Character offsets equal byte offsets except after non-ASCII UTF-8 text.
    const byte = Buffer.byteLength(text.slice(0, err.at), version === "3.0" ? "utf8" : "latin1");
    throw new FormatError(`${what}: the header is not a Python dict literal: ${err.message} at byte ${at + byte} (header byte ${byte})`);
  }
  if (!(dict instanceof Map)) return fail(`the header is not a Python dict literal but ${pyRepr(dict).slice(0, 80)}`);
  for (const key of ["descr", "fortran_order", "shape"]) if (!dict.has(key)) fail(`the header dict has no '${key}' key`);
  const extra = [...dict.keys()].filter((k) => k !== "descr" && k !== "fortran_order" && k !== "shape");
  if (extra.length > 0) fail(`unexpected key${extra.length > 1 ? "s" : ""} ${extra.map((k) => `'${k}'`).join(", ")} (a .npy header has exactly 'descr', 'fortran_order' and 'shape')`);
  const fortran = dict.get("fortran_order");
  if (typeof fortran !== "boolean") fail(`'fortran_order' must be True or False, got ${pyRepr(fortran!)}`);
  const shapeValue = dict.get("shape")!;
  if (!(shapeValue instanceof PyTuple)) return fail(`'shape' must be a tuple of integers, got ${pyRepr(shapeValue).slice(0, 80)}`);
  const shape: number[] = [];
  let size = 1;
  for (const d of shapeValue.items) {
    if (typeof d !== "bigint" || d < 0n) fail(`'shape' ${pyRepr(shapeValue)} must hold non-negative integers`);
    if ((d as bigint) > BigInt(MAX_ELEMENTS)) fail(`'shape' ${pyRepr(shapeValue)}: dimension ${d} is more than a shared array holds (2^31 - 1 elements)`);
    shape.push(Number(d));
    size *= Number(d);
  }
  if (size > MAX_ELEMENTS) fail(`'shape' ${pyRepr(shapeValue)} has ${size} elements, more than a shared array holds (2^31 - 1)`);
  const type = dtypeFromDescr(dict.get("descr")!, fail);
  return { ...type, fortran: fortran as boolean, shape, size, dataBytes: size * type.itemSize };
}

/**
 * The preamble and header for an array, as numpy 1.24 writes them: version
 * 1.0 unless the header does not fit in 65,535 bytes (then 2.0), data
 * aligned to 64 bytes.
 */
export function formatHeader(dtype: DType, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descrFor(dtype)}', 'fortran_order': False, 'shape': ${dims}, }`;
  const padded = (lengthBytes: number): number => Math.ceil((PREAMBLE_START + lengthBytes + dict.length + 1) / 64) * 64;
  const lengthBytes = padded(2) - PREAMBLE_START - 2 <= 0xffff ? 2 : 4;
  const start = PREAMBLE_START + lengthBytes;
  const total = padded(lengthBytes);
  const out = new Uint8Array(total);
  out.set(MAGIC);
  out[6] = lengthBytes === 2 ? 1 : 2;
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(PREAMBLE_START, total - start, true);
  else view.setUint32(PREAMBLE_START, total - start, true);
  out.fill(0x20, start, total - 1);
  out.set(Buffer.from(dict, "latin1"), start);
  out[total - 1] = 0x0a;
  return out;
}
