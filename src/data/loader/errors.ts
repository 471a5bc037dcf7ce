import { SabreError } from "../../errors.js";

/**
 * A dataset's getItem (or a transform, or an iterable dataset's iterate)
 * threw on a sample. `index` is the sample's dataset index (for an iterable
 * dataset: its ordinal in the worker's shard); `originalStack` is the stack
 * as the worker printed it. Code `ERR_SABRE_SAMPLE`.
 */
export class SampleError extends SabreError {
  /** The sample's dataset index (iterable dataset: its ordinal in the worker's shard). */
  readonly index: number;
  /** The batch (in this epoch's order; for an iterable dataset, in its shard) the sample belonged to. */
  readonly batch: number;
  /** The worker it ran in (0 with numWorkers 0). */
  readonly workerId: number;
  /** The original error's message. */
  readonly originalMessage: string;
  /** The original error's stack, as the worker printed it. */
  readonly originalStack: string | undefined;
  /** The original error's `code`, if it had one. */
  readonly originalCode: string | undefined;
  constructor(site: { index: number; batch: number; workerId: number }, original: { message: string; stack?: string | undefined; code?: string | undefined }) {
    super("ERR_SABRE_SAMPLE", `sample ${site.index} (batch ${site.batch}, worker ${site.workerId}) failed: ${original.message}`);
    this.index = site.index;
    this.batch = site.batch;
    this.workerId = site.workerId;
    this.originalMessage = original.message;
    this.originalStack = original.stack;
    this.originalCode = original.code;
  }
}
