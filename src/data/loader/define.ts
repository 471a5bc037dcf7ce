// What a dataset module (run inside the loader's workers) and a user
// transform module export. Re-exported by `sabre/worker`.
import { SabreTypeError } from "../../errors.js";
import type { DType, DTypeMap } from "../../memory/dtypes.js";
import type { Rng } from "../../random/rng.js";
import { checkKnownKeys, describe } from "../../validate.js";

/** One field of a sample: its element type and its shape (without the batch axis). */
export interface FieldSpec {
  /** The element type. */
  readonly dtype: DType;
  /** The sample's shape, e.g. [28, 28]; [] or [1] for a scalar. */
  readonly shape: readonly number[];
}

/** The fields of a sample, by name: each becomes `batch.fields.<name>`. */
export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

/** What every dataset hook learns about the thread it runs in. */
export interface WorkerInfo {
  /** 0 .. numWorkers - 1 (0 with numWorkers 0: the calling thread). */
  readonly workerId: number;
  /** The loader's numWorkers, at least 1 (0 counts as one: the calling thread). */
  readonly numWorkers: number;
  /** The loader's seed. */
  readonly seed: number;
  /** The epoch being loaded (0 during init). */
  readonly epoch: number;
}

/**
 * A sample's destination: for every field, a flat C-order typed-array view of
 * the sample's row in the batch slot (`field.shape` elements). getItem writes
 * into these; it may instead assign (or return) typed arrays / number arrays
 * / numbers of the right length, which are copied in.
 */
export type SampleOut = Record<string, DTypeMap[DType]>;

/** A map-style dataset module: sample `index` is produced by getItem. */
export interface DatasetDefinition<P = unknown> {
  /** The fields every sample has. */
  readonly fields: FieldSpecs;
  /** Once per worker (and once on the calling thread with numWorkers 0), before any getItem. */
  init?(params: P, ctx: WorkerInfo): unknown;
  /** The number of samples; called on the main thread (and in workers). A non-negative integer. */
  length(params: P): number;
  /** Writes sample `index` into `out`. May return a record of field values instead, or a promise. */
  getItem(index: number, out: SampleOut, ctx: WorkerInfo & { readonly params: P; readonly state: unknown }): unknown;
}

/** An iterable dataset module: each worker iterates its own shard (PyTorch's IterableDataset + get_worker_info). */
export interface IterableDatasetDefinition<P = unknown> {
  /** The fields every sample has. */
  readonly fields: FieldSpecs;
  /** Once per worker (and once on the calling thread with numWorkers 0), before iterate; its return value is `ctx.state`. */
  init?(params: P, ctx: WorkerInfo): unknown;
  /**
   * Yields this worker's samples for one epoch, each a record of field values
   * (typed arrays, number arrays or numbers). Shard by ctx.workerId /
   * ctx.numWorkers: every worker runs iterate.
   */
  iterate(params: P, ctx: WorkerInfo & { readonly state: unknown }): Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>;
}

/** A user transform: maps one field of one sample to its output row. */
export interface TransformDefinition<P = unknown> {
  /** The output field spec for an input spec (default: unchanged). */
  output?(input: FieldSpec, params: P): FieldSpec;
  /** Reads `input` (the sample's field, flat C order) and writes `output`. `rng` is this sample's own stream. */
  apply(input: DTypeMap[DType], output: DTypeMap[DType], ctx: { readonly input: FieldSpec; readonly output: FieldSpec; readonly params: P; readonly rng: Rng; readonly index: number }): void;
}

import { checkFields } from "./fields.js";
import { DATASET, ITERABLE, TRANSFORM } from "./modules.js";

function checkHook(what: string, name: string, fn: unknown, optional = false): void {
  if (fn === undefined && optional) return;
  if (typeof fn !== "function") throw new SabreTypeError(`${what}: ${name} must be a function, got ${describe(fn)}`);
}

/**
 * Declares a map-style dataset module (its default export). The loader's
 * workers import the module and call `getItem` for each sample they load.
 *
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for bad fields (an empty
 * name, a bad dtype or shape), a hook that is not a function, or a key the
 * definition does not have (a misspelt `lenght`)
 *
 * @example
 * ```ts
 * // squares.ts, loaded with new DataLoader({ module: new URL("./squares.js", import.meta.url), params: { n: 1000 } }, { batchSize: 32 })
 * import { defineDataset } from "sabre/worker";
 * export default defineDataset<{ n: number }>({
 *   fields: { x: { dtype: "float32", shape: [2] }, y: { dtype: "float32", shape: [1] } },
 *   length: ({ n }) => n,
 *   getItem(index, out) {
 *     out.x![0] = index;
 *     out.x![1] = 1;
 *     out.y![0] = index * index;
 *   },
 * });
 * ```
 */
export function defineDataset<P = unknown>(def: DatasetDefinition<P>): DatasetDefinition<P> {
  if (typeof def !== "object" || def === null) throw new SabreTypeError(`defineDataset takes { fields, init?, length, getItem }, got ${describe(def)}`);
  // A misspelt hook ({ getitem }) or a stray key would be ignored: refused, as option objects' are.
  checkKnownKeys("defineDataset", def, ["fields", "init", "length", "getItem"]);
  const fields = checkFields(def.fields);
  checkHook("defineDataset", "init", def.init, true);
  checkHook("defineDataset", "length", def.length);
  checkHook("defineDataset", "getItem", def.getItem);
  return Object.freeze({ ...def, fields, [DATASET]: true });
}

/**
 * Declares an iterable dataset module (its default export): length unknown, sharded by the workers themselves.
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) for bad fields or a hook that is not a function
 */
export function defineIterableDataset<P = unknown>(def: IterableDatasetDefinition<P>): IterableDatasetDefinition<P> {
  if (typeof def !== "object" || def === null) throw new SabreTypeError(`defineIterableDataset takes { fields, init?, iterate }, got ${describe(def)}`);
  checkKnownKeys("defineIterableDataset", def, ["fields", "init", "iterate"]);
  const fields = checkFields(def.fields);
  checkHook("defineIterableDataset", "init", def.init, true);
  checkHook("defineIterableDataset", "iterate", def.iterate);
  return Object.freeze({ ...def, fields, [ITERABLE]: true });
}

/**
 * Declares a transform module (its default export) for the loader's `transform` option.
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) when a hook is not a function
 */
export function defineTransform<P = unknown>(def: TransformDefinition<P>): TransformDefinition<P> {
  if (typeof def !== "object" || def === null) throw new SabreTypeError(`defineTransform takes { output?, apply }, got ${describe(def)}`);
  checkKnownKeys("defineTransform", def, ["output", "apply"]);
  checkHook("defineTransform", "output", def.output, true);
  checkHook("defineTransform", "apply", def.apply);
  return Object.freeze({ ...def, [TRANSFORM]: true });
}
