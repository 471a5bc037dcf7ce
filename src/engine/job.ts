import { KernelError, RaceError, SabreTypeError, type SabreError } from "../errors.js";
import { deserialize } from "../memory/serialize.js";
import { combine, type Reduction } from "./clauses.js";
import type { JobReport } from "./control.js";
import * as R from "./results.js";
import type { ResultsBlock } from "./results-heap.js";

/** The main thread's record of one published, unsettled job. */
export class PendingJob {
  /** Return values that came in reports (tag TAG_REPORT), by chunk. */
  private reported: unknown[] | undefined;
  received = 0;
  settled = false;
  /** A party's BrokenBarrierError, held while the reports started before it may still carry the failure that broke the barrier. */
  brokenBarrier: SabreError | undefined;
  lastProgress = -1;
  readonly started = performance.now();
  /** Called once when the job settles; `completed` is true when every chunk finished (no worker can write its block any more). */
  cleanup: ((completed: boolean) => void) | undefined;

  constructor(
    readonly seq: number,
    readonly kernel: string,
    readonly kernelId: number,
    readonly nChunks: number,
    readonly argsSlot: number,
    /** The call's reductions in name order: the order of their partials in the block. */
    readonly reductions: ReadonlyArray<[string, Reduction]>,
    readonly block: ResultsBlock,
    readonly onProgress: ((done: number, total: number) => void) | undefined,
    private readonly resolveFn: (value: unknown[]) => void,
    private readonly rejectFn: (err: SabreError) => void,
  ) {}

  /** Takes a worker's report; returns the error it carries, if any. */
  absorb(report: JobReport): SabreError | undefined {
    this.received++;
    for (const [chunk, value] of report.results) {
      (this.reported ??= new Array(this.nChunks))[chunk] = deserialize(value);
    }
    const e = report.error;
    if (!e) return undefined;
    if (e.code === "ERR_SABRE_RACE") {
      return new RaceError(`${e.message} (worker ${report.workerId}, chunk [${e.start}, ${e.end}))`);
    }
    return new KernelError(
      { kernel: this.kernel, workerId: report.workerId, chunk: { start: e.start, end: e.end } },
      { message: e.message, ...(e.stack ? { stack: e.stack } : {}), ...(e.code ? { code: e.code } : {}) },
    );
  }

  /**
   * Reads the results block and resolves with the per-chunk results; combines
   * each reduction's partials in chunk order. Only once DONE == nChunks was
   * read with an atomic load: every chunk's plain writes came before its
   * DONE increment, so all of them are visible here.
   */
  resolve(): void {
    if (this.settled) return;
    const { nChunks, block } = this;
    const { f64, i32 } = block.arena;
    const tags = 2 * block.offset;
    const values = R.valuesAt(block.offset, nChunks);
    const results = new Array<unknown>(nChunks);
    for (let i = 0; i < nChunks; i++) {
      switch (i32[tags + i]) {
        case R.TAG_UNDEFINED:
          results[i] = undefined;
          break;
        case R.TAG_NUMBER:
          results[i] = f64[values + i];
          break;
        case R.TAG_TRUE:
          results[i] = true;
          break;
        case R.TAG_FALSE:
          results[i] = false;
          break;
        case R.TAG_NULL:
          results[i] = null;
          break;
        case R.TAG_REPORT:
          results[i] = this.reported?.[i];
          break;
        default:
          this.reject(new SabreTypeError(`sabre: chunk ${i} of kernel "${this.kernel}" has an unknown result tag (dispatch protocol broken)`));
          return;
      }
    }
    let widthBefore = 0;
    for (const [, red] of this.reductions) {
      const w = red.width;
      const at = R.partialsAt(block.offset, nChunks, widthBefore);
      widthBefore += w;
      if (typeof red.initial === "number") {
        let acc = red.initial;
        for (let i = 0; i < nChunks; i++) acc = combine(red.op, acc, f64[at + i]!);
        red.value = acc;
      } else {
        const acc = red.initial.slice();
        for (let i = 0; i < nChunks; i++) {
          const p = at + i * w;
          for (let k = 0; k < w; k++) acc[k] = combine(red.op, acc[k]!, f64[p + k]!);
        }
        red.value = acc;
      }
    }
    this.settled = true;
    this.cleanup?.(true);
    this.resolveFn(results);
  }

  reject(err: SabreError): void {
    if (this.settled) return;
    this.settled = true;
    this.cleanup?.(false);
    this.rejectFn(err);
  }
}
