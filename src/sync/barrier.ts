import { AbortError, BrokenBarrierError, SabreTypeError, TimeoutError } from "../errors.js";
import { registerShareable } from "../memory/serialize.js";
import { checkInteger, checkTimeout } from "../validate.js";
import { checkPayloadBuffer, checkWaitOptions, type WaitOptions } from "./coord-shared.js";
import { allCanRun } from "./spin-policy.js";
import { deadlineAfter, park, parkAsync, spinWhileEqualFor } from "./wait.js";

/*
 * A cyclic barrier over one SharedArrayBuffer. The protocol (state word,
 * transitions, why no party is lost or woken into the wrong generation) is
 * described in barrier.md beside this file; the names below follow it.
 */

// ---- layout (bytes) ------------------------------------------------------------------------
// [0, 64)    Int32 header: MAGIC, PARTIES (immutable after construction), FAIL_RATE (how often
//            recent spins failed: read by every waiter, written by those that spun)
// [64, 72)   STATE: the packed state word (BigUint64), changed only by compareExchange
// [72, 200)  LOG: LOG_SIZE BigUint64 entries, "era R ended at generation T" (see decide)
// [256, 264) Int32 SEQ (bumped after every transition that ends a generation; waiters park on it)
//            and PARKED (how many waiters are parked or about to park on SEQ)
const MAGIC = 0;
const PARTIES = 1;
const FAIL_RATE = 2;
const STATE = 8; // BigUint64 index
const LOG = 9; // BigUint64 index of the first log entry
const LOG_SIZE = 16;
const SEQ = 64; // Int32 index: its own cache line, away from STATE which every arrival writes
const PARKED = 65;
const BYTES = 320;
const BARRIER_MAGIC = 0x42415231; // "BAR1"

// ---- the state word ------------------------------------------------------------------------
// One 64-bit word, changed only by compareExchange. As two 32-bit halves:
// lo bits 0..11   count   parties arrived in the open generation
// lo bit  12      broken  the open generation was broken by a timeout or abort
// lo bits 13..23  era     R: reset() calls that ended a generation, modulo 2^11
// lo bits 24..31  gen, low 8 bits  } T: completed generations, modulo 2^40
// hi bits 0..31   gen, high 32 bits} (what wait() reports)
// A generation is named by its key = T * 2^11 + R (a safe integer). The word
// is read and built through a scratch buffer so the hot path does number
// arithmetic, not BigInt arithmetic (which allocates).
const COUNT_MASK = 0xfff;
const BROKEN = 0x1000;
const BROKEN_BIT = 0x1000n;
const GEN_ONE = 1n << 24n;
const ERA_SHIFT = 13;
const ERAS = 2048; // 2^11
/** Parties are counted in 12 bits: count reaches at most parties - 1. */
const MAX_PARTIES = 4096;

const word = new BigUint64Array(1);
const halves = new Uint32Array(word.buffer);
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

/** Unpacks a state word into [lo, hi] halves (read them right after: the scratch is shared). */
function lo32(s: bigint): number {
  word[0] = s;
  return halves[LO]!;
}
function hi32(): number {
  return halves[HI]!;
}
function genOf(lo: number, hi: number): number {
  return hi * 256 + (lo >>> 24);
}
function keyOf(lo: number, hi: number): number {
  return genOf(lo, hi) * ERAS + ((lo >>> ERA_SHIFT) & (ERAS - 1));
}
/** Packs a state word (a log entry is a word with count 0 and not broken). */
function pack(gen: number, era: number, broken: boolean, count: number): bigint {
  halves[LO] = (gen % 256) * 2 ** 24 + era * 2 ** ERA_SHIFT + (broken ? BROKEN : 0) + count;
  halves[HI] = Math.floor(gen / 256);
  return word[0]!;
}

/**
 * The longest a waiter re-reads SEQ before it parks, in microseconds. It must
 * outlast the typical wait for the slowest party, including the wake-up of a
 * party that parked last round (10-150 us here, more on a busy machine), or
 * rounds degrade to a futex wake-up each. A failed spin wastes all of it, so
 * a waiter spins only while recent spins have paid (FAIL_RATE, see learn()):
 * that bound is what makes a budget this long affordable. Measured with 2
 * parties at a load average of 7-8: 0.9-2.2 us a round with 1000 us, against
 * 0.8-19 us with 200 us (three alternating runs each).
 */
