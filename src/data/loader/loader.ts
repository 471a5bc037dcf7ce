import { AbortError, ClosedError, KernelError, SabreTypeError, TimeoutError, WorkerCrashedError } from "../../errors.js";
import { Engine, internalEngine } from "../../engine/engine.js";
import { serialize } from "../../memory/serialize.js";
import { sharedTypedArray } from "../../memory/shared.js";
import { checkInteger, checkKnownKeys, checkSignal, describe } from "../../validate.js";
import { rng } from "../../random/rng.js";
import * as R from "../../../kernels/loader/ring.js";
import type { LoaderPlan, RingMemory } from "../../../kernels/loader/plan.js";
import { DATASET_INIT_CODE, SampleFailure, SampleWriter } from "../../../kernels/loader/writer.js";
import { Batch, SlotViews, allocSlots } from "./batch.js";
import type { FieldSpecs } from "./define.js";
import { DatasetError, SampleError } from "./errors.js";
import { checkTransformList, resolveDataset, resolveTransforms, type DatasetInput } from "./plan-build.js";
import { BatchSampler, RandomSampler, SequentialSampler, type BatchSamplerLike, type Sampler } from "./samplers.js";
import type { TransformSpec } from "./transforms.js";

/** Options of `new DataLoader(dataset, options)`. */
export interface DataLoaderOptions {
  /** Samples per batch (default 1). Not with batchSampler. */
  batchSize?: number;
  /** A new random order every epoch, from (seed, epoch). Not with sampler / batchSampler. */
  shuffle?: boolean;
  /** Any iterable of dataset indices (e.g. RandomSampler, SequentialSampler); setEpoch(n) is called before each epoch. */
  sampler?: Sampler;
  /** Any iterable of index arrays, one per batch (e.g. BatchSampler). Excludes batchSize, shuffle, sampler, dropLast. */
  batchSampler?: BatchSamplerLike;
  /** Worker threads filling batches; 0 (default) fills them on the calling thread. */
  numWorkers?: number;
  /** Batches in flight per worker (default 2): the ring has numWorkers x prefetchFactor slots. */
  prefetchFactor?: number;
  /** Drop the last, smaller batch (default false). */
  dropLast?: boolean;
  /** Seeds the shuffle and the transforms' streams (default: a random seed chosen at construction). */
  seed?: number;
  /** Keep the workers (and the datasets' init state) between epochs (default false: started each epoch, stopped after). */
  persistentWorkers?: boolean;
  /** Milliseconds to wait for one batch from the workers; 0 (default) waits forever. On expiry: TimeoutError, workers stopped. */
  timeout?: number;
  /** Yield batches in order (default true). false yields whichever filled batch is ready first (map-style datasets). */
  inOrder?: boolean;
  /** Aborting stops the iteration (AbortError) and the workers. */
  signal?: AbortSignal;
  /** Transforms run in the workers after getItem, in order: randomCrop, randomFlip, normalize, transformModule. */
  transform?: TransformSpec | readonly TransformSpec[];
  /**
   * Cap on each worker's young generation (V8's nursery), in MB: worker_threads
   * `resourceLimits.maxYoungGenerationSizeMb`. Default 2. A loader worker keeps
   * little of what it allocates per sample, and Node's default nursery (up to
   * 48 MB here) grew by about 5 MB per worker on the 1 GB memory benchmark
   * (1 MB batches, 4 workers: peak 1,142-1,150 MB uncapped, 1,121-1,127 MB at 2).
   * A getItem that keeps many small objects alive for a while may run faster
   * with a larger one. 0 leaves Node's default. No effect with numWorkers 0.
   */
  workerYoungGenerationMB?: number;
}

let loaderIds = 0;

/**
 * How long the main thread blocks in Atomics.wait on a slot before it parks
 * on Atomics.waitAsync, in ms. A waitAsync wake-up travels through the event
 * loop's async handle (50-150 us on these VMs), which a fast consumer would
 * pay on every batch; a short blocking wait first catches a batch that is
 * about to land, woken by the worker's notify. It replaced polling between
 * event-loop turns (setImmediate), which allocated a promise per turn (the
 * main thread's young generation grew during an epoch) and burned the core
 * the workers needed. When the batch does not land in time, the wait parks
 * and the next POLL_SKIP waits park at once, so the event loop is held up at
 * most POLL_MS per POLL_SKIP + 1 batches that the consumer outpaces (with
 * polling, CPU-heavy getItems on every core lost 15-20% of a core to it).
 */
const POLL_MS = 0.3;
const POLL_SKIP = 16;

interface Prepared {
  plan: LoaderPlan;
  length: number | undefined;
}

/**
 * Whether the plan (a dataset module's params, above all) holds a sabre
 * primitive (a Mutex, a Queue, ...) rather than only shared arrays: the
 * workers must then register the primitives' wire forms before the loop's
 * args reach them. The ring itself holds only typed arrays, and the plan is
 * fixed for the loader's life. A plan that cannot be serialized is left to
 * the engine, which reports it.
 */
