// Large user arrays live in a shared WebAssembly.Memory rather than a plain
// SharedArrayBuffer (medium ones share one, a slab: slab.ts, slab.md). A shared Memory's `.buffer` IS a SharedArrayBuffer, so
// every view, kernel and serialize path keeps working unchanged; what it adds
// is that a WebAssembly module can be instantiated over the array's own
// memory, so SIMD kernels (kernels/ops/reduce-wasm.ts) read the data in place
// with no copy. A module can address only a memory it imports, never a SAB
// made by JS: copying blocks into a module's memory cost a full pass itself
// and was slower than the JS loops (src/ops/README.md).
//
// Each thread keeps a registry buffer -> Memory. serialize carries the
// Memory beside the buffer (serialize.ts: ndarrays and typed arrays over
// such a buffer), and the receiving thread registers it again, so a worker
// finds the Memory of any array it was given.
//
// Creating a Memory can fail where a SAB would not: V8 reserves address space
// per shared memory (about 13,000 fit here) and a failed creation took
// ~0.4 s. The first RangeError switches the allocator to plain SABs for the
// rest of the thread's life.

import { threadId } from "node:worker_threads";

/**
 * A shared `WebAssembly.Memory` as sabre sees it (the project's lib has no
 * wasm types): pass it as the memory import of a module compiled for a
 * shared memory of up to 65,536 pages, and the module addresses the array's
 * elements at `data.byteOffset + index * BYTES_PER_ELEMENT`.
 */
export interface SharedWasmMemory {
  /** The memory's SharedArrayBuffer: the buffer of every array allocated in it. */
  readonly buffer: SharedArrayBuffer;
  /** Grows the memory by `pages` 64 KiB pages; returns its previous size in pages (RangeError past its maximum). */
  grow(pages: number): number;
}
type WasmMemory = SharedWasmMemory;
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
};

/** Arrays of at least this many bytes get a shared WebAssembly.Memory of their own (smaller ones from SLAB_MIN_BYTES share one: slab.ts). */
export const WASM_MEMORY_MIN_BYTES = 16 * 2 ** 20;
/** A WebAssembly page. */
export const PAGE = 65536;
/** wasm32 addresses at most 2^16 pages (4 GiB); larger arrays take a plain SAB. */
const MAX_PAGES = 65536;

const memories = new WeakMap<SharedArrayBuffer, WasmMemory>();

/** The Memory whose buffer this is (registered in this thread), or undefined. */
export function memoryOf(buffer: ArrayBufferLike): WasmMemory | undefined {
  return buffer instanceof SharedArrayBuffer ? memories.get(buffer) : undefined;
}

/** True for a shared WebAssembly.Memory (a value revived from a message). */
export function isWasmMemory(value: unknown): value is WasmMemory {
  return typeof WebAssembly === "object" && value instanceof (WebAssembly.Memory as unknown as new () => object) && (value as WasmMemory).buffer instanceof SharedArrayBuffer;
}

/**
 * V8 counts the bytes of an ArrayBuffer or SharedArrayBuffer it allocates as
 * external memory and collects sooner as they grow; a WebAssembly.Memory's
 * bytes it does not count. A thread holding dead Memories while it allocates
 * little else (a worker that ran a reduction over each of them, a main
 * thread looping over fresh arrays) then never collected them: RSS grew by
 * 32 MiB per `ops.sum` of a fresh 32 MiB array, to 12.8 GB after 400 calls.
 * So each Memory buffer a thread registers gets a ghost: an ArrayBuffer of
 * its size, never touched (calloc maps it lazily: address space, no pages),
 * that lives exactly as long as the buffer, so V8 sees the Memory's size.
 * A worker revives a Memory once per argument set (a repeated set is sent
 * once), and each axis call's fresh output makes a new set: a ghost per
 * revival made V8 collect on every such call (axis means at half speed). So
 * a thread counts its live wrappers per Memory (an id made with the Memory
 * travels with it: serialize.ts) and gives a ghost only to a Memory it holds
 * no live wrapper of; a FinalizationRegistry counts the wrappers down (its
 * callbacks wait for an event-loop turn, so a busy worker gives fewer ghosts,
 * never more; a later wrapper outliving the ghosted one goes without the
 * hint until this thread revives the Memory again). Tried
 * instead, on 64 fresh 32 MiB arrays each summed on 3 workers: ghosts only
 * where a Memory is made, an explicit major collection in the workers after
 * every 64 MiB revived, ghosts capped at 1-4 MiB; none freed the dead
 * Memories (RSS grew by 2 GiB), full-size ghosts in the workers did.
 */
