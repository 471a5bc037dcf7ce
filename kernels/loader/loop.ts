// The worker side of the slot ring (protocol: src/data/loader/README.md).
// One call of the loop kernel loads one epoch: map-style, workers claim
// batch numbers from NEXT and fill slot b % S once it is free for b;
// iterable, each worker fills its own slots from its shard.
import type { KernelContext } from "../../src/engine/define.js";
import * as R from "./ring.js";
import type { LoaderPlan, RingMemory } from "./plan.js";
import { SampleFailure, SampleWriter } from "./writer.js";

export interface LoopArgs {
  plan: LoaderPlan;
  ring: RingMemory;
}

/** The writer of the loader this worker serves (a loader owns its workers: one at a time). */
let open: { id: string; writer: Promise<SampleWriter> } | undefined;

export function writerFor(plan: LoaderPlan, workerId: number): Promise<SampleWriter> {
  if (open?.id !== plan.id) open = { id: plan.id, writer: SampleWriter.open(plan, workerId) };
  return open.writer;
}

/**
 * Waits until ctl[word] === want; false when the epoch was stopped instead.
 * Waits with Atomics.waitAsync, not a blocking wait: the worker is ahead of
 * the consumer then, so the extra wake-up latency costs nothing, and the
 * worker's event loop keeps running (an async getItem's I/O, and the
 * uncaught errors that `watch` turns into a failure).
 */
export async function waitFor(ctl: Int32Array, word: number, want: number, watch: Watch): Promise<boolean> {
  for (;;) {
    watch.check();
    const v = Atomics.load(ctl, word);
    if (v === want) return true;
    if (v === R.STATE_STOPPED || Atomics.load(ctl, R.STOP) !== 0) return false;
    // The main thread changes the word before it notifies, so a wait that
    // starts after the change returns at once; the slice only bounds how
    // late a STOP is seen if that order were ever broken.
    const r = Atomics.waitAsync(ctl, word, v, 200);
    if (r.async) await watch.race(r.value);
  }
}

/** An error thrown outside getItem (a timer, a stray rejection) while the loop runs. */
export class UncaughtInWorker extends Error {
  readonly code = "ERR_SABRE_WORKER_CRASHED";
}

/**
 * threads.js catches a worker's uncaught errors and only posts them, so the
 * worker would live on with a batch half done: while the loop runs, such an
 * error fails the loop instead (the main thread reports it as a crash and
 * terminates the worker).
 */
class Watch {
  private error: Error | undefined;
  private reject: ((e: Error) => void) | undefined;
  private readonly onError = (e: unknown): void => {
    const err = e instanceof Error ? e : new Error(String(e));
    this.error ??= new UncaughtInWorker(`uncaught ${err.name}: ${err.message}`);
    this.reject?.(this.error);
  };
  constructor() {
    process.on("uncaughtException", this.onError);
    process.on("unhandledRejection", this.onError);
  }
  dispose(): void {
    process.off("uncaughtException", this.onError);
    process.off("unhandledRejection", this.onError);
  }
  check(): void {
    if (this.error) throw this.error;
  }
  async race<T>(p: Promise<T>): Promise<T> {
    this.check();
    try {
      return await Promise.race([p, new Promise<never>((_, reject) => (this.reject = reject))]);
    } finally {
      this.reject = undefined;
    }
  }
  /** Lets pending timers and errors run now and then when the worker never has to wait. */
  async breathe(): Promise<void> {
    await this.race(new Promise<void>((r) => setImmediate(r)));
  }
}

function publish(ctl: Int32Array, word: number, value: number): void {
  Atomics.store(ctl, word, value);
  Atomics.notify(ctl, word);
  Atomics.add(ctl, R.FILLS, 1);
  Atomics.notify(ctl, R.FILLS);
}

function recordFailure(ctl: Int32Array, w: number, err: unknown): never {
  if (err instanceof SampleFailure) {
    Atomics.store(ctl, R.workerWord(w, R.W_ERR_INDEX), err.index);
    Atomics.store(ctl, R.workerWord(w, R.W_ERR_BATCH), err.batch);
    throw err.original;
  }
  if (err instanceof UncaughtInWorker) Atomics.store(ctl, R.workerWord(w, R.W_ERR_BATCH), Atomics.load(ctl, R.workerWord(w, R.W_CUR)));
  throw err;
}

