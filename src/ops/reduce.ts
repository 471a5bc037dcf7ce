// ops.sum, mean, variance, std, min, max, argmin, argmax and the nan* variants:
// over the whole array (a number) or along an axis (a new shared ndarray).
// How the work is split and why the bits do not depend on the thread count:
// README.md, "Reductions"; the arithmetic: reduce-core.ts.
import { Engine } from "../engine/engine.js";
import { SabreTypeError } from "../errors.js";
import { type NumberDType, type NumberTypedArray } from "../memory/dtypes.js";
import { isNdArray, type NdArray } from "../memory/ndarray-type.js";
import { isShared, rowMajorStrides, sharesMemory } from "../memory/shared.js";
import { memoryOf } from "../memory/wasm-memory.js";
import { describe } from "../validate.js";
import { opInput, numberDType, type OpArray } from "./input.js";
import { checkAxis, checkOptions, engineFor, runBeforeDefaultEngine, throwIfAborted, type OpOptions } from "./options.js";
import { withStage } from "./stage.js";
import { freshOutput } from "./fresh-output.js";
import { BLOCK, COL_TILE, GROUP, ROW_BLOCK, ROW_GROUP, SMALL_REDUCTION, WIDTH, reduceLane, tree, type KernelOp } from "./reduce-core.js";
import {
  KERNEL_OP,
  canonical,
  finalize,
  finishTiles,
  indices,
  lanesRange,
  tileCounts,
  tilesRange,
  wholeChunk,
  type AxisArgs,
  type Layout,
  type ReduceName,
  type WholeArgs,
} from "./reduce-run.js";


/** Options of every reduction. */
export interface ReduceOptions extends OpOptions {
  /** The axis to reduce along (negative counts from the end); absent or null: the whole array. */
  axis?: number | null;
  /**
   * Along an axis only: write the result here instead of a new array (as
   * numpy's `out=`): a shared, C-contiguous ndarray of the result's shape and
   * dtype that shares no memory with x. Reusing one output skips the page
   * faults a fresh array costs on every call.
   */
  out?: NdArray;
}

/** Options of variance and std. */
export interface VarianceOptions extends ReduceOptions {
  /** Delta degrees of freedom: the divisor is n - ddof (numpy's default 0). */
  ddof?: number;
}

/** A reduction: a number over the whole array, a shared ndarray along an axis. */
export interface Reducer<O extends ReduceOptions = ReduceOptions> {
  (x: OpArray, options?: O & { axis?: null | undefined }): Promise<number>;
  (x: OpArray, options: O & { axis: number }): Promise<NdArray>;
  (x: OpArray, options?: O): Promise<number | NdArray>;
}

const NEEDS_ELEMENT: ReadonlySet<ReduceName> = new Set(["min", "max", "argmin", "argmax", "nanmin", "nanmax"]);

/** The result of reducing zero elements, as numpy gives it (or a SabreTypeError where numpy raises). */
function emptyResult(name: ReduceName): number {
  if (NEEDS_ELEMENT.has(name)) {
    throw new SabreTypeError(
      `ops.${name}: zero-size array to a reduction operation ${name} which has no identity (numpy raises here too)`,
    );
  }
  return name === "sum" || name === "nansum" ? 0 : NaN;
}

function outDType(name: ReduceName, x: NdArray): NumberDType {
  if (name === "argmin" || name === "argmax") return "int32";
  if (name === "min" || name === "max" || name === "nanmin" || name === "nanmax") return numberDType(x);
  return "float64";
}

// ---- whole array ----------------------------------------------------------------------------

/**
 * Up to this many elements a whole-array sum that the SIMD leaves read in
 * place (a contiguous float array in a Memory: a slab or a large array) runs
 * on the calling thread: at 24-31 GB/s a thread in cache, the work is less
 * than a call through the engine costs on 2 cores. Measured (SABRE_WASM_MEMORY=1,
 * load 1.7-2, two runs): 100k float64 37-47 us here against 134-144 us
 * dispatched, 262,144 65-93 against 139-157, 524,288 129-168 against 135-203,
 * 1M about even. Moments do twice the arithmetic: half as many.
 */
const SIMD_INLINE_SUM = 2 ** 19;
const SIMD_INLINE_MOMENTS = 2 ** 18;

