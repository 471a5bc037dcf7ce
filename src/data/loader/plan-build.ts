// Resolves a DataLoader's dataset and transforms into the plan every filling
// thread gets: loads dataset and transform modules on the main thread once
// (to learn fields, length and output shapes), and checks them.
import { existsSync } from "node:fs";
import { isAbsolute, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SabreTypeError } from "../../errors.js";
import { describe } from "../../validate.js";
import type { DatasetSource } from "../../../kernels/loader/plan.js";
import type { FieldSpec, FieldSpecs } from "./define.js";
import { checkField } from "./fields.js";
import { datasetOf, transformOf } from "./modules.js";
import { TensorDataset } from "./dataset.js";
import { DatasetError } from "./errors.js";
import { builtinOutput, type TransformSpec } from "./transforms.js";

/** A dataset module and the params its hooks get. */
export interface ModuleDatasetSpec<P = unknown> {
  /** A file: URL (or its href) of a module whose default export is defineDataset or defineIterableDataset. */
  module: URL | string;
  /** Passed to every hook (structured-cloneable). */
  params?: P;
}

/** What a DataLoader loads: arrays in memory, or a dataset module run in the workers. */
export type DatasetInput = TensorDataset | ModuleDatasetSpec;

export function moduleHref(spec: unknown, what: string): string {
  let url: URL;
  if (spec instanceof URL) url = spec;
  else if (typeof spec === "string" && spec.startsWith("file:")) url = new URL(spec);
  else if (typeof spec === "string" && spec.length > 0) url = pathToFileURL(isAbsolute(spec) ? spec : resolvePath(process.cwd(), spec));
  else throw new SabreTypeError(`${what} must be a file path or a file: URL, got ${describe(spec)}`);
  if (url.protocol !== "file:") throw new SabreTypeError(`${what} must be a file: URL, got ${url.href}`);
  if (!existsSync(fileURLToPath(url))) throw new SabreTypeError(`${what} not found: ${fileURLToPath(url)}`);
  return url.href;
}

async function importModule(href: string, what: string): Promise<unknown> {
  try {
    return await import(href);
  } catch (err) {
    throw new SabreTypeError(`cannot load ${what} ${href}: ${(err as Error).message}`, { cause: err });
  }
}

export interface ResolvedDataset {
  mode: "map" | "iterable";
  source: DatasetSource;
  fields: FieldSpecs;
  /** Samples (map-style); undefined for an iterable dataset. */
  length: number | undefined;
}

export async function resolveDataset(dataset: DatasetInput): Promise<ResolvedDataset> {
  if (dataset instanceof TensorDataset) {
    const arrays: Record<string, { data: TensorDataset["arrays"][string]["data"]; offset: number }> = {};
    for (const [name, x] of Object.entries(dataset.arrays)) arrays[name] = { data: x.data, offset: x.offset };
    return { mode: "map", source: { kind: "tensor", length: dataset.length, arrays }, fields: dataset.fields, length: dataset.length };
  }
  const href = moduleHref((dataset as ModuleDatasetSpec).module, "dataset module");
  const params = (dataset as ModuleDatasetSpec).params;
  const loaded = datasetOf(await importModule(href, "dataset module"), href);
  const source: DatasetSource = { kind: "module", url: href, params };
  if (loaded.kind === "iterable") return { mode: "iterable", source, fields: loaded.def.fields, length: undefined };
  let length: unknown;
  try {
    length = loaded.def.length(params);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    throw new DatasetError({ stage: "length", module: href }, { message: e.message, stack: e.stack, code: (e as { code?: string }).code });
  }
  if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || length > 2 ** 31 - 1) {
    throw new SabreTypeError(`dataset module ${href}: length(params) must return an integer in [0, 2^31 - 1], got ${describe(length)}`);
  }
  return { mode: "map", source, fields: loaded.def.fields, length };
}

/** Checks the transforms against the fields; returns each step's output spec and the fields as they land in the slot. */
export async function resolveTransforms(transforms: readonly TransformSpec[], fields: FieldSpecs): Promise<{ stepOutputs: FieldSpec[]; outFields: FieldSpecs }> {
  const current: Record<string, FieldSpec> = { ...fields };
  const stepOutputs: FieldSpec[] = [];
  for (const t of transforms) {
    const input = current[t.field];
    if (!input) throw new SabreTypeError(`transform ${t.kind} names field "${t.field}", which the dataset does not have (${Object.keys(fields).join(", ")})`);
    let output: FieldSpec;
    if (t.kind === "module") {
      const def = transformOf(await importModule(t.module, "transform module"), t.module);
      output = def.output ? checkField(t.field, def.output(input, t.params)) : input;
    } else output = builtinOutput(t, input);
    stepOutputs.push(output);
    current[t.field] = output;
  }
  return { stepOutputs, outFields: Object.freeze(current) };
}

/** A user transform module applied to one field: its default export is defineTransform({ output?, apply }). */
export function transformModule(field: string, module: URL | string, params?: unknown): TransformSpec {
  if (typeof field !== "string" || field.length === 0) throw new SabreTypeError(`transformModule: field must be a field name, got ${describe(field)}`);
  return { kind: "module", field, module: moduleHref(module, "transform module"), params };
}

export function checkTransformList(value: unknown): TransformSpec[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const t of list) {
    const kind = (t as { kind?: unknown } | null)?.kind;
    if (kind !== "randomCrop" && kind !== "randomFlip" && kind !== "normalize" && kind !== "module") {
      throw new SabreTypeError(`transform must be made by randomCrop, randomFlip, normalize or transformModule, got ${describe(t)}`);
    }
  }
  return list as TransformSpec[];
}