export async function loaderLoop(ctx: KernelContext, { plan, ring }: LoopArgs): Promise<void> {
  const w = ctx.threadId;
  const ctl = ring.ctl;
  const watch = new Watch();
  try {
    const writer = await watch.race(writerFor(plan, w));
    if (plan.mode === "map") await mapLoop(writer, plan, ring, w, watch);
    else await iterableLoop(writer, plan, ring, w, watch);
  } catch (err) {
    recordFailure(ctl, w, err);
  } finally {
    watch.dispose();
    Atomics.store(ctl, R.workerWord(w, R.W_CUR), -1);
  }
}

/** Batches between forced event-loop turns when the worker never waits. */
const BREATHE_EVERY = 8;

async function mapLoop(writer: SampleWriter, plan: LoaderPlan, ring: RingMemory, w: number, watch: Watch): Promise<void> {
  const { ctl, starts, order, indices } = ring;
  const S = plan.slots;
  const W = plan.numWorkers;
  const B = plan.batchSize;
  const nb = Atomics.load(ctl, R.NBATCHES);
  const epoch = Atomics.load(ctl, R.EPOCH);
  for (let done = 1; ; done++) {
    if (Atomics.load(ctl, R.STOP) !== 0) return;
    const b = Atomics.add(ctl, R.NEXT, 1);
    if (b >= nb) return;
    const s = b % S;
    const word = R.slotWord(W, s, R.S_STATE);
    if (!(await waitFor(ctl, word, 2 * b, watch))) return;
    Atomics.store(ctl, R.workerWord(w, R.W_CUR), b);
    const start = starts[b]!;
    const end = starts[b + 1]!;
    indices.set(order.subarray(start, end), s * B);
    const pending = writer.fillMap(ring, s, start, end, epoch, b);
    if (pending) await watch.race(pending);
    if (done % BREATHE_EVERY === 0) await watch.breathe();
    watch.check();
    Atomics.store(ctl, R.slotWord(W, s, R.S_SIZE), end - start);
    Atomics.store(ctl, R.workerWord(w, R.W_CUR), -1);
    publish(ctl, word, 2 * b + 1);
  }
}

/** Worker w owns slots [w * pf, (w + 1) * pf); its k-th batch goes to slot w * pf + k % pf. */
async function iterableLoop(writer: SampleWriter, plan: LoaderPlan, ring: RingMemory, w: number, watch: Watch): Promise<void> {
  const { ctl, indices } = ring;
  const W = plan.numWorkers;
  const B = plan.batchSize;
  const pf = plan.slots / W;
  const epoch = Atomics.load(ctl, R.EPOCH);
  const it = writer.records(epoch);
  let k = 0;
  let row = 0;
  let ordinal = 0;
  const slotOf = (kk: number): number => w * pf + (kk % pf);
  const stateWord = (kk: number): number => R.slotWord(W, slotOf(kk), R.S_STATE);
  for (;;) {
    if (row === 0) {
      if (!(await waitFor(ctl, stateWord(k), 2 * k, watch))) return;
      Atomics.store(ctl, R.workerWord(w, R.W_CUR), k);
    }
    let next: IteratorResult<unknown>;
    try {
      const n = it.next();
      next = n instanceof Promise ? await watch.race(n) : (n as IteratorResult<unknown>);
    } catch (err) {
      if (err instanceof UncaughtInWorker) throw err;
      throw new SampleFailure(ordinal, k, err);
    }
    if (next.done) break;
    const s = slotOf(k);
    try {
      writer.writeRecord(ring, s * B + row, next.value, ordinal, epoch);
    } catch (err) {
      throw new SampleFailure(ordinal, k, err);
    }
    indices[s * B + row] = ordinal;
    row++;
    ordinal++;
    if (row === B) {
      Atomics.store(ctl, R.slotWord(W, s, R.S_SIZE), B);
      if ((k + 1) % BREATHE_EVERY === 0) await watch.breathe();
      publish(ctl, stateWord(k), 2 * k + 1);
      k++;
      row = 0;
      if (Atomics.load(ctl, R.STOP) !== 0) {
        await it.return?.();
        return;
      }
    }
  }
  if (row > 0 && !plan.dropLast) {
    Atomics.store(ctl, R.slotWord(W, slotOf(k), R.S_SIZE), row);
    publish(ctl, stateWord(k), 2 * k + 1);
    k++;
    row = 0;
  }
  if (row === 0 && !(await waitFor(ctl, stateWord(k), 2 * k, watch))) return;
  publish(ctl, stateWord(k), R.STATE_END);
}