/** True when a whole-array reduction of n elements reads this array with the SIMD leaves and is small enough to run here. */
function simdInline(op: KernelOp, n: number, data: NumberTypedArray, c: Layout): boolean {
  if (op === "sum" ? n > SIMD_INLINE_SUM : op !== "moments" || n > SIMD_INLINE_MOMENTS) return false;
  return c.shape.length === 1 && c.stride[0] === 1 &&
    (data instanceof Float64Array || data instanceof Float32Array) && memoryOf(data.buffer) !== undefined;
}

/** The calling thread's chunk value, for the chunks of a call it takes itself (Engine.parallelForLocal). */
const localOne = new Float64Array(3);

async function reduceWhole(name: ReduceName, l: Layout, data: NumberTypedArray, n: number, ddof: number, o: OpOptions): Promise<number> {
  if (n === 0) return emptyResult(name);
  const op = KERNEL_OP[name];
  const c = canonical(l, op !== "argmin" && op !== "argmax");
  const args: WholeArgs = { op, data, n, offset: c.offset, shape: c.shape, stride: c.stride };
  const w = WIDTH[op];
  const nBlocks = Math.ceil(n / BLOCK);
  const nChunks = Math.ceil(nBlocks / GROUP);
  let part: Float64Array;
  if (n <= SMALL_REDUCTION || simdInline(op, n, data, c) || runBeforeDefaultEngine(o, n)) {
    throwIfAborted(name, o.signal);
    part = new Float64Array(nChunks * w);
    for (let ch = 0; ch < nChunks; ch++) wholeChunk(args, ch * GROUP, Math.min(nBlocks, (ch + 1) * GROUP), part, ch * w);
  } else {
    const engine = await engineFor(o);
    if (w === 1) {
      const values = await engine.parallelForLocal(nBlocks, "sabre.ops.reduceAll", { ...args }, { chunk: GROUP, signal: o.signal }, (b0, b1) => {
        wholeChunk(args, b0, b1, localOne, 0);
        return localOne[0];
      });
      part = Float64Array.from(values as number[]);
    } else {
      // A kept buffer: the same argument set call after call (stage.ts); finished before it goes back.
      return withStage(engine, nChunks * w, async (staged) => {
        await engine.parallelForLocal(nBlocks, "sabre.ops.reduceAll", { ...args, part: staged }, { chunk: GROUP, signal: o.signal }, (b0, b1, ch) => {
          wholeChunk(args, b0, b1, staged, ch * w);
          return undefined;
        });
        return finishWhole(name, op, staged, nChunks, n, ddof);
      });
    }
  }
  return finishWhole(name, op, part, nChunks, n, ddof);
}

/** Merges a whole-array call's chunk partials in the fixed tree and turns them into the op's result. */
function finishWhole(name: ReduceName, op: (typeof KERNEL_OP)[ReduceName], part: Float64Array, nChunks: number, n: number, ddof: number): number {
  tree(op, part, 0, nChunks);
  return finalize(name, part, 0, n, ddof);
}


// ---- along an axis --------------------------------------------------------------------------

/**
 * Elements per unit of work of an axis reduction (lanes, or row tiles). Each
 * unit pays a claim, a kernel call and its setup (the Memory and its
 * WebAssembly instance looked up, a JS merge per lane and tile): at 65,536 a
 * 1M x 24 table made 367-489 units per call. 2^18 makes a quarter of them
 * and still ~90 units for 2 or 3 threads to share.
 */
const AXIS_CHUNK = 2 ** 18;

/** Lanes shorter than this, or more numerous than LANES_FEW, are reduced one lane per unit of work. */
const LANES_FEW = 8;

/** The caller's `out`, checked, or undefined. */
function checkOut(name: ReduceName, out: unknown, x: NdArray, dtype: NumberDType, shape: number[]): NdArray | undefined {
  if (out === undefined) return undefined;
  const want = `a shared ${dtype} ndarray of shape [${shape.join(", ")}]`;
  if (!isNdArray(out) || !isShared(out)) throw new SabreTypeError(`ops.${name}: out must be ${want}, got ${describe(out)}`);
  if (out.dtype !== dtype || out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    throw new SabreTypeError(`ops.${name}: out must be ${want}, got a ${out.dtype} ndarray of shape [${out.shape.join(", ")}]`);
  }
  const rm = rowMajorStrides(shape);
  if (shape.some((d, i) => d > 1 && out.stride[i] !== rm[i])) {
    throw new SabreTypeError(`ops.${name}: out must be C-contiguous (strides [${rm.join(", ")}]), got strides [${out.stride.join(", ")}]`);
  }
  if (sharesMemory(out.data, x.data)) throw new SabreTypeError(`ops.${name}: out must not share memory with x`);
  return out;
}

