// The result dtype of ops.map: numpy's promotion rules, simplified to the
// dtypes sabre has (numpy's int64 becomes float64) and with a scalar operand
// "weak" as in numpy 2 (NEP 50): it never widens the array's dtype.
import { SabreTypeError } from "../errors.js";
import type { NumberDType } from "../memory/dtypes.js";

export const UNARY_FLOAT = ["sqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "sigmoid"] as const;
export const UNARY_KEEP = ["abs", "neg", "square", "sign", "floor", "ceil", "round"] as const;
export const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"] as const;
/**
 * A built-in elementwise function of `ops.map`, named as numpy's: unary
 * float results "sqrt", "exp", "log", "log1p", "expm1", "sin", "cos",
 * "tanh", "sigmoid"; unary keeping the dtype "abs", "neg", "square", "sign",
 * "floor", "ceil", "round"; binary (with a scalar or an array operand) "add",
 * "sub", "mul", "div", "pow", "maximum", "minimum"; and "clip" (min, max).
 */
export type MapFunction = (typeof UNARY_FLOAT)[number] | (typeof UNARY_KEEP)[number] | (typeof BINARY)[number] | "clip";

export const BUILTINS: readonly string[] = [...UNARY_FLOAT, ...UNARY_KEEP, ...BINARY, "clip"];

export function isBuiltin(fn: string): fn is MapFunction {
  return BUILTINS.includes(fn);
}

export function isFloat(d: NumberDType): boolean {
  return d === "float32" || d === "float64";
}

const INT_RANGE: Record<Exclude<NumberDType, "float32" | "float64">, [number, number, boolean, number]> = {
  // [min, max, signed, bits]
  int8: [-128, 127, true, 8],
  int16: [-32768, 32767, true, 16],
  int32: [-2147483648, 2147483647, true, 32],
  uint8: [0, 255, false, 8],
  uint8_clamped: [0, 255, false, 8],
  uint16: [0, 65535, false, 16],
  uint32: [0, 4294967295, false, 32],
};

const SIGNED_BY_BITS: Record<number, NumberDType> = { 8: "int8", 16: "int16", 32: "int32" };
const UNSIGNED_BY_BITS: Record<number, NumberDType> = { 8: "uint8", 16: "uint16", 32: "uint32" };

/** numpy's result_type of two array dtypes, with int64 replaced by float64. */
export function promote(a: NumberDType, b: NumberDType): NumberDType {
  if (a === b) return a;
  if (a === "float64" || b === "float64") return "float64";
  if (a === "float32" || b === "float32") {
    const other = a === "float32" ? b : a;
    if (other === "float32") return "float32";
    // float32 holds every int8/16 and uint8/16 exactly; int32 and uint32 need float64.
    return INT_RANGE[other as keyof typeof INT_RANGE][3] <= 16 ? "float32" : "float64";
  }
  const [, , sa, ba] = INT_RANGE[a as keyof typeof INT_RANGE];
  const [, , sb, bb] = INT_RANGE[b as keyof typeof INT_RANGE];
  if (sa === sb) return (sa ? SIGNED_BY_BITS : UNSIGNED_BY_BITS)[Math.max(ba, bb)]!;
  const signedBits = sa ? ba : bb;
  const unsignedBits = sa ? bb : ba;
  if (signedBits > unsignedBits) return SIGNED_BY_BITS[signedBits]!;
  // A signed type wide enough for the unsigned one: int64 for uint32, which sabre lacks.
  return SIGNED_BY_BITS[unsignedBits * 2] ?? "float64";
}

/** The dtype a scalar operand combines to with an array of dtype `d` (NEP 50: the scalar is weak). */
export function promoteScalar(op: string, d: NumberDType, value: number, name: string): NumberDType {
  if (isFloat(d)) return d;
  if (!Number.isInteger(value)) return "float64";
  const [lo, hi] = INT_RANGE[d as keyof typeof INT_RANGE];
  if (value < lo || value > hi) {
    throw new SabreTypeError(`ops.map: ${name} ${value} does not fit the ${d} array of "${op}" (numpy raises OverflowError); convert the array first`);
  }
  return d;
}

/** The dtype "fn" produces from operands that combine to `d` (after promotion). */
export function resultDType(fn: MapFunction, d: NumberDType): NumberDType {
  if ((UNARY_FLOAT as readonly string[]).includes(fn) || fn === "div") return isFloat(d) ? d : "float64";
  return d;
}

/**
 * Whether a result of dtype `result` may be written to `out` of dtype `out`:
 * numpy's "same_kind" casting (a float result never goes into an integer out).
 */
export function canStore(result: NumberDType, out: NumberDType): boolean {
  if (isFloat(out)) return true;
  if (isFloat(result)) return false;
  // A signed result into an unsigned out is another kind (numpy refuses it:
  // -1 would come out as 255); uint8_clamped saturates instead of wrapping.
  return !(INT_RANGE[result as keyof typeof INT_RANGE][2] && !INT_RANGE[out as keyof typeof INT_RANGE][2] && out !== "uint8_clamped");
}
