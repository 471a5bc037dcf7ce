// Large user arrays live in a shared WebAssembly.Memory rather than a plain
// SharedArrayBuffer. A shared Memory's `.buffer` IS a SharedArrayBuffer, so
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

/** Arrays of at least this many bytes are allocated in a shared WebAssembly.Memory. */
export const WASM_MEMORY_MIN_BYTES = 16 * 2 ** 20;
const PAGE = 65536;
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
 * Registers a Memory revived in this thread; returns its buffer (the one views must be made over).
 *
 * Every message that carries a Memory revives a new wrapper object of the
 * same backing store, and whatever this thread cached per Memory (its
 * WebAssembly instance, its scratch page) would be made again for each:
 * measured, a worker grew the array's memory by one scratch page per call
 * and instantiated the leaves again, and once the 64 spare pages were gone
 * (32 calls on 2 workers) every later call fell back to the JS leaves. So a
 * revived Memory that is one this thread already holds is recognised and the
 * one held is returned: this thread writes a fresh random stamp into its own
 * scratch page of each Memory it holds (nobody else reads or writes that
 * page) and reads the same address through the new Memory's buffer; the
 * stamp is there only if both are views of one store. A held Memory without
 * a scratch page cannot be told apart: the new one is kept, and gets its own
 * page (and then serves as the reference) if a kernel asks for one.
 */
export function adoptMemory(memory: WasmMemory): SharedArrayBuffer {
  const same = heldAlias(memory);
  const kept = same ?? memory;
  if (same === undefined) held.add(new WeakRef(memory));
  const buffer = kept.buffer;
  memories.set(buffer, kept);
  return buffer;
}

/** The Memories this thread has adopted (weakly: an array's wrapper goes when nothing uses it). */
const held = new Set<WeakRef<WasmMemory>>();
const stampWords = new Uint32Array(2);

/** The Memory held in this thread over the same store as `memory`, found by a stamp in a held scratch page; or undefined. */
function heldAlias(memory: WasmMemory): WasmMemory | undefined {
  const bytes = memory.buffer.byteLength;
  for (const ref of held) {
    const h = ref.deref();
    if (h === undefined) {
      held.delete(ref);
      continue;
    }
    if (h === memory) return h;
    const s = scratches.get(h);
    if (s === undefined || s === null || s.byteOffset + 8 > bytes) continue;
    // A random 64-bit stamp: two distinct stores agree on it by chance with probability 2^-64.
    stampWords[0] = (Math.random() * 2 ** 32) >>> 0;
    stampWords[1] = (Math.random() * 2 ** 32) >>> 0;
    const mine = new Uint32Array(s.buffer, s.byteOffset, 2);
    mine[0] = stampWords[0];
    mine[1] = stampWords[1];
    const theirs = new Uint32Array(memory.buffer, s.byteOffset, 2);
    if (theirs[0] === stampWords[0] && theirs[1] === stampWords[1]) return h;
  }
  return undefined;
}

/**
 * Pages a Memory may grow by beyond its array: one scratch page per thread
 * that runs a WebAssembly kernel needing one (scratchOf), so up to this many
 * threads per array; beyond that, kernels fall back to JS.
 */
const SCRATCH_PAGES = 64;

const scratches = new WeakMap<WasmMemory, Float64Array | null>();

/**
 * This thread's own 64 KiB scratch page in `memory`, as 8,192 float64 (a
 * WebAssembly kernel over an array writes its partials there, and JS reads
 * them in place), made on first use by growing the memory one page: grow
 * returns the old size atomically, so each thread's page is its own. null
 * when the memory cannot grow (its maximum is reached).
 */
export function scratchOf(memory: WasmMemory): Float64Array | null {
  let s = scratches.get(memory);
  if (s === undefined) {
    try {
      const page = memory.grow(1);
      s = new Float64Array(memory.buffer, page * PAGE, PAGE / 8);
    } catch {
      s = null;
    }
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
 * A SharedArrayBuffer of at least `bytes` bytes that is the buffer of a
 * shared WebAssembly.Memory (registered in this thread), or undefined when
 * the size is outside the allocator's range or a Memory cannot be made
 * (then the caller allocates a plain SAB; the failure is remembered).
 */
export function allocWasmMemory(bytes: number): SharedArrayBuffer | undefined {
  if (!enabled || bytes < WASM_MEMORY_MIN_BYTES || typeof WebAssembly !== "object" || !wanted()) return undefined;
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) return undefined;
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
  return adoptMemory(memory);
}