function holdsPrimitives(plan: LoaderPlan): boolean {
  let found = false;
  try {
    serialize(plan, { onShareable: (_value, kind) => (found ||= kind !== "ndarray") });
  } catch {
    return true;
  }
  return found;
}

/** What the current epoch's consumer is parked on, so a failure can wake it. */
type Wake = (err: Error) => void;

/**
 * The length of a batch a batch sampler yielded, refusing what is not an
 * array of indices: a number or an object without a length was counted as
 * an empty batch (and made the slot size NaN).
 */
function batchLength(b: unknown): number {
  const n = typeof b === "object" && b !== null ? (b as { length?: unknown }).length : undefined;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new SabreTypeError(`the batch sampler yielded ${describe(b)}; each batch must be an array (or typed array) of indices`);
  }
  return n;
}

/** The keys of DataLoaderOptions, for the unknown-option check. */
const LOADER_OPTIONS = [
  "batchSize", "shuffle", "sampler", "batchSampler", "numWorkers", "prefetchFactor", "dropLast", "seed",
  "persistentWorkers", "timeout", "inOrder", "signal", "transform", "workerYoungGenerationMB",
] as const;

/**
 * Batches prepared by workers straight into shared memory
 * (src/data/loader/README.md has the protocol), like PyTorch's DataLoader.
 * The sample order depends only on the seed and the epoch, never on
 * numWorkers. A batch is valid until the next iteration step (or
 * `batch.release()`); `batch.clone()` keeps it.
 *
 * Iteration rejects with {@link SampleError} (`ERR_SABRE_SAMPLE`) when a
 * dataset hook or transform throws on a sample (the failing index in the
 * message), {@link DatasetError} (`ERR_SABRE_DATASET`) when a dataset
 * module's own `init()` or `length()` throws, {@link WorkerCrashedError} (`ERR_SABRE_WORKER_CRASHED`) when a worker
 * dies, {@link TimeoutError} (`ERR_SABRE_TIMEOUT`) past `timeout`,
 * {@link AbortError} (`ERR_SABRE_ABORTED`) when `signal` aborts and
 * {@link ClosedError} (`ERR_SABRE_CLOSED`) after close(). Bad options
 * throw {@link SabreTypeError} (`ERR_SABRE_TYPE`). Breaking out of the loop
 * stops the workers.
 *
 * @example
 * ```ts
 * const loader = new DataLoader(new TensorDataset({ image: X, label: y }), { batchSize: 64, shuffle: true, numWorkers: 2, seed: 1 });
 * for await (const batch of loader) train(batch.fields.image, batch.fields.label);
 * await loader.close();
 * ```
 */
export class DataLoader<F extends string = string> implements AsyncIterable<Batch<F>> {
  /** Samples per batch, as given (default 1; a batchSampler makes its own batches). */
  readonly batchSize: number;
  /** Worker threads filling batches (0: the calling thread). */
  readonly numWorkers: number;
  /** Batches in flight per worker. */
  readonly prefetchFactor: number;
  /** Whether the last, smaller batch is dropped. */
  readonly dropLast: boolean;
  /** The seed of the shuffle and the transforms' streams (given, or drawn at construction). */
  readonly seed: number;
  /** Whether workers stay up between epochs. */
  readonly persistentWorkers: boolean;
  /** Milliseconds to wait for one batch (0: forever). */
  readonly timeout: number;
  /** Whether batches are yielded in order. */
  readonly inOrder: boolean;
  /** Each worker's young-generation cap in MB (0: Node's default). */
  readonly workerYoungGenerationMB: number;
  private readonly dataset: DatasetInput;
  private readonly sampler: Sampler | undefined;
  private readonly batchSampler: BatchSamplerLike | undefined;
  private readonly shuffle: boolean;
  private readonly signal: AbortSignal | undefined;
  private readonly transforms: TransformSpec[];
  private readonly id = `${process.pid}.${++loaderIds}.${Date.now()}`;
  private prepared: Promise<Prepared> | undefined;
  private resolved: Prepared | undefined;
  private nextEpoch = 0;
  private running: number | undefined;
  private closed = false;
  private engine: Promise<Engine> | undefined;
  private inline: Promise<SampleWriter> | undefined;
  private ring: RingMemory | undefined;
  private wake: Wake | undefined;
  /** Waits left that park without the short blocking wait first (see POLL_SKIP). */
  private pollSkips = 0;
  private failure: Error | undefined;

