// The elementwise loops of ops.map, shared by the worker kernel and the
// calling thread (small inputs). One loop is compiled per function and
// dtype combination (new Function), so that every loop has a single
// expression and monomorphic typed-array accesses: a switch or a callback
// per element costs 3-10x on a loop this short.
import type { NdArray } from "../../src/memory/ndarray-type.js";

/** What the op hands the kernel: operands read through broadcast, merged strides. */
export interface MapArgs {
  fn: string;
  x: NdArray;
  xs: number[];
  /** The array operand of a binary function, or null for a scalar (then `scalar`). */
  other: NdArray | null;
  bs: number[];
  scalar: number;
  /** clip bounds. */
  lo: number;
  hi: number;
  out: NdArray;
  os: number[];
  /** The merged loop shape (at least one axis); elements are visited in its row-major order. */
  shape: number[];
  /** Integer result: products wrap as numpy's do (Math.imul), not round in float64. */
  intMath: boolean;
  /**
   * The integer result dtype when out has another dtype (a float out): the
   * value is wrapped to it first, as numpy computes in the result dtype and
   * then casts. Null when the store into out does that already.
   */
  wrap: string | null;
}

/** Wraps an expression's value to an integer dtype, as a store into that typed array would. */
function wrapTo(dtype: string, e: string): string {
  switch (dtype) {
    case "int8":
      return `(((${e}) << 24) >> 24)`;
    case "uint8":
      return `((${e}) & 255)`;
    case "int16":
      return `(((${e}) << 16) >> 16)`;
    case "uint16":
      return `((${e}) & 65535)`;
    case "int32":
      return `((${e}) | 0)`;
    case "uint32":
      return `((${e}) >>> 0)`;
    case "uint8_clamped":
      return `rint(Math.min(255, Math.max(0, ${e})))`;
    default:
      return e;
  }
}

/** numpy's rint: round half to even, keeping -0. */
function rint(a: number): number {
  const r = Math.round(a);
  return r - a === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** scipy's expit, without overflow for large |a|. */
function sigmoid(a: number): number {
  if (a >= 0) return 1 / (1 + Math.exp(-a));
  const e = Math.exp(a);
  return e / (1 + e);
}

/** C's pow where it differs from Math.pow (numpy follows C): 1^y and (-1)^±inf are 1. */
function pow(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}

const HELPERS = { rint, sigmoid, pow };

function expression(fn: string, intMath: boolean): string {
  switch (fn) {
    case "sqrt":
    case "exp":
    case "log":
    case "log1p":
    case "expm1":
    case "abs":
    case "sin":
    case "cos":
    case "tanh":
    case "floor":
    case "ceil":
      return `Math.${fn}(a)`;
    case "sign":
      // numpy's sign(-0) is +0 (Math.sign keeps -0); NaN stays NaN.
      return "(a > 0 ? 1 : a < 0 ? -1 : a === 0 ? 0 : a)";
    case "neg":
      return "-a";
    case "square":
      return intMath ? "Math.imul(a, a)" : "a * a";
    case "round":
      return "rint(a)";
    case "sigmoid":
      return "sigmoid(a)";
    case "add":
      return "a + b";
    case "sub":
      return "a - b";
    case "mul":
      return intMath ? "Math.imul(a, b)" : "a * b";
    case "div":
      return "a / b";
    case "pow":
      return "pow(a, b)";
    case "maximum":
      return "Math.max(a, b)";
    case "minimum":
      return "Math.min(a, b)";
    case "clip":
      return "Math.min(Math.max(a, lo), hi)";
    default:
      throw new Error(`ops.map: no loop for "${fn}"`);
  }
}

type Loop = (
  x: ArrayLike<number>, xo: number, xs: number[],
  bd: ArrayLike<number> | null, bo: number, bs: number[],
  o: { [i: number]: number }, oo: number, os: number[],
  shape: number[], start: number, end: number,
  scalar: number, lo: number, hi: number, H: typeof HELPERS,
) => void;

/**
 * The loop body: the start index is decomposed into a position once, then
 * rows of the last (merged) axis run as tight loops, with a unit-stride
 * variant for the contiguous case.
 */
function compile(fn: string, hasArray: boolean, intMath: boolean, wrap: string | null): Loop {
  const bRead = (p: string): string => (hasArray ? `bd[${p}]` : "scalar");
  const expr = wrap ? wrapTo(wrap, expression(fn, intMath)) : expression(fn, intMath);
  const src = `
const { rint, sigmoid, pow } = H;
const d = shape.length, last = d - 1, n = shape[last];
const idx = new Array(d).fill(0);
let rem = start, px = xo, pb = bo, po = oo;
for (let ax = last; ax >= 0; ax--) {
  const len = shape[ax], i = rem % len;
  rem = (rem - i) / len;
  idx[ax] = i; px += i * xs[ax]; pb += i * bs[ax]; po += i * os[ax];
}
const sx = xs[last], sb = bs[last], so = os[last];
const unit = sx === 1 && so === 1 && (${hasArray ? "sb === 1" : "true"});
let k = start;
while (k < end) {
  const j0 = idx[last];
  const cnt = Math.min(n - j0, end - k);
  if (unit) {
    for (let j = 0; j < cnt; j++) { const a = x[px + j]; const b = ${bRead("pb + j")}; o[po + j] = ${expr}; }
    px += cnt; pb += cnt; po += cnt;
  } else {
    for (let j = 0; j < cnt; j++) { const a = x[px]; const b = ${bRead("pb")}; o[po] = ${expr}; px += sx; pb += sb; po += so; }
  }
  k += cnt;
  if (k >= end) break;
  // Carry: rewind the finished row, step the next axis up (odometer).
  idx[last] = j0 + cnt;
  for (let ax = last; ax >= 0 && idx[ax] === shape[ax]; ax--) {
    px -= shape[ax] * xs[ax]; pb -= shape[ax] * bs[ax]; po -= shape[ax] * os[ax];
    idx[ax] = 0;
    if (ax > 0) { idx[ax - 1]++; px += xs[ax - 1]; pb += bs[ax - 1]; po += os[ax - 1]; }
  }
}`;
  return new Function("x", "xo", "xs", "bd", "bo", "bs", "o", "oo", "os", "shape", "start", "end", "scalar", "lo", "hi", "H", src) as Loop;
}

// One compiled loop per (function, operand dtypes): V8 then sees one typed-array kind per access site.
const loops = new Map<string, Loop>();

/** Applies the map over elements [start, end) of the loop shape, in row-major order. */
export function runMap(args: MapArgs, start: number, end: number): void {
  if (end <= start) return;
  const { fn, x, other, out, intMath, wrap } = args;
  const key = `${fn}|${x.dtype}|${other ? other.dtype : "s"}|${out.dtype}|${intMath ? 1 : 0}|${wrap}`;
  let loop = loops.get(key);
  if (!loop) {
    loop = compile(fn, other !== null, intMath, wrap);
    loops.set(key, loop);
  }
  loop(
    x.data as ArrayLike<number>, x.offset, args.xs,
    other ? (other.data as ArrayLike<number>) : null, other ? other.offset : 0, args.bs,
    out.data as unknown as { [i: number]: number }, out.offset, args.os,
    args.shape, start, end, args.scalar, args.lo, args.hi, HELPERS,
  );
}
