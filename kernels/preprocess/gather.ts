// Worker side of trainTestSplit / shuffle (src/ml/preprocess/split.ts):
// rows picked by an index vector are copied into new contiguous arrays.
// One call gathers every array of the split: position i of the index
// vector goes to row i of `first` when i < cut, else to row i - cut of
// `second` (train then test), so a chunk touches each output once.
import { defineKernels } from "../../src/engine/define.js";
import type { KernelContext } from "../../src/engine/define.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";

/** One array to gather: a 1-D or 2-D source (any strides, any dtype) and its contiguous outputs. */
export interface GatherPart {
  src: NdArray;
  first: NdArray;
  /** Null when every row goes to `first` (shuffle). */
  second: NdArray | null;
}

export interface GatherJob {
  /** Source row of each output position. */
  idx: Uint32Array;
  cut: number;
  parts: GatherPart[];
}

type Elements = { [i: number]: number | bigint; subarray(a: number, b: number): Elements; set(src: Elements, at: number): void };

/** Below this row width an element loop beats creating a subarray view per row. */
const SET_MIN = 48;

export function gatherPart(part: GatherPart, idx: Uint32Array, cut: number, i0: number, i1: number): void {
  const { src } = part;
  const s = src.data as unknown as Elements;
  const off = src.offset;
  const s0 = src.stride[0]!;
  const d = src.shape.length === 2 ? src.shape[1]! : 1;
  const s1 = src.shape.length === 2 ? src.stride[1]! : 1;
  // Two runs: [i0, min(i1, cut)) into first, [max(i0, cut), i1) into second.
  const runs: Array<[NdArray, number, number, number]> = [];
  if (i0 < cut) runs.push([part.first, Math.min(i1, cut), i0, 0]);
  if (i1 > cut && part.second) runs.push([part.second, i1, Math.max(i0, cut), cut]);
  for (const [dstArr, end, begin, base] of runs) {
    const t = dstArr.data as unknown as Elements;
    const tOff = dstArr.offset;
    if (d === 1) {
      for (let i = begin, q = tOff + (begin - base); i < end; i++, q++) t[q] = s[off + idx[i]! * s0]!;
    } else if (s1 === 1 && d >= SET_MIN) {
      for (let i = begin, q = tOff + (begin - base) * d; i < end; i++, q += d) {
        const p = off + idx[i]! * s0;
        t.set(s.subarray(p, p + d), q);
      }
    } else {
      for (let i = begin, q = tOff + (begin - base) * d; i < end; i++) {
        const p0 = off + idx[i]! * s0;
        for (let j = 0, p = p0; j < d; j++, p += s1, q++) t[q] = s[p]!;
      }
    }
  }
}

export default defineKernels({
  "sabre.preprocess.gatherRows"({ start, end }: KernelContext, job: GatherJob): void {
    for (const part of job.parts) gatherPart(part, job.idx, job.cut, start, end);
  },
});
