import { AbortError, BrokenBarrierError, SabreTypeError, TimeoutError } from "../errors.js";
import { registerShareable } from "../memory/serialize.js";
import { checkInteger, checkTimeout } from "../validate.js";
import { checkPayloadBuffer, checkWaitOptions, type WaitOptions } from "./coord-shared.js";
import { deadlineAfter, park, parkAsync, spinWhileEqual } from "./wait.js";

/*
 * A cyclic barrier over one SharedArrayBuffer. The protocol (state word,
 * transitions, why no party is lost or woken into the wrong generation) is
 * described in barrier.md beside this file; the names below follow it.
 */

// ---- layout (bytes) ------------------------------------------------------------------------
// [0, 64)    Int32 header: MAGIC, PARTIES (immutable after construction)
// [64, 72)   STATE: the packed state word (BigUint64), changed only by compareExchange
// [72, 200)  LOG: LOG_SIZE BigUint64 entries, "era R ended at generation T" (see decide)
// [256, 264) Int32 SEQ (bumped after every transition that ends a generation; waiters park on it)
//            and PARKED (how many waiters are parked or about to park on SEQ)
const MAGIC = 0;
const PARTIES = 1;
const STATE = 8; // BigUint64 index
const LOG = 9; // BigUint64 index of the first log entry
const LOG_SIZE = 16;
const SEQ = 64; // Int32 index: its own cache line, away from STATE which every arrival writes
const PARKED = 65;
const BYTES = 320;
const BARRIER_MAGIC = 0x42415231; // "BAR1"

// ---- the state word ------------------------------------------------------------------------
// bits 0..11  count   parties arrived in the open generation
// bit  12     broken  the open generation was broken by a timeout or abort
// bits 13..23 era     R: reset() calls that broke a generation, modulo 2^11
// bits 24..63 gen     T: completed generations, modulo 2^40 (what wait() reports)
const COUNT_MASK = 0xfffn;
const BROKEN = 0x1000n;
const ERA_SHIFT = 13n;
const ERA_BITS = 11n;
const ERA_MASK = (1n << ERA_BITS) - 1n;
const GEN_SHIFT = 24n;
const GEN_MASK = (1n << 40n) - 1n;
/** Parties are counted in 12 bits: count reaches at most parties - 1. */
const MAX_PARTIES = 4096;

/** How long a waiter re-reads SEQ before it parks (tuned in bench/sync; a 2-party round is ~1 us). */
const BARRIER_SPINS = 2000;

/** What wait() resolves to. */
export interface BarrierResult {
  /** True for exactly one party per generation: the last to arrive. */
  readonly leader: boolean;
  /** The generation this party took part in: 0, 1, 2, ... (completed generations before it, modulo 2^40). */
  readonly generation: number;
}

const enum Outcome {
  Waiting,
  Completed,
  Broken,
  /** The generation ended by a reset that has not yet written its log entry: look again after SEQ moves. */
  Pending,
}

let reviving: SharedArrayBuffer | undefined;
let bufferOf: (b: Barrier) => SharedArrayBuffer;

/**
 * A cyclic barrier in shared memory (java.util.concurrent's CyclicBarrier):
 * `parties` threads (any threads, main included) each call `wait()`; the
 * last to arrive releases them all and is the generation's leader. The
 * barrier is then ready for the next generation.
 *
 * A party that times out or is aborted BREAKS the barrier: it gets
 * TimeoutError / AbortError, every other party of that generation gets
 * BrokenBarrierError, and every later wait() fails with BrokenBarrierError
 * at once until `reset()`. `reset()` also breaks a generation in progress.
 *
 * @example
 * ```ts
 * const barrier = new Barrier(threads);
 * // in each worker, SPMD style:
 * for (let step = 0; step < steps; step++) {
 *   computeMyRows(step);
 *   const { leader } = barrier.wait();     // everyone finished `step`
 *   if (leader) swapBuffers();             // exactly one party per generation
 *   barrier.wait();
 * }
 * // on the main thread, without blocking the event loop:
 * await barrier.waitAsync({ timeout: 10_000 });
 * ```
 */
