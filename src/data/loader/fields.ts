// Field specs ({ dtype, shape }) as dataset modules and transforms declare them.
import { SabreTypeError } from "../../errors.js";
import { CONSTRUCTORS, MAX_ELEMENTS, isDType } from "../../memory/dtypes.js";
import { describe } from "../../validate.js";
import type { FieldSpec, FieldSpecs } from "./define.js";

/**
 * Throws unless `name` can name a field: a non-empty string. An empty name
 * would become `batch.fields[""]`, which no dotted access reaches and which
 * messages print as nothing. `what` prefixes the message.
 */
export function checkFieldName(what: string, name: string): void {
  if (name === "") throw new SabreTypeError(`${what}: a field name must be a non-empty string, got ""`);
}

/** Checks one field spec; returns a normalised copy. */
export function checkField(name: string, spec: unknown): FieldSpec {
  if (typeof spec !== "object" || spec === null) throw new SabreTypeError(`field "${name}" must be { dtype, shape }, got ${describe(spec)}`);
  const { dtype, shape } = spec as { dtype?: unknown; shape?: unknown };
  if (!isDType(dtype)) throw new SabreTypeError(`field "${name}" has dtype ${describe(dtype)}; expected one of ${Object.keys(CONSTRUCTORS).join(", ")}`);
  if (!Array.isArray(shape)) throw new SabreTypeError(`field "${name}" needs a shape (an array of sizes, [] or [1] for a scalar), got ${describe(shape)}`);
  let size = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 1) throw new SabreTypeError(`field "${name}" shape [${shape.join(", ")}] must hold positive integers`);
    size *= d;
  }
  if (size > MAX_ELEMENTS) throw new SabreTypeError(`field "${name}" has ${size} elements per sample, more than 2^31 - 1`);
  return Object.freeze({ dtype, shape: Object.freeze([...shape] as number[]) });
}

export function checkFields(fields: unknown): FieldSpecs {
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) throw new SabreTypeError(`fields must be an object of { dtype, shape }, got ${describe(fields)}`);
  const out: Record<string, FieldSpec> = {};
  for (const [name, spec] of Object.entries(fields)) {
    checkFieldName("fields", name);
    out[name] = checkField(name, spec);
  }
  if (Object.keys(out).length === 0) throw new SabreTypeError("fields must name at least one field");
  return Object.freeze(out);
}