async function reduceAxis(name: ReduceName, x: NdArray, axis: number, ddof: number, o: ReduceOptions): Promise<NdArray> {
  const outShape = x.shape.filter((_, i) => i !== axis);
  const dtype = outDType(name, x);
  const given = checkOut(name, o.out, x, dtype, outShape);
  const out = given ?? freshOutput(dtype, outShape);
  const lanes = out.size;
  const m = x.shape[axis]!;
  const sa = x.stride[axis]!;
  const outer: Layout = { offset: x.offset, shape: outShape, stride: x.stride.filter((_, i) => i !== axis) };
  const data = x.data as NumberTypedArray;
  const od = (given ? out.data.subarray(out.offset, out.offset + lanes) : out.data) as NumberTypedArray;
  if (lanes === 0) return out;
  if (m === 0) {
    od.fill(emptyResult(name));
    return out;
  }
  const small = lanes * m <= SMALL_REDUCTION || runBeforeDefaultEngine(o, lanes * m);
  // Few lanes: each lane is a whole-array reduction of its own, parallel over its blocks.
  if (lanes <= LANES_FEW && !small) {
    const bases = new Float64Array(lanes);
    indices(outer, 0, lanes, bases);
    for (let p = 0; p < lanes; p++) {
      od[p] = await reduceWhole(name, { offset: bases[p]!, shape: [m], stride: [sa] }, data, m, ddof, o);
    }
    return out;
  }
  const args: AxisArgs = { name, ddof, data, m, sa, outer };
  let inner = Infinity;
  outShape.forEach((len, i) => {
    if (len > 1) inner = Math.min(inner, Math.abs(outer.stride[i]!));
  });
  // The axis is the fastest in memory: each lane streams on its own. Otherwise rows are streamed
  // in tiles, every lane of a tile advancing together (axis 0 of a row-major table).
  const lanesMode = Math.abs(sa) <= inner;
  if (lanesMode) {
    if (small) {
      throwIfAborted(name, o.signal);
      lanesRange(args, od, 0, lanes);
    } else {
      const engine = await engineFor(o);
      const chunk = Math.max(1, Math.floor(AXIS_CHUNK / m));
      if (given || !(od instanceof Float64Array)) {
        await engine.parallelForLocal(lanes, "sabre.ops.reduceLanes", { ...args, out: od }, { chunk, signal: o.signal }, (p0, p1) => {
          lanesRange(args, od, p0, p1);
          return undefined;
        });
      } else {
        // The workers write into a kept buffer (warm pages, the same argument set as the last
        // call's: stage.ts), copied here into the fresh output.
        await withStage(engine, lanes, async (staged) => {
          await engine.parallelForLocal(lanes, "sabre.ops.reduceLanes", { ...args, out: staged }, { chunk, signal: o.signal }, (p0, p1) => {
            lanesRange(args, staged, p0, p1);
            return undefined;
          });
          od.set(staged);
        });
      }
    }
    return out;
  }
  const w = WIDTH[KERNEL_OP[name]];
  const { groups, colTiles } = tileCounts(m, lanes);
  const tasks = groups * colTiles;
  let part: Float64Array;
  if (small) {
    throwIfAborted(name, o.signal);
    part = new Float64Array(lanes * groups * w);
    tilesRange(args, part, 0, tasks);
  } else {
    const engine: Engine = await engineFor(o);
    // About AXIS_CHUNK elements per chunk (short axes make small tiles); grouping tasks changes no bits.
    const chunk = Math.max(1, Math.floor(AXIS_CHUNK / (Math.min(m, ROW_BLOCK * ROW_GROUP) * Math.min(lanes, COL_TILE))));
    // The tiles' partials go into a kept buffer: the same argument set call after call (stage.ts).
    await withStage(engine, lanes * groups * w, async (staged) => {
      await engine.parallelForLocal(tasks, "sabre.ops.reduceTiles", { ...args, part: staged }, { chunk, signal: o.signal }, (t0, t1) => {
        tilesRange(args, staged, t0, t1);
        return undefined;
      });
      finishTiles(args, staged, od);
    });
    return out;
  }
  finishTiles(args, part, od);
  return out;
}

// ---- the ops --------------------------------------------------------------------------------

