// Writing WebAssembly modules as bytes from TypeScript: LEB128 numbers,
// sections, the opcodes the ops kernels use, and instantiation. The kernels
// (matmul-wasm.ts, kmeans-wasm.ts, sum-wasm.ts) generate their code at run
// time with these, so nothing is compiled or downloaded at build time.

// The few WebAssembly JS API members used here (the project's lib has no DOM/wasm types).
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// Opcodes (WebAssembly core 2.0 and its SIMD proposal).
export const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b, VOID = 0x40;
export const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d;
export const GET = 0x20, SET = 0x21, TEE = 0x22;
export const I32_CONST = 0x41, I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c;
export const I32_GE_S = 0x4e, I32_LE_S = 0x4c, I32_LT_S = 0x48, I32_GT_S = 0x4a, I32_GE_U = 0x4f, I32_LT_U = 0x49;
export const I32_LOAD = 0x28, F32_LOAD = 0x2a, F64_LOAD = 0x2b, I32_STORE = 0x36, F64_STORE = 0x39;
export const IF = 0x04, ELSE = 0x05, RETURN = 0x0f, SELECT = 0x1b, F64_CONST = 0x44;
export const I32_EQZ = 0x45, I32_EQ = 0x46, I32_NE = 0x47, I32_SHL = 0x74;
export const F64_EQ = 0x61, F64_LT = 0x63, F64_GE = 0x66, F64_SQRT = 0x9f, F64_ADD = 0xa0, F64_SUB = 0xa1, F64_MUL = 0xa2, F64_MAX = 0xa5;
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
export const V128_LOAD = simd(0x00), V128_STORE = simd(0x0b), V128_CONST = simd(0x0c);
export const F64X2_SPLAT = simd(0x14), F64X2_ADD = simd(0xf0), F64X2_SUB = simd(0xf1), F64X2_MUL = simd(0xf2);
export const F32X4_SPLAT = simd(0x13), F32X4_ADD = simd(0xe4), F32X4_MUL = simd(0xe6);
/** Widens the low two float32 lanes of a v128 to float64 (exact). */
export const F64X2_PROMOTE_LOW_F32X4 = simd(0x5f);
export const F64X2_EXTRACT_LANE = (lane: number): number[] => [...simd(0x21), lane];
/** Lane-wise `b < a ? b : a` and `a < b ? b : a` (one minpd / maxpd on x64, where f64x2.min/max need NaN fix-ups). */
export const F64X2_PMIN = simd(0xf6), F64X2_PMAX = simd(0xf7);
export const F64X2_EQ = simd(0x47), I64X2_BITMASK = simd(0xc4);
export const F64X2_REPLACE_LANE = (lane: number): number[] => [...simd(0x22), lane];
/** i8x16.shuffle of the two operands' 32 bytes by the 16 byte indices. */
export const I8X16_SHUFFLE = (lanes: number[]): number[] => [...simd(0x0d), ...lanes];
export const I32_CTZ = 0x68, I32_AND = 0x71, I32_OR = 0x72;
export const I32X4_SPLAT = simd(0x11);
export const I32X4_REPLACE_LANE = (lane: number): number[] => [...simd(0x1c), lane];
/** v128.bitselect(a, b, mask): a's bits where mask is 1, b's elsewhere. */
export const V128_BITSELECT = simd(0x52);
/** v128.load64_lane: (address, v128) -> the v128 with lane `lane` (an immediate after the memarg) loaded from memory. */
export const V128_LOAD64_LANE = simd(0x57);
/** Memory immediate: log2 alignment, byte offset. */
export const mem = (align: number, offset: number): number[] => [...uleb(align), ...uleb(offset)];
/** A v128.const of zeros. */
export const V128_ZERO = [...V128_CONST, ...new Array<number>(16).fill(0)];

/**
 * A function body being written: the opcodes in `c`, with helpers for the
 * common instructions (local get/set, i32 constants).
 */
export class Code {
  readonly c: number[] = [];
  op(...bytes: number[]): this {
    this.c.push(...bytes);
    return this;
  }
  get(l: number): this {
    return this.op(GET, ...uleb(l));
  }
  set(l: number): this {
    return this.op(SET, ...uleb(l));
  }
  tee(l: number): this {
    return this.op(TEE, ...uleb(l));
  }
  i32(v: number): this {
    return this.op(I32_CONST, ...sleb(v));
  }
  f64(v: number): this {
    return this.op(F64_CONST, ...new Uint8Array(Float64Array.of(v).buffer));
  }
}

/** A function's body bytes: its local declarations (count, type pairs) then its code and END. */
export function body(locals: Array<[number, number]>, code: number[]): number[] {
  const b = [...vec(locals.map(([count, type]) => [...uleb(count), type])), ...code, END];
  return [...uleb(b.length), ...b];
}

/**
 * A module with one memory of `pages` 64 KiB pages exported as "memory" and
 * the given functions (each: its name, its parameter types or a count of i32 ones, its
 * result types, its body from `body()`).
 */
export function moduleBytes(pages: number, fns: Array<{ name: string; params: number | number[]; results: number[]; body: number[] }>): Uint8Array {
  const types = fns.map((f) => {
    const params = typeof f.params === "number" ? new Array<number>(f.params).fill(I32) : f.params;
    return [0x60, ...vec(params.map((t) => [t])), ...vec(f.results.map((r) => [r]))];
  });
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec([[...name("memory"), 0x02, 0], ...fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(fns.map((f) => f.body))),
  ];
  return Uint8Array.from(bytes);
}

/** An instance of the module, or null where WebAssembly (SIMD) is missing or refuses it. */
export function instantiate<T>(bytes: Uint8Array): T | null {
  try {
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as T;
  } catch {
    return null;
  }
}

/** Loads 8 bytes into the low half of a v128, zeroing the high half (two float32 lanes). */
export const V128_LOAD64_ZERO = simd(0x5d);

/**
 * A module that imports a shared memory as env.memory (any shared memory of
 * up to 65,536 pages fits the import) instead of defining its own, and
 * exports the given functions (as in `moduleBytes`). Kernels built on it run
 * over memory the caller already holds: a user's array allocated in a shared
 * WebAssembly.Memory (src/memory/wasm-memory.ts).
 */
export function importedMemoryModuleBytes(fns: Array<{ name: string; params: number | number[]; results: number[]; body: number[] }>): Uint8Array {
  const types = fns.map((f) => {
    const params = typeof f.params === "number" ? new Array<number>(f.params).fill(I32) : f.params;
    return [0x60, ...vec(params.map((t) => [t])), ...vec(f.results.map((r) => [r]))];
  });
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    // import "env" "memory": memory, limits flag 3 (maximum given, shared), min 0, max 65536 pages.
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x03, 0x00, ...uleb(65536)]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(fns.map((f) => f.body))),
  ];
  return Uint8Array.from(bytes);
}