const ghosts = new WeakMap<SharedArrayBuffer, ArrayBuffer>();

function ghostFor(buffer: SharedArrayBuffer): void {
  if (ghosts.has(buffer)) return;
  try {
    ghosts.set(buffer, new ArrayBuffer(buffer.byteLength));
  } catch (err) {
    // No address space for the ghost: the array works, only V8's hint is missing.
    if (!(err instanceof RangeError)) throw err;
  }
}

const ids = new WeakMap<WasmMemory, number>();
/** Live wrappers (buffers) per Memory id in this thread. */
const wrappers = new Map<number, number>();
const released = new FinalizationRegistry<number>((id) => {
  const n = (wrappers.get(id) ?? 1) - 1;
  if (n > 0) wrappers.set(id, n);
  else wrappers.delete(id);
});
let made = 0;

/** The process-unique id of a Memory registered in this thread (sent beside it: serialize.ts). */
export function memoryIdOf(memory: WasmMemory): number | undefined {
  return ids.get(memory);
}

/**
 * Registers a Memory made or revived in this thread under its process-unique
 * `id`; returns its buffer (the one views must be made over).
 */
export function adoptMemory(memory: WasmMemory, id: number): SharedArrayBuffer {
  const buffer = memory.buffer;
  memories.set(buffer, memory);
  ids.set(memory, id);
  const live = wrappers.get(id) ?? 0;
  if (live === 0) ghostFor(buffer);
  wrappers.set(id, live + 1);
  released.register(buffer, id);
  return buffer;
}

/**
 * Pages a Memory may grow by beyond its array: one scratch page per thread
 * that runs a WebAssembly kernel needing one (scratchOf), so up to this many
 * threads per array; beyond that, kernels fall back to JS.
 */
const SCRATCH_PAGES = 64;

const scratches = new WeakMap<WasmMemory, Float64Array | null>();

// Every message that carries a Memory revives a new wrapper object of the
// same store, and a worker revives one per argument set (each axis call's
// fresh output makes a new set). A scratch page made per wrapper grew the
// memory by a page per call and worker, and after 32 calls on 2 workers the
// 64 spare pages were gone and every call fell back to the JS leaves. So a
// scratch page carries a tag in its last 16 bytes (a 64-bit magic, the
// process id and the owning thread's id), and a thread looks for its own
// page among the tagged pages at the memory's end before growing one: one
// page per array and thread however many wrappers. Thread ids are unique in
// a process, and a page is tagged only by the thread that grew it (grow
// returns each caller a page of its own). The scan stops at the first page
// without the magic (the array's own data, or a page another thread grew and
// has not tagged yet: then this thread grows a page of its own). Recognising
// wrappers by WeakRef instead kept every Memory alive: V8 never cleared
// those WeakRefs here, and RSS grew by each dead array's size.
const TAG_WORDS = 4;
const MAGIC0 = 0x5ab7e5c7;
const MAGIC1 = 0x9c4f2e11;
/** The floats of a scratch page below its tag. */
const SCRATCH_FLOATS = (PAGE - TAG_WORDS * 4) / 8;

/** The index, in 32-bit words, of a page's tag. */
function tagAt(page: number): number {
  return ((page + 1) * PAGE) / 4 - TAG_WORDS;
}

/** This thread's tagged scratch page among the last SCRATCH_PAGES pages of `buffer`, or -1. */
function findScratch(buffer: SharedArrayBuffer): number {
  const words = new Uint32Array(buffer);
  const pages = Math.floor(buffer.byteLength / PAGE);
  for (let p = pages - 1; p >= Math.max(0, pages - SCRATCH_PAGES); p--) {
    const t = tagAt(p);
    if (Atomics.load(words, t) !== MAGIC0 || Atomics.load(words, t + 1) !== MAGIC1 || Atomics.load(words, t + 2) !== process.pid >>> 0) return -1;
    if (Atomics.load(words, t + 3) === threadId) return p;
  }
  return -1;
}

/**
 * This thread's own scratch page in `memory`, as 8,190 float64 (a
 * WebAssembly kernel over an array writes its partials there, and JS reads
 * them in place): found by its tag, or made by growing the memory one page
 * (grow returns the old size atomically, so each thread's page is its own)
 * and tagging it. null when the memory cannot grow (its maximum is reached).
 */
