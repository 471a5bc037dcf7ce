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

/** Parks until ctl[word] === want. False when the epoch was stopped instead. */
export function waitFor(ctl: Int32Array, word: number, want: number): boolean {
  for (;;) {
    const v = Atomics.load(ctl, word);
    if (v === want) return true;
    if (v === R.STATE_STOPPED || Atomics.load(ctl, R.STOP) !== 0) return false;
    // The main thread changes the word before it notifies, so a wait that
    // starts after the change returns at once; the slice only bounds how
    // late a STOP is seen if that order were ever broken.
    Atomics.wait(ctl, word, v, 200);
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
  throw err;
}

export async function loaderLoop(ctx: KernelContext, { plan, ring }: LoopArgs): Promise<void> {
  const w = ctx.threadId;
  const ctl = ring.ctl;
  try {
    const writer = await writerFor(plan, w);
    if (plan.mode === "map") await mapLoop(writer, plan, ring, w);
    else await iterableLoop(writer, plan, ring, w);
  } catch (err) {
    recordFailure(ctl, w, err);
  } finally {
    Atomics.store(ctl, R.workerWord(w, R.W_CUR), -1);
  }
}

async function mapLoop(writer: SampleWriter, plan: LoaderPlan, ring: RingMemory, w: number): Promise<void> {
  const { ctl, starts, order, indices } = ring;
  const S = plan.slots;
  const W = plan.numWorkers;
  const B = plan.batchSize;
  const nb = Atomics.load(ctl, R.NBATCHES);
  const epoch = Atomics.load(ctl, R.EPOCH);
  for (;;) {
    if (Atomics.load(ctl, R.STOP) !== 0) return;
    const b = Atomics.add(ctl, R.NEXT, 1);
    if (b >= nb) return;
    const s = b % S;
    const word = R.slotWord(W, s, R.S_STATE);
    if (!waitFor(ctl, word, 2 * b)) return;
    Atomics.store(ctl, R.workerWord(w, R.W_CUR), b);
    const start = starts[b]!;
    const end = starts[b + 1]!;
    indices.set(order.subarray(start, end), s * B);
    const pending = writer.fillMap(ring, s, start, end, epoch, b);
    if (pending) await pending;
    Atomics.store(ctl, R.slotWord(W, s, R.S_SIZE), end - start);
    Atomics.store(ctl, R.workerWord(w, R.W_CUR), -1);
    publish(ctl, word, 2 * b + 1);
  }
}

/** Worker w owns slots [w * pf, (w + 1) * pf); its k-th batch goes to slot w * pf + k % pf. */
async function iterableLoop(writer: SampleWriter, plan: LoaderPlan, ring: RingMemory, w: number): Promise<void> {
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
      if (!waitFor(ctl, stateWord(k), 2 * k)) return;
      Atomics.store(ctl, R.workerWord(w, R.W_CUR), k);
    }
    let next: IteratorResult<unknown>;
    try {
      const n = it.next();
      next = n instanceof Promise ? await n : (n as IteratorResult<unknown>);
    } catch (err) {
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
  if (row === 0 && !waitFor(ctl, stateWord(k), 2 * k)) return;
  publish(ctl, stateWord(k), R.STATE_END);
}
