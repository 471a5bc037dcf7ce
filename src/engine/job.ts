import { KernelError, RaceError, type SabreError } from "../errors.js";
import { deserialize } from "../memory/serialize.js";
import { combine, type Reduction } from "./clauses.js";
import type { JobReport } from "./control.js";

/** The main thread's record of one published, unsettled job. */
export class PendingJob {
  /** Per-chunk return values, filled from worker reports. */
  private results: unknown[] | undefined;
  private readonly partials = new Map<string, Array<[number, number | Float64Array]>>();
  received = 0;
  settled = false;
  lastProgress = -1;
  readonly started = performance.now();
  cleanup: (() => void) | undefined;

  constructor(
    readonly seq: number,
    readonly kernel: string,
    readonly kernelId: number,
    readonly nChunks: number,
    readonly argsSlot: number,
    readonly reductions: ReadonlyArray<[string, Reduction]>,
    readonly onProgress: ((done: number, total: number) => void) | undefined,
    private readonly resolveFn: (value: unknown[]) => void,
    private readonly rejectFn: (err: SabreError) => void,
  ) {}

  /** Takes a worker's report; returns the error it carries, if any. */
  absorb(report: JobReport): SabreError | undefined {
    this.received++;
    for (const [chunk, value] of report.results) {
      (this.results ??= new Array(this.nChunks))[chunk] = deserialize(value);
    }
    for (const [name, list] of Object.entries(report.partials)) {
      const all = this.partials.get(name);
      if (all) all.push(...list);
      else this.partials.set(name, list.slice());
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

  /** Combines reductions in chunk order and resolves with the per-chunk results. */
  resolve(): void {
    if (this.settled) return;
    this.settled = true;
    for (const [name, red] of this.reductions) {
      const list = (this.partials.get(name) ?? []).sort((a, b) => a[0] - b[0]);
      if (typeof red.initial === "number") {
        let acc = red.initial;
        for (const [, p] of list) acc = combine(red.op, acc, p as number);
        red.value = acc;
      } else {
        const acc = red.initial.slice();
        for (const [, p] of list) {
          const part = p as Float64Array;
          for (let i = 0; i < acc.length; i++) acc[i] = combine(red.op, acc[i]!, part[i]!);
        }
        red.value = acc;
      }
    }
    this.cleanup?.();
    this.resolveFn(this.results ?? new Array(this.nChunks).fill(undefined));
  }

  reject(err: SabreError): void {
    if (this.settled) return;
    this.settled = true;
    this.cleanup?.();
    this.rejectFn(err);
  }
}