export function scratchOf(memory: WasmMemory): Float64Array | null {
  let s = scratches.get(memory);
  if (s === undefined) {
    let page = findScratch(memory.buffer);
    if (page < 0) {
      try {
        page = memory.grow(1);
        const words = new Uint32Array(memory.buffer);
        const t = tagAt(page);
        Atomics.store(words, t + 3, threadId);
        Atomics.store(words, t + 2, process.pid >>> 0);
        Atomics.store(words, t + 1, MAGIC1);
        Atomics.store(words, t, MAGIC0);
      } catch {
        page = -1;
      }
    }
    s = page < 0 ? null : new Float64Array(memory.buffer, page * PAGE, SCRATCH_FLOATS);
    scratches.set(memory, s);
  }
  return s;
}

/** Whether allocation may try a Memory: off after a failure (or through the test hook). */
let enabled = true;

/**
 * Whether the environment asks for Memories, read at each large allocation:
 * SABRE_WASM_MEMORY=1 yes, =0 no; unset, yes unless glibc's malloc is told to
 * use huge pages (GLIBC_TUNABLES with glibc.malloc.hugetlb=1 or 2, as the
 * benchmarks run). Then a plain SharedArrayBuffer, which Node allocates with
 * malloc, gets transparent huge pages, and a Memory (mapped by V8 itself)
 * does not: filling a fresh 256 MiB array took 184 ms in a Memory against
 * 46 ms in a SAB on this VM (without the tunable, 182 against 192), which
 * would slow every large fresh output (transforms, maps) more than the
 * WebAssembly reductions gain.
 */
function wanted(): boolean {
  const env = process.env["SABRE_WASM_MEMORY"];
  if (env === "1") return true;
  if (env === "0") return false;
  return !/glibc\.malloc\.hugetlb=[12]/.test(process.env["GLIBC_TUNABLES"] ?? "");
}
/** Whether an allocation now may use a Memory (a new one, or room left in a slab). */
export function memoriesWanted(): boolean {
  return enabled && typeof WebAssembly === "object" && wanted();
}
/** Test hook: a function that replaces the Memory constructor (to force its failure). */
let create: (pages: number) => WasmMemory = (pages) => newMemory(pages);
function newMemory(pages: number): WasmMemory {
  return new WebAssembly.Memory({ initial: pages, maximum: Math.min(pages + SCRATCH_PAGES, MAX_PAGES), shared: true });
}

/** How the large-array allocator stands: for tests and the report of a failed creation. @internal */
export const wasmMemoryState = {
  /** Memories created in this thread. */
  created: 0,
  /** Creations attempted after which the allocator gave up (0 or 1). */
  failed: 0,
  get enabled(): boolean {
    return enabled;
  },
  /**
   * Test hook: turn the allocator on or off and optionally replace the
   * Memory constructor (undefined restores the real one). @internal
   */
  configure(on: boolean, factory?: (pages: number) => WasmMemory): void {
    enabled = on;
    create = factory ?? newMemory;
  },
};

/**
 * The buffer of a new shared Memory of `pages` pages (registered in this
 * thread, with room for scratch pages beyond), or undefined when Memories
 * are off here (the environment, the test hook, an earlier failure) or this
 * one cannot be made: then the caller allocates a plain SAB, and the failure
 * is remembered. Both the large-array allocator below and the slabs
 * (slab.ts) make their Memories here, so they share the one fallback.
 */
export function newSharedMemory(pages: number): SharedArrayBuffer | undefined {
  if (pages > MAX_PAGES || !memoriesWanted()) return undefined;
  let memory: WasmMemory;
  try {
    memory = create(pages);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    // Out of address space for memories (or memory): the next attempt would fail as slowly.
    enabled = false;
    wasmMemoryState.failed++;
    return undefined;
  }
  wasmMemoryState.created++;
  // threadId < 2^21 and a counter < 2^32 keep the id a safe integer.
  return adoptMemory(memory, threadId * 2 ** 32 + ++made);
}

/**
 * A SharedArrayBuffer of at least `bytes` bytes that is the buffer of a
 * shared WebAssembly.Memory of its own (registered in this thread), or
 * undefined when the size is outside the allocator's range or a Memory
 * cannot be made (then the caller allocates a plain SAB).
 */
export function allocWasmMemory(bytes: number): SharedArrayBuffer | undefined {
  if (bytes < WASM_MEMORY_MIN_BYTES) return undefined;
  return newSharedMemory(Math.ceil(bytes / PAGE));
}