  constructor(dataset: DatasetInput, options: DataLoaderOptions = {}) {
    if (typeof options !== "object" || options === null) throw new SabreTypeError(`DataLoader options must be an object, got ${describe(options)}`);
    // A misspelt option ({ batchsize: 32 }) used to be ignored: the loader silently ran with the default.
    checkKnownKeys("DataLoader options", options, LOADER_OPTIONS);
    if (typeof dataset !== "object" || dataset === null) {
      throw new SabreTypeError(`DataLoader needs a TensorDataset or { module, params }, got ${describe(dataset)}`);
    }
    const o = options;
    if (o.batchSampler !== undefined) {
      if (o.batchSize !== undefined || o.shuffle || o.sampler !== undefined || o.dropLast) {
        throw new SabreTypeError("batchSampler excludes batchSize, shuffle, sampler and dropLast (they are the batch sampler's)");
      }
      if (typeof (o.batchSampler as Partial<BatchSamplerLike>)[Symbol.iterator] !== "function") {
        throw new SabreTypeError(`batchSampler must be an iterable of index arrays, got ${describe(o.batchSampler)}`);
      }
    }
    if (o.sampler !== undefined) {
      if (o.shuffle) throw new SabreTypeError("sampler excludes shuffle (shuffle by using a RandomSampler)");
      if (typeof (o.sampler as Partial<Sampler>)[Symbol.iterator] !== "function") throw new SabreTypeError(`sampler must be an iterable of indices, got ${describe(o.sampler)}`);
    }
    this.batchSize = o.batchSize === undefined ? 1 : checkInteger("batchSize", o.batchSize, 1, 2 ** 24);
    if (o.shuffle !== undefined && typeof o.shuffle !== "boolean") throw new SabreTypeError(`shuffle must be a boolean, got ${describe(o.shuffle)}`);
    this.shuffle = o.shuffle ?? false;
    this.numWorkers = checkInteger("numWorkers", o.numWorkers ?? 0, 0, 1024);
    this.prefetchFactor = checkInteger("prefetchFactor", o.prefetchFactor ?? 2, 1, 1024);
    this.dropLast = o.dropLast ?? false;
    if (typeof this.dropLast !== "boolean") throw new SabreTypeError(`dropLast must be a boolean, got ${describe(o.dropLast)}`);
    this.seed = o.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : checkInteger("seed", o.seed);
    this.persistentWorkers = o.persistentWorkers ?? false;
    if (typeof this.persistentWorkers !== "boolean") throw new SabreTypeError(`persistentWorkers must be a boolean, got ${describe(o.persistentWorkers)}`);
    if (this.persistentWorkers && this.numWorkers === 0) throw new SabreTypeError("persistentWorkers needs numWorkers > 0");
    const t = o.timeout ?? 0;
    if (typeof t !== "number" || !(t >= 0)) throw new SabreTypeError(`timeout must be a number of milliseconds >= 0 (0: none), got ${describe(t)}`);
    this.timeout = t;
    this.inOrder = o.inOrder ?? true;
    if (typeof this.inOrder !== "boolean") throw new SabreTypeError(`inOrder must be a boolean, got ${describe(o.inOrder)}`);
    this.workerYoungGenerationMB = o.workerYoungGenerationMB === undefined ? 2 : checkInteger("workerYoungGenerationMB", o.workerYoungGenerationMB, 0, 1024);
    this.signal = checkSignal(o.signal);
    this.sampler = o.sampler;
    this.batchSampler = o.batchSampler;
    this.transforms = checkTransformList(o.transform);
    this.dataset = dataset;
    if (this.batchSampler === undefined && !(dataset instanceof Object && "arrays" in dataset) && !("module" in dataset)) {
      throw new SabreTypeError(`DataLoader needs a TensorDataset or { module, params }, got ${describe(dataset)}`);
    }
  }

  /** Loads the dataset module (on this thread, to learn its fields and length) and checks the transforms. Iteration awaits it too. */
  async ready(): Promise<this> {
    await this.prepare();
    return this;
  }

  private prepare(): Promise<Prepared> {
    this.prepared ??= (async () => {
      const ds = await resolveDataset(this.dataset);
      if (ds.mode === "iterable" && (this.sampler || this.batchSampler || this.shuffle)) {
        throw new SabreTypeError("an iterable dataset takes no sampler, batchSampler or shuffle: it orders (and shards) its own samples");
      }
      const { stepOutputs, outFields } = await resolveTransforms(this.transforms, ds.fields);
      const W = Math.max(1, this.numWorkers);
      const batchSize = this.batchSampler ? this.batchSamplerMax() : this.batchSize;
      const plan: LoaderPlan = Object.freeze({
        id: this.id,
        mode: ds.mode,
        source: ds.source,
        inFields: ds.fields,
        outFields,
        transforms: this.transforms,
        stepOutputs,
        batchSize,
        slots: this.numWorkers === 0 ? 1 : W * this.prefetchFactor,
        numWorkers: W,
        seed: this.seed,
        dropLast: this.dropLast,
      });
      this.resolved = { plan, length: ds.length };
      return this.resolved;
    })();
    this.prepared.catch(() => {
      this.prepared = undefined; // a failed preparation is retried by the next iteration
    });
    return this.prepared;
  }

