// Writes samples into batch slots, in whichever thread fills them (a worker,
// or the calling thread with numWorkers 0): runs the dataset's init once,
// getItem (or a row gather for a TensorDataset, or an iterable's records),
// checks what came back, then the field's transforms into the slot row.
import { SabreTypeError } from "../../src/errors.js";
import { CONSTRUCTORS, type TypedArray } from "../../src/memory/dtypes.js";
import { isNdArray } from "../../src/memory/ndarray-type.js";
import { rng } from "../../src/random/rng.js";
import { describe } from "../../src/validate.js";
import { datasetOf, transformOf } from "../../src/data/loader/modules.js";
import type { DatasetDefinition, FieldSpec, IterableDatasetDefinition, TransformDefinition, WorkerInfo } from "../../src/data/loader/define.js";
import type { TransformSpec } from "../../src/data/loader/transforms.js";
import { applyBuiltin } from "./augment.js";
import { rowSize, type LoaderPlan, type RingMemory } from "./plan.js";

/** A sample failed: carries its index to the loop, which records it for the main thread. */
export class SampleFailure extends Error {
  constructor(readonly index: number, readonly batch: number, readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

interface Step {
  spec: TransformSpec;
  input: FieldSpec;
  output: FieldSpec;
  /** Where this step writes unless it is the last (then: the slot row). */
  scratch: TypedArray | undefined;
  module: TransformDefinition<unknown> | undefined;
  position: number;
}

interface FieldPlan {
  name: string;
  input: FieldSpec;
  inRow: number;
  outRow: number;
  /** getItem's destination when the field has transforms. */
  scratch: TypedArray | undefined;
  steps: Step[];
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** Copies a value getItem returned (or assigned) for a field into its row, refusing the wrong dtype or size. */
export function copyValue(field: string, spec: FieldSpec, value: unknown, dst: TypedArray, index: number): void {
  const n = dst.length;
  const where = `sample ${index}: field "${field}" (${spec.dtype} [${spec.shape.join(", ")}])`;
  if (ArrayBuffer.isView(value)) {
    const ctor = CONSTRUCTORS[spec.dtype];
    if (!(value instanceof ctor)) throw new SabreTypeError(`${where} was given a ${value.constructor.name}; expected a ${ctor.name}`);
    if ((value as TypedArray).length !== n) throw new SabreTypeError(`${where} was given ${(value as TypedArray).length} elements; expected ${n}`);
    (dst as Float64Array).set(value as Float64Array);
    return;
  }
  if (isNdArray(value)) {
    if (value.dtype !== spec.dtype || value.shape.length !== spec.shape.length || value.shape.some((d, i) => d !== spec.shape[i])) {
      if (!(spec.shape.length === 0 && value.size === 1 && value.dtype === spec.dtype)) {
        throw new SabreTypeError(`${where} was given an ndarray ${value.dtype} [${value.shape.join(", ")}]`);
      }
    }
    const flat = new Array<number | bigint>(n);
    let i = 0;
    const walk = (dim: number, off: number): void => {
      if (dim === value.shape.length) {
        flat[i++] = value.data[off]!;
        return;
      }
      for (let k = 0; k < value.shape[dim]!; k++) walk(dim + 1, off + k * value.stride[dim]!);
    };
    walk(0, value.offset);
    (dst as Float64Array).set(flat as number[]);
    return;
  }
  if (typeof value === "number" || typeof value === "bigint") {
    if (n !== 1) throw new SabreTypeError(`${where} was given one number; expected ${n} elements`);
    if ((typeof value === "bigint") !== (spec.dtype === "bigint64" || spec.dtype === "biguint64")) {
      throw new SabreTypeError(`${where} was given a ${typeof value}`);
    }
    (dst as Float64Array)[0] = value as number;
    return;
  }
  if (Array.isArray(value)) {
    const flat = value.flat(Infinity) as unknown[];
    if (flat.length !== n) throw new SabreTypeError(`${where} was given an array of ${flat.length} elements; expected ${n}`);
    const big = spec.dtype === "bigint64" || spec.dtype === "biguint64";
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (big ? typeof v !== "bigint" : typeof v !== "number") throw new SabreTypeError(`${where} element ${i} is ${describe(v)}`);
      (dst as Float64Array)[i] = v as number;
    }
    return;
  }
  throw new SabreTypeError(`${where} was given ${describe(value)}; expected a typed array, a number array or a number`);
}

export class SampleWriter {
  private readonly fieldPlans: FieldPlan[];
  private readonly out: Record<string, TypedArray> = {};
  /**
   * The views getItem was handed for the current sample (to tell a view it
   * wrote into from a value it assigned). One record reused for every
   * sample, as `out` is: samples run one after another, an async getItem's
   * included, and the per-sample loop allocates as little as it can.
   */
  private readonly views: Record<string, TypedArray> = {};
  /** getItem's ctx, made once per epoch (its fields do not change within one). */
  private ctx: (WorkerInfo & { readonly params: unknown; readonly state: unknown }) | undefined;
  private constructor(
    private readonly plan: LoaderPlan,
    private readonly info: WorkerInfo,
    private readonly map: DatasetDefinition<unknown> | undefined,
    private readonly iterable: IterableDatasetDefinition<unknown> | undefined,
    private readonly state: unknown,
    modules: Map<string, TransformDefinition<unknown>>,
  ) {
    this.fieldPlans = Object.entries(plan.inFields).map(([name, input]) => {
      const specs = plan.transforms.map((t, position) => ({ t, position })).filter(({ t }) => t.field === name);
      const steps: Step[] = [];
      let cur = input;
      for (const { t, position } of specs) {
        const output = plan.stepOutputs[position] ?? cur;
        steps.push({ spec: t, input: cur, output, scratch: undefined, module: t.kind === "module" ? modules.get(t.module) : undefined, position });
        cur = output;
      }
      for (let i = 0; i < steps.length - 1; i++) steps[i]!.scratch = new CONSTRUCTORS[steps[i]!.output.dtype](rowSize(steps[i]!.output.shape));
      return {
        name,
        input,
        inRow: rowSize(input.shape),
        outRow: rowSize(plan.outFields[name]!.shape),
        scratch: steps.length > 0 ? new CONSTRUCTORS[input.dtype](rowSize(input.shape)) : undefined,
        steps,
      };
    });
  }

  /** Loads the dataset (and transform) modules and runs init, once per thread. */
  static async open(plan: LoaderPlan, workerId: number): Promise<SampleWriter> {
    const info: WorkerInfo = { workerId, numWorkers: plan.numWorkers, seed: plan.seed, epoch: 0 };
    const modules = new Map<string, TransformDefinition<unknown>>();
    for (const t of plan.transforms) {
      if (t.kind === "module" && !modules.has(t.module)) modules.set(t.module, transformOf(await import(t.module), t.module));
    }
    if (plan.source.kind === "tensor") return new SampleWriter(plan, info, undefined, undefined, undefined, modules);
    const { url, params } = plan.source;
    const loaded = datasetOf(await import(url), url);
    let state: unknown;
    try {
      state = loaded.def.init ? await loaded.def.init(params, info) : undefined;
    } catch (err) {
      throw initFailure(err);
    }
    return loaded.kind === "map"
      ? new SampleWriter(plan, info, loaded.def, undefined, state, modules)
      : new SampleWriter(plan, info, undefined, loaded.def, state, modules);
  }

  /** Runs the transforms of one field from `src` into the slot row `dst`. */
  private transform(fp: FieldPlan, src: TypedArray, dst: TypedArray, epoch: number, index: number, stream: number[]): void {
    let input = src;
    for (let i = 0; i < fp.steps.length; i++) {
      const step = fp.steps[i]!;
      const output = step.scratch ?? dst;
      const r = rng(this.plan.seed, epoch, index, step.position, ...stream);
      if (step.spec.kind === "module") {
        step.module!.apply(input, output, { input: step.input, output: step.output, params: step.spec.params, rng: r, index });
      } else applyBuiltin(step.spec, step.input, input, output, r);
      input = output;
    }
  }

  /** Fills rows [0, end - start) of slot `slot` with the samples order[start..end) (resuming at `from` after an async getItem). */
  fillMap(ring: RingMemory, slot: number, start: number, end: number, epoch: number, batch: number, from = start): void | Promise<void> {
    const B = this.plan.batchSize;
    for (let k = from; k < end; k++) {
      const index = ring.order[k]!;
      try {
        const pending = this.writeIndex(ring, slot * B + (k - start), index, epoch);
        if (pending) {
          return pending.then(
            () => this.fillMap(ring, slot, start, end, epoch, batch, k + 1),
            (err: unknown) => {
              throw err instanceof SampleFailure ? err : new SampleFailure(index, batch, err);
            },
          );
        }
      } catch (err) {
        throw err instanceof SampleFailure ? err : new SampleFailure(index, batch, err);
      }
    }
  }

  private writeIndex(ring: RingMemory, row: number, index: number, epoch: number): void | Promise<void> {
    const src = this.plan.source;
    if (src.kind === "tensor") {
      for (const fp of this.fieldPlans) {
        const a = src.arrays[fp.name]!;
        const from = a.data.subarray(a.offset + index * fp.inRow, a.offset + (index + 1) * fp.inRow) as Float64Array;
        if (fp.steps.length === 0) (ring.fields[fp.name] as Float64Array).set(from, row * fp.outRow);
        else this.transform(fp, from, ring.fields[fp.name]!.subarray(row * fp.outRow, (row + 1) * fp.outRow), epoch, index, []);
      }
      return;
    }
    const out = this.out;
    const views = this.views;
    for (const fp of this.fieldPlans) {
      const view = fp.scratch ?? ring.fields[fp.name]!.subarray(row * fp.outRow, (row + 1) * fp.outRow);
      out[fp.name] = view;
      views[fp.name] = view;
    }
    if (this.ctx?.epoch !== epoch) this.ctx = { ...this.info, epoch, params: src.params, state: this.state };
    const result = this.map!.getItem(index, out, this.ctx);
    if (isThenable(result)) return Promise.resolve(result).then((value) => this.finishSample(ring, row, index, epoch, views, value, []));
    this.finishSample(ring, row, index, epoch, views, result, []);
  }

  /** Copies what getItem returned or assigned, then runs the transforms. */
  private finishSample(ring: RingMemory, row: number, index: number, epoch: number, views: Record<string, TypedArray>, value: unknown, stream: number[]): void {
    const out = this.out;
    if (value !== undefined && value !== null) {
      if (typeof value !== "object" || Array.isArray(value) || ArrayBuffer.isView(value)) {
        throw new SabreTypeError(`sample ${index}: getItem returned ${describe(value)}; it should write into out (or return a record of fields)`);
      }
      for (const [name, v] of Object.entries(value)) {
        if (!(name in views)) throw new SabreTypeError(`sample ${index}: getItem returned field "${name}", which is not among the fields (${Object.keys(views).join(", ")})`);
        out[name] = v as TypedArray;
      }
    }
    for (const fp of this.fieldPlans) {
      const view = views[fp.name]!;
      if (out[fp.name] !== view) copyValue(fp.name, fp.input, out[fp.name], view, index);
      if (fp.steps.length > 0) this.transform(fp, view, ring.fields[fp.name]!.subarray(row * fp.outRow, (row + 1) * fp.outRow), epoch, index, stream);
    }
  }

  /** An iterable dataset's samples for one epoch (this thread's shard). */
  records(epoch: number): Iterator<unknown> | AsyncIterator<unknown> {
    const ctx = { ...this.info, epoch, state: this.state };
    const it = this.iterable!.iterate((this.plan.source as { params: unknown }).params, ctx) as unknown;
    const i = it as { [Symbol.iterator]?: () => Iterator<unknown>; [Symbol.asyncIterator]?: () => AsyncIterator<unknown> };
    if (typeof i?.[Symbol.asyncIterator] === "function") return i[Symbol.asyncIterator]!();
    if (typeof i?.[Symbol.iterator] === "function") return i[Symbol.iterator]!();
    throw new SabreTypeError(`iterate must return an iterable or async iterable of records, got ${describe(it)}`);
  }

  /** Writes one record of an iterable dataset into a slot row. */
  writeRecord(ring: RingMemory, row: number, record: unknown, ordinal: number, epoch: number): void {
    if (typeof record !== "object" || record === null || Array.isArray(record) || ArrayBuffer.isView(record)) {
      throw new SabreTypeError(`sample ${ordinal}: iterate yielded ${describe(record)}; expected a record of fields`);
    }
    const views: Record<string, TypedArray> = {};
    for (const fp of this.fieldPlans) {
      views[fp.name] = fp.scratch ?? ring.fields[fp.name]!.subarray(row * fp.outRow, (row + 1) * fp.outRow);
      const v = (record as Record<string, unknown>)[fp.name];
      if (v === undefined) throw new SabreTypeError(`sample ${ordinal}: iterate yielded a record without field "${fp.name}"`);
      this.out[fp.name] = views[fp.name]!;
    }
    this.finishSample(ring, row, ordinal, epoch, views, record, [this.info.workerId + 1]);
  }
}

/**
 * What open() throws when a dataset module's init() throws: the original
 * message and stack under DatasetError's code, so that the KernelError a
 * worker's failure becomes (it carries code, message and stack) can be
 * turned back into a DatasetError on the calling thread, and the calling
 * thread's own open() (numWorkers 0) is recognised the same way.
 */
export function initFailure(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const marked = new Error(e.message);
  marked.stack = e.stack;
  (marked as { code?: string }).code = DATASET_INIT_CODE;
  return marked;
}

/** DatasetError's code (src/data/loader/errors.ts), on the marked init failure. */
export const DATASET_INIT_CODE = "ERR_SABRE_DATASET";