const BARRIER_SPIN_MICROS = 1000;
/** FAIL_RATE is a moving average of "the spin ran out", in 1/FAIL_SCALE, over about 2^FAIL_SHIFT spins. */
const FAIL_SCALE = 1024;
const FAIL_SHIFT = 4;
/** Waiters stop spinning while more than a quarter of recent spins failed (see learn()). */
const FAIL_LIMIT = FAIL_SCALE / 4;
/** While spinning is off, one wait in this many (per thread) still spins, to notice that spinning pays again. */
const PROBE_EVERY = 64;
let probeClock = 0;

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
  readonly #lastBig: bigint;

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
      for (let i = 0; i < LOG_SIZE; i++) u64[LOG + i] = pack(0, (i - LOG_SIZE + ERAS) % ERAS, false, 0);
    }
    this.#i32 = new Int32Array(buffer);
    this.#u64 = new BigUint64Array(buffer);
    this.#parties = Atomics.load(this.#i32, PARTIES);
    this.#lastBig = BigInt(this.#parties - 1);
  }

  /** How many parties each generation needs. */
  get parties(): number {
    return this.#parties;
  }

  /** True from a timeout or abort until reset(). */
  get isBroken(): boolean {
    return (lo32(Atomics.load(this.#u64, STATE)) & BROKEN) !== 0;
  }

  /** How many parties have arrived in the open generation (0 when broken). */
  get waiting(): number {
    const lo = lo32(Atomics.load(this.#u64, STATE));
    return lo & BROKEN ? 0 : lo & COUNT_MASK;
  }

  /**
   * Arrives and blocks until all parties have arrived.
   * @param timeout milliseconds; on expiry this party gets TimeoutError and the barrier breaks.
   * @throws BrokenBarrierError if the barrier is or becomes broken (or reset) while waiting.
   */
  wait(timeout?: number): BarrierResult {
    const ms = checkTimeout(timeout);
    const ticket = this.#arrive();
    const key = Math.floor(ticket / 2);
    const generation = Math.floor(key / ERAS);
    if (ticket % 2 === 1) return { leader: true, generation };
    const i32 = this.#i32;
    let deadline = deadlineAfter(ms);
    // Spin only when every party can hold a core at once: otherwise the spin burns the time
    // slices of the parties still to arrive (see spin-policy.ts and barrier.md, "Spinning").
    // And only while recent spins have paid (learn()); now and then a probe spins anyway.
    const adaptive = allCanRun(this.#parties);
    const failRate = adaptive ? Atomics.load(i32, FAIL_RATE) : 0;
    const spins = adaptive && (failRate < FAIL_LIMIT || ++probeClock % PROBE_EVERY === 0);
    let spun = !spins;
    let parked = false;
    try {
      for (;;) {
        const seq = Atomics.load(i32, SEQ);
        const outcome = this.#decide(key);
        if (outcome === Outcome.Completed) {
          if (spins) this.#learn(failRate, parked);
          return { leader: false, generation };
        }
        if (outcome === Outcome.Broken) throw new BrokenBarrierError();
        if (!spun) {
          spun = true;
          spinWhileEqualFor(i32, SEQ, seq, BARRIER_SPIN_MICROS);
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
    const ticket = this.#arrive();
    const key = Math.floor(ticket / 2);
    const generation = Math.floor(key / ERAS);
    if (ticket % 2 === 1) return { leader: true, generation };
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
      const lo = lo32(s);
      const hi = hi32();
      if ((lo & (COUNT_MASK | BROKEN)) === 0) return;
      const gen = genOf(lo, hi);
      const era = (lo >>> ERA_SHIFT) & (ERAS - 1);
      const seen = Atomics.compareExchange(u64, STATE, s, pack(gen, (era + 1) % ERAS, false, 0));
      if (seen === s) {
        this.#log(gen, era);
        this.#publish();
        return;
      }
      s = seen;
    }
  }

  /**
   * Counts this party in. Returns a ticket: 2 * the key of the generation it
   * joined, plus 1 if this party was the last and released it. Throws
   * BrokenBarrierError on a broken barrier.
   */
  #arrive(): number {
    const u64 = this.#u64;
    const last = this.#parties - 1;
    let s = Atomics.load(u64, STATE);
    for (;;) {
      const lo = lo32(s);
      const hi = hi32();
      if (lo & BROKEN) throw new BrokenBarrierError("the barrier is broken: a party timed out or was aborted; call reset() to use it again");
      const key = keyOf(lo, hi);
      const leads = (lo & COUNT_MASK) === last;
      // Trip: clear the count, add one generation (the word wraps modulo 2^64, so T wraps modulo 2^40).
      const next = leads ? s - this.#lastBig + GEN_ONE : s + 1n;
      const seen = Atomics.compareExchange(u64, STATE, s, next);
      if (seen === s) {
        if (!leads) return key * 2;
        this.#publish();
        return key * 2 + 1;
      }
      s = seen;
    }
  }

  /**
   * Where the generation `key` stands in state `s`. The subtle case is a
   * waiter that wakes late, after its generation ended AND later transitions
   * happened: see barrier.md, "Telling completed from broken".
   */
  #decide(key: number, s: bigint = Atomics.load(this.#u64, STATE)): Outcome {
    const lo = lo32(s);
    const now = keyOf(lo, hi32());
    if (now === key) return lo & BROKEN ? Outcome.Broken : Outcome.Waiting;
    const gen0 = Math.floor(key / ERAS);
    const era0 = key % ERAS;
    if (Math.floor(now / ERAS) === gen0) return Outcome.Broken; // a reset ended it; no generation completed since
    if (now % ERAS === era0) return Outcome.Completed; // generations moved on, no reset since
    // Both moved: did our generation complete before the first reset after it?
    const entry = Atomics.load(this.#u64, LOG + (era0 % LOG_SIZE));
    const elo = lo32(entry);
    const entryEra = (elo >>> ERA_SHIFT) & (ERAS - 1);
    if (entryEra === era0) return genOf(elo, hi32()) === gen0 ? Outcome.Broken : Outcome.Completed;
    const age = (era0 - entryEra + ERAS) % ERAS;
    if (age < ERAS / 2) return Outcome.Pending; // older: the reset that ended our era is still writing it
    // Overwritten: LOG_SIZE more resets happened while this waiter slept.
    // With exactly `parties` threads no generation can complete without this
    // party after its own was broken, so "generations moved on" means completed.
    return Outcome.Completed;
  }

  /** Records "era `era` ended at generation `gen`", never overwriting a newer era's entry. */
  #log(gen: number, era: number): void {
    const u64 = this.#u64;
    const slot = LOG + (era % LOG_SIZE);
    const entry = pack(gen, era, false, 0);
    let e = Atomics.load(u64, slot);
    for (;;) {
      const age = (era - ((lo32(e) >>> ERA_SHIFT) & (ERAS - 1)) + ERAS) % ERAS;
      if (age >= ERAS / 2) return; // a later era already wrote this slot
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
  #breakOwn(key: number): Outcome {
    const u64 = this.#u64;
    for (;;) {
      const s = Atomics.load(u64, STATE);
      const outcome = this.#decide(key, s);
      if (outcome !== Outcome.Waiting) return outcome;
      if (Atomics.compareExchange(u64, STATE, s, s | BROKEN_BIT) === s) {
        this.#publish();
        return Outcome.Waiting;
      }
    }
  }

  /** Breaks whatever generation is open (for a party aborted before it arrived). */
  #breakOpen(): void {
    const u64 = this.#u64;
    let s = Atomics.load(u64, STATE);
    while (!(lo32(s) & BROKEN)) {
      const seen = Atomics.compareExchange(u64, STATE, s, s | BROKEN_BIT);
      if (seen === s) {
        this.#publish();
        return;
      }
      s = seen;
    }
  }

  /**
   * Folds one spin's outcome into FAIL_RATE (`failed`: it ran out and the waiter went on to park).
   * A caught release saves a wake-up (~10-20 us here) at the cost of ~1 us; a failed spin wastes
   * the whole budget and pays the wake-up anyway, and a spinner on a busy machine even keeps the
   * party it waits for off the core it needs: 2 parties under a load average of ~10 measured
   * ~300 us a round when every spin failed, against ~15 us parking at once. Spinning stops while
   * more than a quarter of recent spins failed. The rate moves slowly on purpose: right after one
   * failure the next round must outlast the parked party's wake-up, so failures come in short
   * bursts even where spinning pays (a budget that shrank on each failure was measured stuck at
   * ~20-30 us a round where a fixed budget ran at 2-4 us). Racing updates overwrite each other;
   * any of them is a fair estimate.
   */
  #learn(failRate: number, failed: boolean): void {
    // A probe that caught the release (spinning was off) gives spinning a fair trial: probes
    // spin against a party that parked last round and must first wake up, so they fail more
    // often than spins do once both parties spin again.
    const next =
      !failed && failRate >= FAIL_LIMIT ? FAIL_LIMIT / 2 : failRate + Math.trunc(((failed ? FAIL_SCALE : 0) - failRate) / 2 ** FAIL_SHIFT);
    if (next !== failRate) Atomics.store(this.#i32, FAIL_RATE, next);
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
    const count = lo32(Atomics.load(new BigUint64Array(buffer), STATE)) & COUNT_MASK;
    if (count >= parties) {
      throw new SabreTypeError(`field "buffer" holds an impossible Barrier state: ${count} of ${parties} parties arrived`);
    }
    reviving = buffer;
    return new Barrier(1);
  },
});