  /** A batch sampler's slots are sized by its largest batch: found by one pass over epoch 0 (batch samplers are usually fixed-size). */
  private batchSamplerMax(): number {
    this.batchSampler!.setEpoch?.(0);
    let max = 1;
    for (const b of this.batchSampler!) max = Math.max(max, batchLength(b));
    return max;
  }

  /** The fields of a batch as they land in it (after the transforms); undefined before ready(). */
  get fields(): FieldSpecs | undefined {
    return this.resolved?.plan.outFields;
  }

  /**
   * Batches per epoch. NaN for an iterable dataset (its length is unknown),
   * for a sampler without a length, and for a dataset module before ready()
   * (or the first iteration) has loaded it.
   */
  get length(): number {
    if (this.batchSampler) return this.batchSampler.length ?? NaN;
    let n: number | undefined;
    if (this.sampler) n = this.sampler.length;
    else if (!("module" in this.dataset)) n = (this.dataset as { length: number }).length;
    else n = this.resolved?.length;
    if (n === undefined) return NaN;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the running iteration loads, or (between iterations) the one the next will load. */
  get epoch(): number {
    return this.running ?? this.nextEpoch;
  }

  /** The next iteration loads epoch `n` (then n + 1, ...), as DistributedSampler's set_epoch. */
  setEpoch(n: number): void {
    this.nextEpoch = checkInteger("epoch", n, 0, 2 ** 31 - 1);
  }

  /** One epoch's batches: `for await (const batch of loader)`. Each iteration loads the next epoch. */
  [Symbol.asyncIterator](): AsyncGenerator<Batch<F>, void, undefined> {
    return this.iterate();
  }

  /** Stops any running iteration and the workers (a stuck one is terminated). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new ClosedError("the DataLoader (closed while iterating)"));
    await this.stopWorkers();
  }

  /** close(), for `await using loader = new DataLoader(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- one epoch -----------------------------------------------------------------------------------

  private async *iterate(): AsyncGenerator<Batch<F>, void, undefined> {
    if (this.closed) throw new ClosedError("the DataLoader");
    if (this.running !== undefined) throw new SabreTypeError("this DataLoader is already being iterated; finish (or break out of) that loop first");
    const epoch = this.nextEpoch;
    // Every new iteration is the next epoch, however the previous one ended (break, error): replay one with setEpoch.
    this.nextEpoch = epoch + 1;
    this.running = epoch;
    this.failure = undefined;
    const onAbort = (): void => this.fail(new AbortError("the DataLoader iteration", this.signal!.reason));
    try {
      this.signal?.throwIfAborted();
      if (this.signal?.aborted) throw new AbortError("the DataLoader iteration", this.signal.reason);
      this.signal?.addEventListener("abort", onAbort, { once: true });
      const { plan } = await this.prepare();
      this.throwIfFailed();
      if (this.numWorkers === 0) yield* this.runInline(plan, epoch);
      else yield* this.runWorkers(plan, epoch);
    } catch (err) {
      if (err instanceof Error && err.name === "AbortError" && !(err instanceof AbortError)) throw new AbortError("the DataLoader iteration", this.signal?.reason);
      throw err;
    } finally {
      this.signal?.removeEventListener("abort", onAbort);
      this.running = undefined;
      this.wake = undefined;
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const wake = this.wake;
    this.wake = undefined;
    wake?.(this.failure);
    const ring = this.ring;
    if (ring) stopRing(ring, this.resolved!.plan);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * Writes this epoch's batches into the ring's `order` and `starts` (grown
   * when too small) and returns the ring and the batch count; checks every
   * index a sampler yields.
   */
  private orderEpoch(plan: LoaderPlan, epoch: number, length: number): { ring: RingMemory; count: number } {
    if (!this.batchSampler && !this.sampler) return this.defaultOrder(plan, epoch, length);
    const indices: number[] = [];
    const starts: number[] = [0];
    const check = (i: number): void => {
      if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= length) {
        throw new SabreTypeError(`the sampler yielded index ${describe(i)}; the dataset has ${length} samples`);
      }
    };
    const batchSize = plan.batchSize;
    let batches: Iterable<ArrayLike<number>>;
    if (this.batchSampler) {
      this.batchSampler.setEpoch?.(epoch);
      batches = this.batchSampler;
    } else {
      const sampler: Sampler = this.sampler ?? (this.shuffle ? new RandomSampler(length, { seed: this.seed }) : new SequentialSampler(length));
      sampler.setEpoch?.(epoch);
      batches = new BatchSampler(sampler, this.batchSize, this.dropLast);
    }
    for (const b of batches) {
      if (batchLength(b) === 0) throw new SabreTypeError("the batch sampler yielded an empty batch");
      if (b.length > batchSize) throw new SabreTypeError(`the batch sampler yielded a batch of ${b.length}; the slots hold ${batchSize} (its largest batch in epoch 0)`);
      for (let k = 0; k < b.length; k++) {
        check(b[k]!);
        indices.push(b[k]!);
      }
      starts.push(indices.length);
    }
    const ring = this.ringFor(plan, indices.length, starts.length);
    ring.order.set(indices);
    ring.starts.set(starts);
    return { ring, count: starts.length - 1 };
  }