export class Barrier {
  readonly #i32: Int32Array;
  readonly #u64: BigUint64Array;
  readonly #parties: number;

  /** The most parties a Barrier can have (its arrival count is packed in 12 bits). */
  static readonly MAX_PARTIES = MAX_PARTIES;

  /** @param parties how many wait() calls release a generation: an integer in [1, Barrier.MAX_PARTIES = 4096]. */
  constructor(parties: number) {
    let buffer = reviving;
    reviving = undefined;
    if (!buffer) {
      checkInteger("Barrier parties", parties, 1, MAX_PARTIES);
      buffer = new SharedArrayBuffer(BYTES);
      const i32 = new Int32Array(buffer);
      const u64 = new BigUint64Array(buffer);
      i32[MAGIC] = BARRIER_MAGIC;
      i32[PARTIES] = parties;
      // Each log slot starts as an era LOG_SIZE before its first real one, so it
      // reads as "not yet written" for that era (see decide()).
      for (let i = 0; i < LOG_SIZE; i++) u64[LOG + i] = logEntry(0n, (BigInt(i) - BigInt(LOG_SIZE)) & ERA_MASK);
    }
    this.#i32 = new Int32Array(buffer);
    this.#u64 = new BigUint64Array(buffer);
    this.#parties = Atomics.load(this.#i32, PARTIES);
  }

  /** How many parties each generation needs. */
  get parties(): number {
    return this.#parties;
  }

