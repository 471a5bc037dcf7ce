import { SabreError, SabreTypeError } from "../../src/errors.js";

/**
 * The task board of a parallel forest fit (parallel.md): which trees are
 * started, which subtree tasks are open, claimed or done, and where their
 * nodes went. All of it lives in arrays that may be shared by every worker
 * (a fit) or private to one thread (growTree): the same code runs both.
 *
 * A tree grows in a *slot*: its in-bag arrays (sample index, label, weight,
 * partitioned in place: tasks own disjoint position ranges), its node area
 * (fragments, bump-allocated) and its task records. Task 0 is the root.
 */

// Header words.
const H_STOP = 0;
/** Futex word: bumped whenever there may be new work (a task opened, a slot freed) or a stop. */
const H_SEQ = 1;
const H_IDLE = 2;
const H_NEXT = 3;
const H_DONE = 4;
const H_TREES = 5;
/**
 * Fault injection for the tests: the task whose start makes H_RUN reach
 * |H_FAIL| throws (H_FAIL > 0) or ends its worker thread (H_FAIL < 0); 0: never.
 */
const H_FAIL = 6;
const H_RUN = 7;
const HEADER = 8;
// Slot header words.
const S_STATE = 0;
const S_TREE = 1;
const S_UNFINISHED = 2;
const S_NTASKS = 3;
const S_OPEN = 4;
const S_NODETOP = 5;
const S_FLAGS = 6;
const SLOT_STRIDE = 8;
// Task record words.
export const T_STATE = 0;
export const T_START = 1;
export const T_END = 2;
export const T_DEPTH = 3;
export const T_KLO = 4;
export const T_KHI = 5;
export const T_NCONST = 6;
export const T_BASE = 7;
export const T_COUNT = 8;
export const T_MAXDEPTH = 9;
const TASK_STRIDE = 10;

const OPEN = 1;
const CLAIMED = 2;
const DONE = 3;

/** Int32 words per node in a slot's node area: feature, left, right, nSamples. */
export const NODE_I = 4;

/** Everything a board is made of; shared arrays in a fit, plain ones in growTree. */
export interface BoardArrays {
  words: Int32Array;
  /** Per slot: the tree root's weight. */
  rootW: Float64Array;
  /** Known-constant features handed to tasks: ccap per task. */
  consts: Int32Array;
  sIdx: Int32Array;
  sY: Int32Array;
  sYf: Float64Array;
  sW: Float64Array;
  /**
   * Node areas, one pair per slot (one array for all slots would pass the
   * typed-array length limit on large data): NODE_I int32 and (3 + nOutputs)
   * float64 per node (threshold, weight, impurity, values), 2n nodes each.
   * Pages are committed only when written, so the unused part costs address
   * space, not memory.
   */
  nodesI: Int32Array[];
  nodesF: Float64Array[];
  /** Sizes the arrays were made for. */
  n: number;
  nOutputs: number;
  slots: number;
  tcap: number;
  ccap: number;
  taskMin: number;
}

export type Alloc = { i32(len: number): Int32Array; f64(len: number): Float64Array };

export const plainAlloc: Alloc = { i32: (len) => new Int32Array(len), f64: (len) => new Float64Array(len) };

/**
 * Arrays for `slots` trees in flight over n samples. A task is made only
 * where a split leaves at least taskMin samples on both sides, so a tree of
 * at most n in-bag samples makes fewer than n / taskMin tasks besides its root.
 */
export function makeBoard(n: number, d: number, nClasses: number, slots: number, nTrees: number, taskMin: number, alloc: Alloc, failAtTask = 0, constsMax = 256): BoardArrays {
  const tcap = Math.floor(n / taskMin) + 1;
  const ccap = Math.min(d, constsMax);
  const C = nClasses > 0 ? nClasses : 1;
  const words = alloc.i32(HEADER + slots * SLOT_STRIDE + slots * tcap * TASK_STRIDE);
  words[H_TREES] = nTrees;
  words[H_FAIL] = failAtTask;
  return {
    words,
    rootW: alloc.f64(slots),
    consts: alloc.i32(slots * tcap * ccap),
    sIdx: alloc.i32(slots * n),
    sY: alloc.i32(nClasses > 0 ? slots * n : 0),
    sYf: alloc.f64(nClasses > 0 ? 0 : slots * n),
    sW: alloc.f64(slots * n),
    nodesI: Array.from({ length: slots }, () => alloc.i32(2 * n * NODE_I)),
    nodesF: Array.from({ length: slots }, () => alloc.f64(2 * n * (3 + C))),
    n,
    nOutputs: C,
    slots,
    tcap,
    ccap,
    taskMin,
  };
}

/** Thrown inside a worker when the fit was stopped (another worker failed, or the call was aborted). */
export class StoppedError extends SabreError {
  constructor() {
    super("ERR_SABRE_ABORTED", "the forest fit was stopped (another worker failed or the call was aborted)");
  }
}