function reducer<O extends ReduceOptions>(name: ReduceName, extra: readonly string[]): Reducer<O> {
  const run = async (x: OpArray, options?: O): Promise<number | NdArray> => {
    const o = checkOptions<VarianceOptions>(name, options, ["axis", "out", ...extra]);
    let ddof = 0;
    if (o.ddof !== undefined) {
      if (typeof o.ddof !== "number" || !Number.isInteger(o.ddof) || o.ddof < 0) {
        throw new SabreTypeError(`ops.${name}: ddof must be a non-negative integer, got ${describe(o.ddof)}`);
      }
      ddof = o.ddof;
    }
    const arr = opInput(name, x);
    if (o.axis === undefined || o.axis === null) {
      if (o.out !== undefined) throw new SabreTypeError(`ops.${name}: out needs an axis (a whole-array reduction resolves to a number)`);
      const data = arr.data as NumberTypedArray;
      return reduceWhole(name, { offset: arr.offset, shape: arr.shape, stride: arr.stride }, data, arr.size, ddof, o);
    }
    const axis = checkAxis(name, o.axis, arr.shape.length);
    return reduceAxis(name, arr, axis, ddof, o);
  };
  if (name !== "sum" && name !== "mean") return run as Reducer<O>;
  // The call-latency path: a sum or mean of a small contiguous float vector
  // with no options (or only an engine) skips the option, input and layout work (it needs no
  // shared memory: it runs here). It is what the general path computes for
  // such an input, the one chunk's reduceLane then finalize, so the bits
  // are the same (tested against the general path).
  const fast = (x: OpArray, options?: O): Promise<number | NdArray> => {
    if ((options === undefined || onlyEngine(options)) && isNdArray(x) && x.shape.length === 1 && x.stride[0] === 1) {
      const n = x.shape[0]!;
      const data = x.data;
      if (n > 0 && n <= SMALL_REDUCTION && (data instanceof Float64Array || data instanceof Float32Array)) {
        // Over a Memory (a slab), wholeChunk runs the SIMD leaves: the same bits as reduceLane.
        if (n >= BLOCK && memoryOf(data.buffer) !== undefined) wholeChunk({ op: "sum", data, n, offset: x.offset, shape: [n], stride: [1] }, 0, Math.ceil(n / BLOCK), fastPart, 0);
        else reduceLane("sum", data, x.offset, 1, n, 0, fastPart, 0);
        return Promise.resolve(finalize(name, fastPart, 0, n, 0));
      }
    }
    return run(x, options);
  };
  return fast as Reducer<O>;
}

/** True for `{ engine }` alone with a real Engine (anything else takes the checked path). */
function onlyEngine(options: object): boolean {
  let keys = 0;
  for (const key in options) {
    if (key !== "engine") return false;
    keys++;
  }
  return keys === 1 && (options as OpOptions).engine instanceof Engine;
}

/** The fast path's one partial. */
const fastPart = new Float64Array(1);

/** Sum of the elements (float64), pairwise over fixed blocks: numpy's accuracy, the same bits for any thread count. */
export const sum: Reducer = reducer("sum", []);
/** Arithmetic mean (float64); NaN for an empty array, as numpy. */
export const mean: Reducer = reducer("mean", []);
/** Variance, sum((x - mean)^2) / (n - ddof): blockwise two-pass, blocks merged with Chan's formula. */
export const variance: Reducer<VarianceOptions> = reducer<VarianceOptions>("variance", ["ddof"]);
/** Standard deviation: the square root of `variance`. */
export const std: Reducer<VarianceOptions> = reducer<VarianceOptions>("std", ["ddof"]);
/** Smallest element (NaN if any is NaN); x's dtype along an axis. */
export const min: Reducer = reducer("min", []);
/** Largest element (NaN if any is NaN); x's dtype along an axis. */
export const max: Reducer = reducer("max", []);
/** Row-major index of the first smallest element (of the first NaN if any); int32 along an axis. */
export const argmin: Reducer = reducer("argmin", []);
/** Row-major index of the first largest element (of the first NaN if any); int32 along an axis. */
export const argmax: Reducer = reducer("argmax", []);
/** Sum ignoring NaN (0 when every element is NaN). */
export const nansum: Reducer = reducer("nansum", []);
/** Mean of the non-NaN elements (NaN when there are none). */
export const nanmean: Reducer = reducer("nanmean", []);
/** Smallest non-NaN element (NaN when there are none). */
export const nanmin: Reducer = reducer("nanmin", []);
/** Largest non-NaN element (NaN when there are none). */
export const nanmax: Reducer = reducer("nanmax", []);
