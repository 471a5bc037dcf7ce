import { SabreTypeError } from "../errors.js";
import { arenaViews, type ArenaMessage, type ArenaViews } from "./results.js";

/** Smallest block: 4 units (32 bytes), enough for a 2-chunk call's tags and values. */
const MIN_CLASS = 2;
/** Blocks of at least this many units (1 MiB) get an arena of their own, freed with the job. */
const ONE_OFF_UNITS = 1 << 17;
/** The first pooled arena: 64 KiB, a thousand small calls in flight. Each next one doubles, up to MAX_ARENA_UNITS. */
const FIRST_ARENA_UNITS = 1 << 13;
const MAX_ARENA_UNITS = 1 << 20;

interface Arena extends ArenaViews {
  id: number;
  buffer: SharedArrayBuffer;
  units: number;
  /** Units handed out so far (pooled arenas grow their blocks from the bottom up). */
  top: number;
  forSeq: number | null;
}

/** A job's results block. `cls` is its size class (blocks of 2^cls units), or -1 for a one-off arena. */
export interface ResultsBlock {
  readonly arena: Arena;
  readonly offset: number;
  readonly cls: number;
}

/**
 * The main thread's allocator of results blocks (results.ts). Pooled arenas
 * are cut into power-of-two blocks kept on free lists by size; a block is
 * handed back when no worker can write it any more: at once when its job
 * completed (every chunk wrote before its DONE increment, and no chunk is
 * left), and only once every worker has passed the job when it was settled
 * any other way (a chunk may still be running).
 *
 * A new arena reaches the workers as a message on their args ports, posted
 * before the job that uses it is published (`announce`), and is replayed to
 * every worker that starts later. Pooled arenas live as long as the engine;
 * a one-off arena is dropped by both sides after its job.
 */
export class ResultsHeap {
  private readonly arenas: Arena[] = [];
  /** Live arenas by id (what a starting worker must be given). */
  private readonly live = new Map<number, Arena>();
  /** Free blocks by size class (block objects are reused as they are: nothing is allocated per call). */
  private readonly free: ResultsBlock[][] = [];
  /** Blocks of settled jobs some worker may still be inside: [block, seq]. */
  private retiring: Array<[ResultsBlock, number]> = [];
  private nextId = 0;

  constructor(
    private readonly announce: (m: ArenaMessage) => void,
    /** True once every live worker has left job `seq`. */
    private readonly passed: (seq: number) => boolean,
  ) {}

  /** A block of at least `units` units for job `seq`. */
  alloc(units: number, seq: number): ResultsBlock {
    if (this.retiring.length > 0) this.sweep();
    if (units >= ONE_OFF_UNITS) {
      const arena = this.newArena(units, seq);
      return { arena, offset: 0, cls: -1 };
    }
    const cls = Math.max(MIN_CLASS, 32 - Math.clz32(units - 1));
    const list = this.free[cls];
    const hit = list?.pop();
    if (hit) return hit;
    const size = 1 << cls;
    let arena = this.arenas[this.arenas.length - 1];
    if (arena === undefined || arena.top + size > arena.units) {
      const grown = arena === undefined ? FIRST_ARENA_UNITS : Math.min(MAX_ARENA_UNITS, arena.units * 2);
      arena = this.newArena(Math.max(grown, size), null);
      this.arenas.push(arena);
    }
    const offset = arena.top;
    arena.top += size;
    return { arena, offset, cls };
  }

  /** Hands back a block no worker can write any more. */
  release(block: ResultsBlock): void {
    if (block.cls < 0) {
      this.live.delete(block.arena.id);
      return;
    }
    (this.free[block.cls] ??= []).push(block);
  }

  /** Hands back a block once every worker has left job `seq`. */
  retire(block: ResultsBlock, seq: number): void {
    this.retiring.push([block, seq]);
  }

  /** The arenas a worker starting now must receive before it runs any job. */
  replay(): ArenaMessage[] {
    return [...this.live.values()].map(message);
  }

  private sweep(): void {
    const still: Array<[ResultsBlock, number]> = [];
    for (const r of this.retiring) {
      if (this.passed(r[1])) this.release(r[0]);
      else still.push(r);
    }
    this.retiring = still;
  }

  private newArena(units: number, forSeq: number | null): Arena {
    let buffer: SharedArrayBuffer;
    try {
      buffer = new SharedArrayBuffer(units * 8);
    } catch (err) {
      throw new SabreTypeError(
        `the call's results need ${units * 8} bytes of shared memory, which could not be allocated (fewer chunks, or narrower reductions): ${(err as Error).message}`,
      );
    }
    const arena: Arena = { id: this.nextId++, buffer, units, top: 0, forSeq, ...arenaViews(buffer) };
    this.live.set(arena.id, arena);
    this.announce(message(arena));
    return arena;
  }
}

function message(a: Arena): ArenaMessage {
  return { kind: "arena", id: a.id, buffer: a.buffer, forSeq: a.forSeq };
}