/** A view of one board with the operations of the protocol (parallel.md). */
export class Board {
  readonly w: Int32Array;
  nTrees: number;
  constructor(readonly a: BoardArrays) {
    this.w = a.words;
    this.nTrees = a.words[H_TREES]!;
  }

  /** Counts a task start; throws the tests' injected failure at the chosen one. */
  countTask(): void {
    const at = this.w[H_FAIL]!;
    if (at === 0 || Atomics.add(this.w, H_RUN, 1) + 1 !== Math.abs(at)) return;
    if (at < 0) process.exit(70);
    throw new SabreTypeError(`injected failure at task ${at} (forestTuning.failAtTask)`);
  }

  /** Clears a private board for `nTrees` more trees. */
  reset(nTrees: number, failAtTask = 0): void {
    this.w.fill(0);
    this.w[H_TREES] = nTrees;
    this.w[H_FAIL] = failAtTask;
    this.nTrees = nTrees;
  }

  private slotBase(s: number): number {
    return HEADER + s * SLOT_STRIDE;
  }

  /** Index of task t of slot s in words. */
  task(s: number, t: number): number {
    return HEADER + this.a.slots * SLOT_STRIDE + (s * this.a.tcap + t) * TASK_STRIDE;
  }

  stopped(): boolean {
    return Atomics.load(this.w, H_STOP) !== 0;
  }

  checkStop(): void {
    if (Atomics.load(this.w, H_STOP) !== 0) throw new StoppedError();
  }

  /** Stops every worker of the fit: they leave their loops at the next node or wake-up. Idempotent. */
  stop(): void {
    Atomics.store(this.w, H_STOP, 1);
    this.wake(true);
  }

  private wake(all: boolean): void {
    Atomics.add(this.w, H_SEQ, 1);
    if (all || Atomics.load(this.w, H_IDLE) > 0) Atomics.notify(this.w, H_SEQ);
  }

  treesDone(): number {
    return Atomics.load(this.w, H_DONE);
  }

  treeOf(s: number): number {
    return this.w[this.slotBase(s) + S_TREE]!;
  }

  flags(s: number): number {
    return this.w[this.slotBase(s) + S_FLAGS]!;
  }

  /**
   * Takes a free slot and the next tree number; -1 when no tree is left or
   * no slot is free. The caller fills the slot (prepare) then calls openTree.
   */
  takeTree(): number {
    const w = this.w;
    if (Atomics.load(w, H_NEXT) >= this.nTrees) return -1;
    for (let s = 0; s < this.a.slots; s++) {
      const b = this.slotBase(s);
      if (Atomics.load(w, b + S_STATE) !== 0 || Atomics.compareExchange(w, b + S_STATE, 0, 1) !== 0) continue;
      const k = Atomics.add(w, H_NEXT, 1);
      if (k >= this.nTrees) {
        Atomics.store(w, b + S_STATE, 0);
        return -1;
      }
      w[b + S_TREE] = k;
      return s;
    }
    return -1;
  }

  /** The tree in slot s is prepared: its root task [0, m) is created, claimed by the caller. Returns the task (0). */
  openTree(s: number, m: number, flags: number, rootWeight: number, keyLo: number, keyHi: number): number {
    const w = this.w;
    const b = this.slotBase(s);
    this.a.rootW[s] = rootWeight;
    w[b + S_FLAGS] = flags;
    w[b + S_NODETOP] = 0;
    w[b + S_OPEN] = 0;
    w[b + S_NTASKS] = 1;
    const t = this.task(s, 0);
    w[t + T_START] = 0;
    w[t + T_END] = m;
    w[t + T_DEPTH] = 0;
    w[t + T_KLO] = keyLo;
    w[t + T_KHI] = keyHi;
    w[t + T_NCONST] = 0;
    Atomics.store(w, b + S_UNFINISHED, 1);
    Atomics.store(w, t + T_STATE, CLAIMED);
    return 0;
  }

  /**
   * Publishes a subtree task of slot s: positions [start, end) at depth,
   * node key, and its known constants (dropped when more than ccap: the
   * task then finds them again, same tree, a little slower). Returns its
   * number. Must be called while the caller's own task of s is unfinished.
   */
  publish(s: number, start: number, end: number, depth: number, keyLo: number, keyHi: number, consts: Int32Array, cOff: number, cLen: number): number {
    const w = this.w;
    const b = this.slotBase(s);
    const t = Atomics.add(w, b + S_NTASKS, 1);
    const r = this.task(s, t);
    w[r + T_START] = start;
    w[r + T_END] = end;
    w[r + T_DEPTH] = depth;
    w[r + T_KLO] = keyLo;
    w[r + T_KHI] = keyHi;
    if (cLen <= this.a.ccap) {
      this.a.consts.set(consts.subarray(cOff, cOff + cLen), (s * this.a.tcap + t) * this.a.ccap);
      w[r + T_NCONST] = cLen;
    } else w[r + T_NCONST] = 0;
    Atomics.add(w, b + S_UNFINISHED, 1);
    Atomics.store(w, r + T_STATE, OPEN);
    Atomics.add(w, b + S_OPEN, 1);
    this.wake(false);
    return t;
  }