  /**
   * The default samplers' batches (the same order as RandomSampler /
   * SequentialSampler through BatchSampler), computed in place in the
   * ring's shared `order`: a shuffle is Fisher-Yates over the identity in
   * that array (the same draws as rng.permutation), so an epoch allocates no
   * array of n indices, neither a JavaScript array (which would survive
   * young-generation collections and grow the main thread's heap) nor a
   * typed copy.
   */
  private defaultOrder(plan: LoaderPlan, epoch: number, length: number): { ring: RingMemory; count: number } {
    const B = this.batchSize;
    const count = this.dropLast ? Math.floor(length / B) : Math.ceil(length / B);
    const used = Math.min(length, count * B);
    // A shuffle permutes all n indices and keeps the first `used` (RandomSampler's order, then dropLast).
    const ring = this.ringFor(plan, this.shuffle ? length : used, count + 1);
    const order = ring.order.subarray(0, this.shuffle ? length : used);
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.shuffle) rng(this.seed, epoch).shuffle(order);
    for (let b = 0; b <= count; b++) ring.starts[b] = Math.min(b * B, used);
    return { ring, count };
  }

  // ---- numWorkers 0: the calling thread fills one slot -----------------------------------------------

  private async *runInline(plan: LoaderPlan, epoch: number): AsyncGenerator<Batch<F>> {
    const writer = await (this.inline ??= openInline(plan));
    const ring = this.ringFor(plan, 0);
    const views = new SlotViews(plan.outFields, ring.fields, ring.indices, plan.batchSize, 1);
    if (plan.mode === "iterable") {
      const it = writer.records(epoch);
      let k = 0;
      let ordinal = 0;
      for (;;) {
        let row = 0;
        let done = false;
        while (row < plan.batchSize) {
          this.throwIfFailed();
          let next: IteratorResult<unknown>;
          try {
            const n = it.next();
            next = n instanceof Promise ? await n : (n as IteratorResult<unknown>);
            if (next.done) {
              done = true;
              break;
            }
            writer.writeRecord(ring, row, next.value, ordinal, epoch);
          } catch (err) {
            throw sampleError(err, ordinal, k, 0);
          }
          ring.indices[row++] = ordinal++;
        }
        if (row > 0 && (row === plan.batchSize || !plan.dropLast)) {
          const v = views.get(0, row);
          const batch = new Batch<F>(k++, epoch, row, v.fields as Record<F, never>, v.indices, undefined);
          yield batch;
          batch.release();
        }
        if (done) return;
      }
    }
    const { ring: local, count } = this.orderEpoch(plan, epoch, this.resolved!.length!);
    const { order, starts } = local;
    for (let b = 0; b < count; b++) {
      this.throwIfFailed();
      const start = starts[b]!;
      const end = starts[b + 1]!;
      try {
        const p = writer.fillMap(local, 0, start, end, epoch, b);
        if (p) await p;
      } catch (err) {
        throw sampleError(err, -1, b, 0);
      }
      ring.indices.set(order.subarray(start, end), 0);
      const v = views.get(0, end - start);
      const batch = new Batch<F>(b, epoch, end - start, v.fields as Record<F, never>, v.indices, undefined);
      yield batch;
      batch.release();
    }
  }

  // ---- workers --------------------------------------------------------------------------------------

  /** The loader's ring, reallocated when its order (or starts) holds fewer than `capacity` (`startsCapacity`) entries. */
  private ringFor(plan: LoaderPlan, capacity: number, startsCapacity = 2): RingMemory {
    if (this.ring && this.ring.order.length >= capacity && this.ring.starts.length >= startsCapacity) return this.ring;
    const ctl = sharedTypedArray("int32", R.controlLength(plan.numWorkers, plan.slots));
    const old = this.ring;
    this.ring = {
      ctl,
      order: old && old.order.length >= capacity ? old.order : sharedTypedArray("int32", Math.max(capacity, 1)),
      starts: old && old.starts.length >= startsCapacity ? old.starts : sharedTypedArray("int32", Math.max(startsCapacity, 2)),
      indices: this.ring?.indices ?? sharedTypedArray("int32", plan.slots * plan.batchSize),
      fields: this.ring?.fields ?? allocSlots(plan.outFields, plan.slots, plan.batchSize),
    };
    return this.ring;
  }

  private startEngine(plan: LoaderPlan): Promise<Engine> {
    if (!this.engine) {
      // The private engine's workers load only the loader's kernels (not forest, ops, preprocess, csv).
      // An epoch is one long call: the engine does not poll for its end (the loader waits for batches itself).
      const p = Engine.start(
        internalEngine(
          { threads: this.numWorkers },
          { builtins: "loader", youngGenerationMB: this.workerYoungGenerationMB || undefined, longCalls: true, primitives: holdsPrimitives(plan) },
        ),
      );
      this.engine = p;
      p.catch(() => {
        if (this.engine === p) this.engine = undefined;
      });
    }
    return this.engine;
  }

  private async stopWorkers(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    if (!engine) return;
    try {
      await (await engine).close();
    } catch {
      // An engine that failed to start has nothing to stop.
    }
  }

  private async *runWorkers(plan: LoaderPlan, epoch: number): AsyncGenerator<Batch<F>> {
    let ring: RingMemory;
    let nb = 0;
    if (plan.mode === "map") {
      const m = this.orderEpoch(plan, epoch, this.resolved!.length!);
      ring = m.ring;
      nb = m.count;
    } else ring = this.ringFor(plan, 0);
    resetRing(ring, plan, epoch, nb);
    const engine = await this.startEngine(plan);
    this.throwIfFailed();
    let settled = false;
    // Once this epoch's consumer is done, a late rejection (the engine closed under a stopped loop) must not touch the next epoch.
    let live = true;
    let rejected = false;
    const job = engine.broadcast("sabre.loader.loop", { plan, ring }).then(
      () => {
        settled = true;
      },
      (err: unknown) => {
        settled = true;
        rejected = true;
        if (live) this.fail(this.translate(err as Error, ring, plan));
      },
    );
    let finished = false;
    try {
      if (plan.mode === "map") yield* this.consumeMap(engine, plan, ring, epoch, nb);
      else yield* this.consumeIterable(engine, plan, ring, epoch);
      finished = true;
      // The workers are returning: their exit from the call must keep the process alive until the engine sees it.
      holdWorkers(engine, true);
      await job;
      holdWorkers(engine, false);
      this.throwIfFailed();
    } finally {
      live = false;
      const failed = this.failure !== undefined;
      if (!finished || failed) stopRing(ring, plan);
      if (failed || !this.persistentWorkers) {
        // Terminates a worker stuck in getItem too; the next epoch starts fresh ones.
        await this.stopWorkers();
        this.inline = undefined;
      } else if (!settled) {
        // break / return(): the workers see STOP after their current batch; one that does not return in time is terminated.
        const grace = this.timeout > 0 ? this.timeout : 5000;
        let timer: NodeJS.Timeout | undefined;
        holdWorkers(engine, true);
        const late = await Promise.race([job.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace)))]);
        clearTimeout(timer);
        holdWorkers(engine, false);
        if (late || rejected) await this.stopWorkers();
      }
    }
  }

  /** Parks until ctl[word] satisfies `ready`, a failure, or the deadline (then TimeoutError from `onTimeout`). */
  private async waitWord(engine: Engine, ctl: Int32Array, word: number, ready: (v: number) => boolean, deadline: number, onTimeout: () => Error): Promise<number> {
    const polling = this.pollSkips === 0;
    if (!polling) this.pollSkips--;
    const pollUntil = polling ? performance.now() + POLL_MS : 0;
    for (;;) {
      this.throwIfFailed();
      const v = Atomics.load(ctl, word);
      if (ready(v)) return v;
      const polled = pollUntil - performance.now();
      if (polled > 0) {
        // A bounded blocking wait, not a poll between event-loop turns: it wakes on the worker's notify, burns no core and allocates nothing.
        Atomics.wait(ctl, word, v, polled);
        continue;
      }
      if (polling) this.pollSkips = POLL_SKIP; // the poll missed: park at once for the next waits
      const left = deadline - performance.now();
      if (left <= 0) {
        const err = onTimeout();
        this.fail(err);
        throw err;
      }
      const res = Atomics.waitAsync(ctl, word, v, Number.isFinite(left) ? left : undefined);
      if (!res.async) continue;
      // A pending waitAsync keeps nothing alive, so the workers are ref'd only while parked.
      holdWorkers(engine, true);
      try {
        await new Promise<void>((resolve, reject) => {
          this.wake = reject;
          res.value.then(() => resolve());
        });
      } finally {
        this.wake = undefined;
        holdWorkers(engine, false);
      }
    }
  }

  private deadline(): number {
    return this.timeout > 0 ? performance.now() + this.timeout : Infinity;
  }

  private async *consumeMap(engine: Engine, plan: LoaderPlan, ring: RingMemory, epoch: number, nb: number): AsyncGenerator<Batch<F>> {
    const S = plan.slots;
    const W = plan.numWorkers;
    const { ctl } = ring;
    // Slot s holds batches s, s + S, ...: expected[s] is the next one it will hold.
    const expected = Int32Array.from({ length: S }, (_, s) => s);
    const views = new SlotViews(plan.outFields, ring.fields, ring.indices, plan.batchSize, S);
    // One release hook per slot for the whole epoch (a batch's hook only needs its slot).
    const release = Array.from({ length: S }, (_, s) => {
      const word = R.slotWord(W, s, R.S_STATE);
      return (): void => {
        expected[s] = expected[s]! + S;
        if (this.failure === undefined) {
          Atomics.store(ctl, word, 2 * expected[s]!);
          Atomics.notify(ctl, word);
        }
      };
    });
    const timeoutError = (b: number) => (): Error => new TimeoutError(`DataLoader batch ${b} of epoch ${epoch} (samples ${describeIndices(ring.order.subarray(ring.starts[b]!, ring.starts[b + 1]!))})`, this.timeout);
    for (let yielded = 0; yielded < nb; yielded++) {
      let s: number;
      if (this.inOrder) {
        s = yielded % S;
        await this.waitWord(engine, ctl, R.slotWord(W, s, R.S_STATE), (v) => v === 2 * expected[s]! + 1, this.deadline(), timeoutError(expected[s]!));
      } else {
        const deadline = this.deadline();
        let low = nb;
        for (;;) {
          const fills = Atomics.load(ctl, R.FILLS);
          s = -1;
          low = nb;
          for (let k = 0; k < S; k++) {
            const b = expected[k]!;
            if (b >= nb) continue;
            if (b < low) low = b;
            if (Atomics.load(ctl, R.slotWord(W, k, R.S_STATE)) === 2 * b + 1) {
              s = k;
              break;
            }
          }
          if (s >= 0) break;
          await this.waitWord(engine, ctl, R.FILLS, (v) => v !== fills, deadline, timeoutError(low));
        }
      }
      const b = expected[s]!;
      const size = Atomics.load(ctl, R.slotWord(W, s, R.S_SIZE));
      const v = views.get(s, size);
      const batch = new Batch<F>(b, epoch, size, v.fields as Record<F, never>, v.indices, release[s]);
      // The engine refs the workers when the epoch's call starts; a batch taken without parking must not leave them ref'd.
      holdWorkers(engine, false);
      try {
        yield batch;
      } finally {
        batch.release();
      }
    }
  }

  private async *consumeIterable(engine: Engine, plan: LoaderPlan, ring: RingMemory, epoch: number): AsyncGenerator<Batch<F>> {
    const W = plan.numWorkers;
    const pf = plan.slots / W;
    const { ctl } = ring;
    const k = new Array<number>(W).fill(0);
    let active = Array.from({ length: W }, (_, w) => w);
    let turn = 0;
    let yielded = 0;
    const views = new SlotViews(plan.outFields, ring.fields, ring.indices, plan.batchSize, plan.slots);
    while (active.length > 0) {
      const w = active[turn % active.length]!;
      const s = w * pf + (k[w]! % pf);
      const word = R.slotWord(W, s, R.S_STATE);
      const v = await this.waitWord(engine, ctl, word, (x) => x === 2 * k[w]! + 1 || x === R.STATE_END, this.deadline(), () => new TimeoutError(`DataLoader batch ${k[w]} of worker ${w} (epoch ${epoch})`, this.timeout));
      if (v === R.STATE_END) {
        active = active.filter((x) => x !== w);
        continue;
      }
      const size = Atomics.load(ctl, R.slotWord(W, s, R.S_SIZE));
      const view = views.get(s, size);
      const batch = new Batch<F>(yielded++, epoch, size, view.fields as Record<F, never>, view.indices, () => {
        k[w] = k[w]! + 1;
        if (this.failure === undefined) {
          Atomics.store(ctl, word, 2 * (k[w]! + pf - 1));
          Atomics.notify(ctl, word);
        }
      });
      turn++;
      holdWorkers(engine, false);
      try {
        yield batch;
      } finally {
        batch.release();
      }
    }
  }

  /** A worker's failure as the user should see it: the sample, the batch, or the crash with what it was filling. */
  private translate(err: Error, ring: RingMemory, plan: LoaderPlan): Error {
    if (err instanceof KernelError) {
      const w = err.workerId;
      const index = Atomics.load(ring.ctl, R.workerWord(w, R.W_ERR_INDEX));
      const batch = Atomics.load(ring.ctl, R.workerWord(w, R.W_ERR_BATCH));
      if (err.originalCode === "ERR_SABRE_WORKER_CRASHED") {
        return new WorkerCrashedError(w, `${err.originalMessage}${batch >= 0 ? `; it was loading ${describeBatch(batch, ring, plan)}` : ""}`);
      }
      if (err.originalCode === "ERR_SABRE_TYPE") return new SabreTypeError(`DataLoader worker ${w}: ${err.originalMessage}`, { cause: err });
      if (err.originalCode === DATASET_INIT_CODE) return initError(plan, w, err.originalMessage, err.kernelStack) ?? err;
      if (index >= 0) return new SampleError({ index, batch, workerId: w }, { message: err.originalMessage, stack: err.kernelStack, code: err.originalCode });
      return err;
    }
    if (err instanceof WorkerCrashedError) {
      const w = err.workerId;
      const b = Atomics.load(ring.ctl, R.workerWord(w, R.W_CUR));
      if (b < 0) return err;
      const detail = err.message.replace(/^worker \d+ crashed: /, "");
      return new WorkerCrashedError(w, `${detail}; it was loading ${describeBatch(b, ring, plan)}`, err.exitCode);
    }
    return err;
  }
}

