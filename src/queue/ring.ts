/**
 * The lock-free core of Queue: a Vyukov bounded MPMC ring of per-slot
 * sequence numbers over Int32 cells. This file knows nothing of records or
 * blocking; it claims tickets, publishes and releases slots, and bumps the
 * two event counters that blocked threads park on. See queue.md for the
 * protocol and why it is correct.
 */

// Header cells (Int32 indices). HEAD, TAIL and the two event counters each
// get their own 64-byte line so producers and consumers do not false-share.
export const MAGIC = 0;
export const CAPACITY = 1;
export const RECORD = 2;
export const DTYPE = 3;
export const HEAD = 16;
export const TAIL = 32;
/** Bumped after every publish and by close(); consumers park on it. */
export const NOT_EMPTY = 48;
export const POP_WAITERS = 49;
/** Bumped after every release and by close(); producers park on it. */
export const NOT_FULL = 64;
export const PUSH_WAITERS = 65;
export const HEADER_CELLS = 80;

/** "sabreQ\0\1" squeezed into an int32: marks a buffer as a queue's, so a forged payload is refused. */
export const MAGIC_VALUE = 0x5ab7e051;

/** The bit of TAIL that says the queue is closed; tickets live in the bits below it. */
export const CLOSED_BIT = 1 << 30;
const TICKET_MASK = CLOSED_BIT - 1;
/**
 * Tickets count modulo a multiple of the capacity <= 2^29 (sequence numbers,
 * at two per ticket, then stay below 2^30); the modulus must leave room for
 * several laps, hence the cap on capacity.
 */
export const MAX_CAPACITY = 1 << 27;

/** claimPush: no free slot. claimPop: nothing published at the head. */
export const WOULD_BLOCK = -1;
/** claimPush: the queue is closed. claimPop: closed and every ticket consumed. */
export const CLOSED = -2;

export class Ring {
  readonly ctl: Int32Array;
  readonly seq: Int32Array;
  readonly capacity: number;
  /** Tickets are kept modulo this: a multiple of capacity, so slot = ticket % capacity survives the wrap. */
  private readonly mod: number;
  /** Sequence numbers are kept modulo 2 * mod: 2t means "free for ticket t", 2t + 1 "holds ticket t's record". */
  private readonly seqMod: number;

  constructor(ctl: Int32Array, seq: Int32Array, capacity: number) {
    this.ctl = ctl;
    this.seq = seq;
    this.capacity = capacity;
    this.mod = capacity * Math.floor(2 ** 29 / capacity);
    this.seqMod = 2 * this.mod;
  }

  /** Sets up a fresh ring: slot i is free for ticket i. */
  init(): void {
    for (let i = 0; i < this.capacity; i++) this.seq[i] = 2 * i;
  }

  private next(t: number): number {
    return t + 1 === this.mod ? 0 : t + 1;
  }

  /** a - b as a signed distance on the sequence circle (real distances are far below half a lap). */
  private diff(a: number, b: number): number {
    const d = a - b;
    const m = this.seqMod;
    return d > m / 2 ? d - m : d < -m / 2 ? d + m : d;
  }

  /** Claims a ticket to write: the ticket (>= 0, slot = ticket % capacity), WOULD_BLOCK when full, CLOSED. */
  claimPush(): number {
    const { ctl, seq } = this;
    for (;;) {
      const t = Atomics.load(ctl, TAIL);
      if (t & CLOSED_BIT) return CLOSED;
      const d = this.diff(Atomics.load(seq, t % this.capacity), 2 * t);
      if (d === 0) {
        if (Atomics.compareExchange(ctl, TAIL, t, this.next(t)) === t) return t;
      } else if (d < 0) {
        // The slot still holds (or is still being read for) the item one lap back.
        return WOULD_BLOCK;
      }
      // d > 0: another producer took ticket t since we read TAIL; look again.
    }
  }

  /** Makes ticket t's record visible to consumers. Call once the record is fully written. */
  publish(t: number): void {
    const { ctl } = this;
    Atomics.store(this.seq, t % this.capacity, 2 * t + 1);
    Atomics.add(ctl, NOT_EMPTY, 1);
    if (Atomics.load(ctl, POP_WAITERS) > 0) Atomics.notify(ctl, NOT_EMPTY);
  }

  /** Claims a ticket to read: the ticket (>= 0), WOULD_BLOCK when nothing is published at the head, CLOSED when drained. */
  claimPop(): number {
    const { ctl, seq } = this;
    for (;;) {
      const h = Atomics.load(ctl, HEAD);
      const d = this.diff(Atomics.load(seq, h % this.capacity), 2 * h + 1);
      if (d === 0) {
        if (Atomics.compareExchange(ctl, HEAD, h, this.next(h)) === h) return h;
      } else if (d < 0) {
        // Not published yet. Once closed, TAIL is frozen: if every ticket up
        // to it is taken, nothing more will ever come.
        const t = Atomics.load(ctl, TAIL);
        return t & CLOSED_BIT && (t & TICKET_MASK) === h ? CLOSED : WOULD_BLOCK;
      }
    }
  }

  /** Frees ticket h's slot for the producer one lap ahead. Call once the record is fully read. */
  release(h: number): void {
    const { ctl } = this;
    Atomics.store(this.seq, h % this.capacity, (2 * (h + this.capacity)) % this.seqMod);
    Atomics.add(ctl, NOT_FULL, 1);
    if (Atomics.load(ctl, PUSH_WAITERS) > 0) Atomics.notify(ctl, NOT_FULL);
  }

  /** Refuses every later claimPush and wakes every waiter on both sides. Idempotent. */
  close(): void {
    const { ctl } = this;
    Atomics.or(ctl, TAIL, CLOSED_BIT);
    Atomics.add(ctl, NOT_EMPTY, 1);
    Atomics.add(ctl, NOT_FULL, 1);
    Atomics.notify(ctl, NOT_EMPTY);
    Atomics.notify(ctl, NOT_FULL);
  }

  get closed(): boolean {
    return (Atomics.load(this.ctl, TAIL) & CLOSED_BIT) !== 0;
  }

  /** Tickets claimed by producers and not yet claimed by consumers, clamped to [0, capacity]. */
  get size(): number {
    // HEAD first: TAIL only grows past it, so the difference is never negative but for the wrap.
    const h = Atomics.load(this.ctl, HEAD);
    const t = Atomics.load(this.ctl, TAIL) & TICKET_MASK;
    let d = t - h;
    if (d < 0) d += this.mod;
    return Math.min(Math.max(d, 0), this.capacity);
  }
}