  /** Claims the newest open task of slot s (the caller's own tree); -1 if none. */
  claimOwn(s: number): number {
    return this.claimIn(s, true);
  }

  /**
   * Claims an open task, the newest of slot `prefer` first, else the
   * largest anywhere. Returns slot * 2^20 + task, or -1.
   */
  claim(prefer: number): number {
    if (prefer >= 0) {
      const t = this.claimIn(prefer, true);
      if (t >= 0) return prefer * 1048576 + t;
    }
    for (let s = 0; s < this.a.slots; s++) {
      if (s === prefer) continue;
      const t = this.claimIn(s, false);
      if (t >= 0) return s * 1048576 + t;
    }
    return -1;
  }

  /**
   * An open task of slot s: the newest when `own` (the worker that started
   * the tree takes back what it published last, whose samples it touched
   * last: still in its cache), else the largest (a helper takes the
   * biggest piece of work, as work stealing takes the oldest).
   */
  private claimIn(s: number, own: boolean): number {
    const w = this.w;
    const b = this.slotBase(s);
    while (Atomics.load(w, b + S_OPEN) > 0) {
      const nt = Atomics.load(w, b + S_NTASKS);
      let best = -1;
      let size = -1;
      for (let t = nt - 1; t >= 1; t--) {
        const r = this.task(s, t);
        if (Atomics.load(w, r + T_STATE) !== OPEN) continue;
        if (own) {
          best = t;
          break;
        }
        const z = w[r + T_END]! - w[r + T_START]!;
        if (z > size) {
          size = z;
          best = t;
        }
      }
      if (best < 0) return -1;
      const r = this.task(s, best);
      if (Atomics.compareExchange(w, r + T_STATE, OPEN, CLAIMED) === OPEN) {
        Atomics.sub(w, b + S_OPEN, 1);
        return best;
      }
    }
    return -1;
  }

  /** Reserves `count` nodes in slot s's node area; returns the first. */
  reserveNodes(s: number, count: number): number {
    return Atomics.add(this.w, this.slotBase(s) + S_NODETOP, count);
  }

  /** Nodes written into slot s so far. */
  nodeCount(s: number): number {
    return Atomics.load(this.w, this.slotBase(s) + S_NODETOP);
  }

  taskCount(s: number): number {
    return Atomics.load(this.w, this.slotBase(s) + S_NTASKS);
  }

  /**
   * Marks task t of slot s done, its fragment (base, count, maxDepth)
   * written. Returns true when it was the tree's last unfinished task: the
   * caller then assembles the tree and calls freeSlot.
   */
  finishTask(s: number, t: number, base: number, count: number, maxDepth: number): boolean {
    const w = this.w;
    const r = this.task(s, t);
    w[r + T_BASE] = base;
    w[r + T_COUNT] = count;
    w[r + T_MAXDEPTH] = maxDepth;
    Atomics.store(w, r + T_STATE, DONE);
    return Atomics.sub(w, this.slotBase(s) + S_UNFINISHED, 1) === 1;
  }

  /** The tree of slot s is assembled: the slot is free again and the tree counted. */
  freeSlot(s: number): void {
    const w = this.w;
    const b = this.slotBase(s);
    for (let t = 0, nt = w[b + S_NTASKS]!; t < nt; t++) w[this.task(s, t) + T_STATE] = 0;
    Atomics.store(w, b + S_STATE, 0);
    Atomics.add(w, H_DONE, 1);
    this.wake(false);
  }

  /** True when every tree is assembled. */
  allDone(): boolean {
    return Atomics.load(this.w, H_DONE) >= this.nTrees;
  }

  /** The current wake-up sequence number: read it BEFORE looking for work, then pass it to idle(). */
  seq(): number {
    return Atomics.load(this.w, H_SEQ);
  }

  /**
   * Parks until the board may have changed since `seen` (or a 50 ms slice
   * passes: a safety net, not the mechanism). A blocking wait: only in workers.
   */
  idle(seen: number): void {
    const w = this.w;
    for (let i = 0; i < 2000; i++) if (Atomics.load(w, H_SEQ) !== seen) return;
    Atomics.add(w, H_IDLE, 1);
    try {
      if (Atomics.load(w, H_SEQ) === seen) Atomics.wait(w, H_SEQ, seen, 50);
    } finally {
      Atomics.sub(w, H_IDLE, 1);
    }
  }
}
