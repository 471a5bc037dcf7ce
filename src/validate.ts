import { SabreTypeError } from "./errors.js";

/** Describes a value for an error message without dumping large objects. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  switch (typeof value) {
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
    case "string":
      return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default: {
      const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
      return ctor && ctor !== "Object" ? `a ${ctor}` : "an object";
    }
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(name: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new SabreTypeError(`${name} must be an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number. */
export function checkFinite(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new SabreTypeError(`${name} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

/**
 * A timeout in milliseconds: undefined or Infinity mean "wait forever".
 * Returns Infinity for "forever" so callers have one case.
 */
export function checkTimeout(value: unknown): number {
  if (value === undefined || value === Infinity) return Infinity;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new SabreTypeError(`timeout must be a number of milliseconds >= 0 (or undefined for none), got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is an AbortSignal or undefined. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new SabreTypeError(`signal must be an AbortSignal, got ${describe(value)}`);
  }
  return value;
}

/**
 * Throws unless every own key of `options` is in `known`: a misspelt option
 * (`{ batchsize: 32 }`) would otherwise be silently ignored and the default
 * used, which is a wrong answer rather than an error. `what` names the
 * options object in the message, e.g. "DataLoader options".
 */
export function checkKnownKeys(what: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new SabreTypeError(`${what}: unknown option "${key}" (known: ${known.join(", ")})`);
    }
  }
}