/**
 * The engine refs its workers while a call is pending, and an epoch's loop
 * is one call: an iterator abandoned mid-epoch (never finished, broken out
 * of or closed) would keep the process alive forever. So the workers are
 * ref'd only while the main thread is parked waiting for a batch (then they
 * must keep it alive; its short blocking wait before that holds the thread), and
 * unref'd otherwise, while the user holds a batch too. The loader owns this
 * engine and runs nothing else on it, so the engine's own toggles (at the
 * call's start and end) do not interleave with these.
 */
function holdWorkers(engine: Engine, on: boolean): void {
  engine.keepProcessAlive(on);
}

function describeBatch(b: number, ring: RingMemory, plan: LoaderPlan): string {
  return plan.mode === "map" ? `batch ${b} (samples ${describeIndices(ring.order.subarray(ring.starts[b]!, ring.starts[b + 1]!))})` : `batch ${b} of its shard`;
}

function describeIndices(a: Int32Array): string {
  const head = Array.from(a.subarray(0, 8)).join(", ");
  return a.length > 8 ? `${head}, ... ${a.length} in all` : head;
}

/** The calling thread's writer (numWorkers 0): a throwing init() becomes the DatasetError a worker's would. */
async function openInline(plan: LoaderPlan): Promise<SampleWriter> {
  try {
    return await SampleWriter.open(plan, 0);
  } catch (err) {
    if (err instanceof Error && (err as { code?: string }).code === DATASET_INIT_CODE) throw initError(plan, 0, err.message, err.stack) ?? err;
    throw err;
  }
}

