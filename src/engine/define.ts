import { SabreTypeError } from "../errors.js";
import { describe } from "../validate.js";

/** What a kernel learns about the piece of work it is running. */
export interface KernelContext {
  /** First index of this chunk (inclusive). */
  readonly start: number;
  /** End of this chunk (exclusive). */
  readonly end: number;
  /** Index of this chunk among the call's chunks (results come back in this order). */
  readonly chunk: number;
  /** How many chunks the call has. */
  readonly nChunks: number;
  /** The index of the worker running the chunk, 0 .. threads - 1. */
  readonly threadId: number;
  /** How many workers the engine has. */
  readonly threads: number;
  /** The kernel's name, for messages. */
  readonly kernel: string;
}

/**
 * A kernel: a function run inside a worker on one chunk [start, end) of a
 * parallel call, with the call's args revived over shared memory. It may
 * return a value (structured-cloneable, or containing shared arrays) or a
 * promise of one.
 */
export type Kernel<A = never> = (ctx: KernelContext, args: A) => unknown;

const KERNELS = Symbol.for("sabre.kernels");

/** A module's kernels, as `defineKernels` returns them. */
export interface KernelModule<K extends Record<string, Kernel> = Record<string, Kernel>> {
  /** @internal marks the object as made by defineKernels */
  readonly [KERNELS]: true;
  /** The kernels, by name. */
  readonly kernels: Readonly<K>;
}

/**
 * Declares the kernels of a module (its default export). Names must be unique
 * across all modules an engine loads.
 *
 * @throws {@link SabreTypeError} (`ERR_SABRE_TYPE`) when a value is not a function or a name is empty
 *
 * @example
 * ```ts
 * import { defineKernels } from "sabre/worker";
 * export default defineKernels({
 *   scaleRows({ start, end }, { x, factor }: { x: NdArray<Float64Array>; factor: number }) {
 *     for (let i = start; i < end; i++) x.data[i] *= factor;
 *   },
 * });
 * ```
 */
export function defineKernels<K extends Record<string, Kernel>>(kernels: K): KernelModule<K> {
  if (typeof kernels !== "object" || kernels === null) {
    throw new SabreTypeError(`defineKernels takes an object of kernel functions, got ${describe(kernels)}`);
  }
  for (const [name, fn] of Object.entries(kernels)) {
    if (typeof fn !== "function") throw new SabreTypeError(`kernel "${name}" must be a function, got ${describe(fn)}`);
    if (name.length === 0) throw new SabreTypeError("a kernel name must not be empty");
  }
  return Object.freeze({ [KERNELS]: true as const, kernels: Object.freeze({ ...kernels }) });
}

/** The kernels of a loaded module: its default export made by defineKernels (or a plain object of functions). */
export function kernelsOf(mod: unknown, where: string): Record<string, Kernel> {
  const exported = (mod as { default?: unknown } | null)?.default ?? mod;
  if (typeof exported === "object" && exported !== null && (exported as Record<symbol, unknown>)[KERNELS] === true) {
    return (exported as KernelModule).kernels;
  }
  if (typeof exported === "object" && exported !== null) {
    const entries = Object.entries(exported).filter(([, v]) => typeof v === "function");
    if (entries.length > 0) return Object.fromEntries(entries) as Record<string, Kernel>;
  }
  throw new SabreTypeError(`${where} has no kernels: its default export must be defineKernels({ ... })`);
}
