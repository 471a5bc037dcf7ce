import { SabreError, SabreTypeError } from "../../errors.js";
import { describe } from "../../validate.js";

/**
 * The constructors are exported (for instanceof and for user code that
 * rethrows), so a misuse gets a typed error that names the argument rather
 * than "Cannot read properties of null (reading 'index')".
 */
function checkParts(who: string, site: unknown, siteShape: string, original: unknown): void {
  if (typeof site !== "object" || site === null) throw new SabreTypeError(`new ${who}: site must be an object like ${siteShape}, got ${describe(site)}`);
  if (typeof original !== "object" || original === null || typeof (original as { message?: unknown }).message !== "string") {
    throw new SabreTypeError(`new ${who}: original must be an object like { message: string, stack?, code? }, got ${describe(original)}`);
  }
}

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
    checkParts("SampleError", site, "{ index, batch, workerId }", original);
    super("ERR_SABRE_SAMPLE", `sample ${site.index} (batch ${site.batch}, worker ${site.workerId}) failed: ${original.message}`);
    this.index = site.index;
    this.batch = site.batch;
    this.workerId = site.workerId;
    this.originalMessage = original.message;
    this.originalStack = original.stack;
    this.originalCode = original.code;
  }
}

/**
 * A dataset module's own `init()` (run once per worker, or on the calling
 * thread with numWorkers 0) or `length()` (run on the calling thread) threw:
 * not a sample's failure, so there is no index. `stage` says which;
 * `workerId` is the worker that ran `init` (0 with numWorkers 0) and
 * undefined for `length`. Code `ERR_SABRE_DATASET`.
 *
 * @example
 * ```ts
 * try {
 *   for await (const batch of loader) train(batch);
 * } catch (err) {
 *   if (err instanceof DatasetError) console.error(err.stage, err.module, err.originalStack);
 * }
 * ```
 */
export class DatasetError extends SabreError {
  /** Which of the module's functions threw. */
  readonly stage: "init" | "length";
  /** The dataset module's URL. */
  readonly module: string;
  /** The worker that ran init (0 with numWorkers 0); undefined for length, which runs on the calling thread. */
  readonly workerId: number | undefined;
  /** The original error's message. */
  readonly originalMessage: string;
  /** The original error's stack, as the thread that ran it printed it. */
  readonly originalStack: string | undefined;
  /** The original error's `code`, if it had one (length only: init's error crosses from a worker as message and stack). */
  readonly originalCode: string | undefined;
  constructor(
    site: { stage: "init" | "length"; module: string; workerId?: number | undefined },
    original: { message: string; stack?: string | undefined; code?: string | undefined },
  ) {
    checkParts("DatasetError", site, "{ stage, module, workerId? }", original);
    const where = site.workerId === undefined ? "" : ` in worker ${site.workerId}`;
    super("ERR_SABRE_DATASET", `dataset module ${site.module}: ${site.stage}()${where} threw: ${original.message}`);
    this.stage = site.stage;
    this.module = site.module;
    this.workerId = site.workerId;
    this.originalMessage = original.message;
    this.originalStack = original.stack;
    this.originalCode = original.code;
  }
}