/** A dataset module's failed init() (marked by kernels/loader/writer.ts, initFailure) as the DatasetError the user sees. */
function initError(plan: LoaderPlan, workerId: number, message: string, stack: string | undefined): DatasetError | undefined {
  return plan.source.kind === "module" ? new DatasetError({ stage: "init", module: plan.source.url, workerId }, { message, stack }) : undefined;
}

function sampleError(err: unknown, index: number, batch: number, workerId: number): Error {
  if (err instanceof SampleFailure) {
    const o = err.original;
    if (o instanceof SabreTypeError) return o;
    const e = o instanceof Error ? o : new Error(String(o));
    return new SampleError({ index: err.index, batch: err.batch, workerId }, { message: e.message, stack: e.stack, code: (e as { code?: string }).code });
  }
  if (err instanceof SabreTypeError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new SampleError({ index, batch, workerId }, { message: e.message, stack: e.stack, code: (e as { code?: string }).code });
}

/** Every slot free for its first batch of the epoch. */
function resetRing(ring: RingMemory, plan: LoaderPlan, epoch: number, nb: number): void {
  const { ctl } = ring;
  const W = plan.numWorkers;
  Atomics.store(ctl, R.STOP, 0);
  Atomics.store(ctl, R.NEXT, 0);
  Atomics.store(ctl, R.NBATCHES, nb);
  Atomics.store(ctl, R.EPOCH, epoch);
  Atomics.store(ctl, R.FILLS, 0);
  for (let w = 0; w < W; w++) {
    Atomics.store(ctl, R.workerWord(w, R.W_CUR), -1);
    Atomics.store(ctl, R.workerWord(w, R.W_ERR_INDEX), -1);
    Atomics.store(ctl, R.workerWord(w, R.W_ERR_BATCH), -1);
  }
  const pf = plan.slots / W;
  for (let s = 0; s < plan.slots; s++) {
    Atomics.store(ctl, R.slotWord(W, s, R.S_SIZE), 0);
    Atomics.store(ctl, R.slotWord(W, s, R.S_STATE), plan.mode === "map" ? 2 * s : 2 * (s % pf));
  }
}

/** STOP, and every slot word changed and notified, so no worker (nor the main thread) stays parked. */
function stopRing(ring: RingMemory, plan: LoaderPlan): void {
  const { ctl } = ring;
  Atomics.store(ctl, R.STOP, 1);
  for (let s = 0; s < plan.slots; s++) {
    const word = R.slotWord(plan.numWorkers, s, R.S_STATE);
    Atomics.store(ctl, word, R.STATE_STOPPED);
    Atomics.notify(ctl, word);
  }
  Atomics.add(ctl, R.FILLS, 1);
  Atomics.notify(ctl, R.FILLS);
}
