// Samplers with PyTorch's names and meaning. The loader tells each one the
// epoch (setEpoch, as DistributedSampler's set_epoch) before it iterates, so
// a shuffled order depends only on (seed, epoch).
import { SabreTypeError } from "../../errors.js";
import { rng } from "../../random/rng.js";
import { checkInteger, describe } from "../../validate.js";

/** What the loader accepts as a sampler: any iterable of indices; `length` and `setEpoch` are used when present. */
export interface Sampler extends Iterable<number> {
  /** Indices per epoch, when known. */
  readonly length?: number;
  /** Called by the loader before each epoch. */
  setEpoch?(epoch: number): void;
}

/** Any iterable of index arrays, one per batch. */
export interface BatchSamplerLike extends Iterable<ArrayLike<number>> {
  /** Batches per epoch, when known. */
  readonly length?: number;
  /** Called by the loader before each epoch. */
  setEpoch?(epoch: number): void;
}

/** 0, 1, ..., length - 1. */
export class SequentialSampler implements Sampler {
  /** How many indices it yields. */
  readonly length: number;
  constructor(length: number) {
    this.length = checkInteger("SequentialSampler length", length);
  }
  /** 0, 1, ..., length - 1. */
  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.length; i++) yield i;
  }
}

/** Options of {@link RandomSampler}. */
export interface RandomSamplerOptions {
  /** Draw with replacement (then numSamples may exceed length). Default false. */
  replacement?: boolean;
  /** How many indices per epoch; default length. */
  numSamples?: number;
  /** Default 0. */
  seed?: number;
}

/** A random permutation of 0..length-1 per epoch (or numSamples draws with replacement), from rng(seed, epoch). */
export class RandomSampler implements Sampler {
  /** Indices per epoch (numSamples, default the dataset length). */
  readonly length: number;
  /** Whether indices are drawn with replacement. */
  readonly replacement: boolean;
  /** The seed of every epoch's order. */
  readonly seed: number;
  private epoch = 0;
  private readonly n: number;
  constructor(length: number, options: RandomSamplerOptions = {}) {
    this.n = checkInteger("RandomSampler length", length);
    this.replacement = options.replacement ?? false;
    if (typeof this.replacement !== "boolean") throw new SabreTypeError(`replacement must be a boolean, got ${describe(this.replacement)}`);
    this.length = options.numSamples === undefined ? this.n : checkInteger("numSamples", options.numSamples, 1);
    if (!this.replacement && this.length > this.n) throw new SabreTypeError(`numSamples ${this.length} exceeds length ${this.n} without replacement`);
    if (this.replacement && this.n === 0) throw new SabreTypeError("RandomSampler with replacement needs length >= 1");
    this.seed = checkInteger("seed", options.seed ?? 0);
  }
  /** Picks the epoch whose order the next iteration yields. */
  setEpoch(epoch: number): void {
    this.epoch = checkInteger("epoch", epoch);
  }
  /** This epoch's indices, from rng(seed, epoch). */
  *[Symbol.iterator](): Iterator<number> {
    const r = rng(this.seed, this.epoch);
    if (this.replacement) {
      for (let i = 0; i < this.length; i++) yield r.below(this.n);
      return;
    }
    const perm = r.permutation(this.n);
    for (let i = 0; i < this.length; i++) yield perm[i]!;
  }
}

/** Groups a sampler's indices into batches of batchSize (the last one smaller unless dropLast). */
export class BatchSampler implements BatchSamplerLike {
  /** Indices per batch. */
  readonly batchSize: number;
  /** Whether the last, smaller batch is dropped. */
  readonly dropLast: boolean;
  constructor(
    /** The sampler whose indices are grouped. */
    readonly sampler: Sampler,
    batchSize: number,
    dropLast = false,
  ) {
    if (sampler === null || typeof (sampler as Partial<Sampler>)?.[Symbol.iterator] !== "function") {
      throw new SabreTypeError(`BatchSampler needs an iterable sampler, got ${describe(sampler)}`);
    }
    this.batchSize = checkInteger("batchSize", batchSize, 1);
    // A truthy non-boolean ("x") used to be stored as is and drop the last batch.
    if (typeof dropLast !== "boolean") throw new SabreTypeError(`BatchSampler: dropLast must be a boolean, got ${describe(dropLast)}`);
    this.dropLast = dropLast;
  }
  /** Batches per epoch (NaN when the sampler has no length). */
  get length(): number {
    const n = this.sampler.length;
    if (n === undefined) return NaN;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }
  /** Passes the epoch on to the wrapped sampler. */
  setEpoch(epoch: number): void {
    this.sampler.setEpoch?.(epoch);
  }
  /** The batches of index arrays. */
  *[Symbol.iterator](): Iterator<number[]> {
    let batch: number[] = [];
    for (const i of this.sampler) {
      batch.push(i);
      if (batch.length === this.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}