  /** True from a timeout or abort until reset(). */
  get isBroken(): boolean {
    return (Atomics.load(this.#u64, STATE) & BROKEN) !== 0n;
  }

  /** How many parties have arrived in the open generation (0 when broken). */
  get waiting(): number {
    const s = Atomics.load(this.#u64, STATE);
    return s & BROKEN ? 0 : Number(s & COUNT_MASK);
  }

  /**
   * Arrives and blocks until all parties have arrived.
   * @param timeout milliseconds; on expiry this party gets TimeoutError and the barrier breaks.
   * @throws BrokenBarrierError if the barrier is or becomes broken (or reset) while waiting.
   */
  wait(timeout?: number): BarrierResult {
    const ms = checkTimeout(timeout);
    const key = this.#arrive();
    const generation = generationOf(key);
    if (key < 0n) return { leader: true, generation };
    const i32 = this.#i32;
    let deadline = deadlineAfter(ms);
    let spun = false;
    let parked = false;
    try {
      for (;;) {
        const seq = Atomics.load(i32, SEQ);
        const outcome = this.#decide(key);
        if (outcome === Outcome.Completed) return { leader: false, generation };
        if (outcome === Outcome.Broken) throw new BrokenBarrierError();
        if (!spun) {
          spun = true;
          spinWhileEqual(i32, SEQ, seq, BARRIER_SPINS);
          continue;
        }
        if (!parked) {
          // Register before the next look at the state (see barrier.md: skipping notify).
          parked = true;
          Atomics.add(i32, PARKED, 1);
          continue;
        }
        if (park(i32, SEQ, seq, deadline) === "timed-out") {
          const after = this.#breakOwn(key);
          if (after === Outcome.Waiting) throw new TimeoutError("Barrier.wait", ms);
          deadline = Infinity; // the generation ended meanwhile; its outcome decides
        }
      }
    } finally {
      if (parked) Atomics.sub(i32, PARKED, 1);
    }
  }

  /**
   * Arrives and waits without blocking the event loop. A timeout or abort
   * breaks the barrier (this party: TimeoutError / AbortError; the others:
   * BrokenBarrierError). If the generation completed before the abort was
   * seen, it resolves normally.
   */
  async waitAsync(options?: WaitOptions): Promise<BarrierResult> {
    const { timeout, signal } = checkWaitOptions(options);
    if (signal?.aborted) {
      if (this.isBroken) throw new BrokenBarrierError();
      this.#breakOpen();
      throw new AbortError("Barrier.waitAsync", signal.reason);
    }
    const key = this.#arrive();
    const generation = generationOf(key);
    if (key < 0n) return { leader: true, generation };
    const i32 = this.#i32;
    let deadline = deadlineAfter(timeout);
    let abortable = signal;
    Atomics.add(i32, PARKED, 1);
    try {
      for (;;) {
        const seq = Atomics.load(i32, SEQ);
        const outcome = this.#decide(key);
        if (outcome === Outcome.Completed) return { leader: false, generation };
        if (outcome === Outcome.Broken) throw new BrokenBarrierError();
        let r;
        try {
          r = await parkAsync(i32, SEQ, seq, deadline, abortable, "Barrier.waitAsync");
        } catch (err) {
          if (!(err instanceof AbortError)) throw err;
          if (this.#breakOwn(key) === Outcome.Waiting) throw err;
          deadline = Infinity;
          abortable = undefined;
          continue;
        }
        if (r === "timed-out") {
          if (this.#breakOwn(key) === Outcome.Waiting) throw new TimeoutError("Barrier.waitAsync", timeout);
          deadline = Infinity;
          abortable = undefined;
        }
      }
    } finally {
      Atomics.sub(i32, PARKED, 1);
    }
  }

  /**
   * Breaks the generation in progress (its waiting parties get
   * BrokenBarrierError) or clears a broken state, and opens a fresh
   * generation. Does nothing to an idle, unbroken barrier.
   */
  reset(): void {
    const u64 = this.#u64;
    let s = Atomics.load(u64, STATE);
    for (;;) {
      if ((s & (COUNT_MASK | BROKEN)) === 0n) return;
      const era = (s >> ERA_SHIFT) & ERA_MASK;
      const gen = s >> GEN_SHIFT;
      const next = (gen << GEN_SHIFT) | (((era + 1n) & ERA_MASK) << ERA_SHIFT);
      const seen = Atomics.compareExchange(u64, STATE, s, next);
      if (seen === s) {
        this.#log(era, gen);
        this.#publish();
        return;
      }
      s = seen;
    }
  }

  /**
   * Counts this party in. Returns the generation key (gen << 11 | era) of the
   * generation it joined, negated (minus one) if this party was the last and
   * released it. Throws BrokenBarrierError on a broken barrier.
   */
  #arrive(): bigint {
    const u64 = this.#u64;
    const last = BigInt(this.#parties - 1);
    let s = Atomics.load(u64, STATE);
    for (;;) {
      if (s & BROKEN) throw new BrokenBarrierError("the barrier is broken: a party timed out or was aborted; call reset() to use it again");
      const key = s >> ERA_SHIFT;
      const leads = (s & COUNT_MASK) === last;
      const next = leads ? (((((s >> GEN_SHIFT) + 1n) & GEN_MASK) << GEN_SHIFT) | (s & (ERA_MASK << ERA_SHIFT))) : s + 1n;
      const seen = Atomics.compareExchange(u64, STATE, s, next);
      if (seen === s) {
        if (!leads) return key;
        this.#publish();
        return -key - 1n;
      }
      s = seen;
    }
  }

  /**
   * Where the generation `key` stands now. The subtle case is a waiter that
   * wakes late, after its generation ended AND later transitions happened:
   * see barrier.md, "Telling completed from broken".
   */
  #decide(key: bigint, s: bigint = Atomics.load(this.#u64, STATE)): Outcome {
    const now = s >> ERA_SHIFT;
    if (now === key) return s & BROKEN ? Outcome.Broken : Outcome.Waiting;
    const gen0 = key >> ERA_BITS;
    if (now >> ERA_BITS === gen0) return Outcome.Broken; // a reset ended it; no generation completed since
    const era0 = key & ERA_MASK;
    if ((now & ERA_MASK) === era0) return Outcome.Completed; // generations moved on, no reset since
    // Both moved: did our generation complete before the first reset after it?
    const entry = Atomics.load(this.#u64, LOG + Number(era0 % BigInt(LOG_SIZE)));
    const entryEra = entry & ERA_MASK;
    if (entryEra === era0) return entry >> ERA_BITS === gen0 ? Outcome.Broken : Outcome.Completed;
    const age = (era0 - entryEra) & ERA_MASK;
    if (age !== 0n && age < 1n << (ERA_BITS - 1n)) return Outcome.Pending; // the reset is still writing it
    // Overwritten: LOG_SIZE more resets happened while this waiter slept.
    // With exactly `parties` threads no generation can complete without this
    // party after its own was broken, so "generations moved on" means completed.
    return Outcome.Completed;
  }

  /** Records "era `era` ended at generation `gen`", never overwriting a newer era's entry. */
  #log(era: bigint, gen: bigint): void {
    const u64 = this.#u64;
    const slot = LOG + Number(era % BigInt(LOG_SIZE));
    const entry = logEntry(gen, era);
    let e = Atomics.load(u64, slot);
    for (;;) {
      const age = (era - (e & ERA_MASK)) & ERA_MASK;
      if (age >= 1n << (ERA_BITS - 1n)) return; // a later era already wrote this slot
      const seen = Atomics.compareExchange(u64, slot, e, entry);
      if (seen === e) return;
      e = seen;
    }
  }

  /**
   * Breaks the generation `key` on a timeout or abort. Returns Waiting if this
   * call broke it (the caller reports its own timeout/abort), otherwise the
   * outcome that beat it (completed, broken by another party, or pending).
   */
  #breakOwn(key: bigint): Outcome {
    const u64 = this.#u64;
    for (;;) {
      const s = Atomics.load(u64, STATE);
      const outcome = this.#decide(key, s);
      if (outcome !== Outcome.Waiting) return outcome;
      if (Atomics.compareExchange(u64, STATE, s, s | BROKEN) === s) {
        this.#publish();
        return Outcome.Waiting;
      }
    }
  }

  /** Breaks whatever generation is open (for a party aborted before it arrived). */
  #breakOpen(): void {
    const u64 = this.#u64;
    let s = Atomics.load(u64, STATE);
    while (!(s & BROKEN)) {
      const seen = Atomics.compareExchange(u64, STATE, s, s | BROKEN);
      if (seen === s) {
        this.#publish();
        return;
      }
      s = seen;
    }
  }

  /** After a transition that ends a generation: move SEQ, wake parked waiters if any. */
  #publish(): void {
    const i32 = this.#i32;
    Atomics.add(i32, SEQ, 1);
    if (Atomics.load(i32, PARKED) > 0) Atomics.notify(i32, SEQ);
  }

  static {
    bufferOf = (b) => b.#i32.buffer as SharedArrayBuffer;
  }
}

function logEntry(gen: bigint, era: bigint): bigint {
  return (gen << ERA_BITS) | era;
}

function generationOf(key: bigint): number {
  return Number((key < 0n ? -key - 1n : key) >> ERA_BITS);
}

registerShareable<Barrier>({
  kind: "Barrier",
  test: (v): v is Barrier => v instanceof Barrier,
  encode: (b) => ({ buffer: bufferOf(b) }),
  decode: (p) => {
    const buffer = checkPayloadBuffer(p, BYTES, BARRIER_MAGIC, "Barrier");
    const parties = Atomics.load(new Int32Array(buffer), PARTIES);
    if (parties < 1 || parties > MAX_PARTIES) {
      throw new SabreTypeError(`field "buffer" holds an impossible Barrier party count ${parties}`);
    }
    const state = Atomics.load(new BigUint64Array(buffer), STATE);
    if (Number(state & COUNT_MASK) >= parties) {
      throw new SabreTypeError(`field "buffer" holds an impossible Barrier state: ${state & COUNT_MASK} of ${parties} parties arrived`);
    }
    reviving = buffer;
    return new Barrier(1);
  },
});
