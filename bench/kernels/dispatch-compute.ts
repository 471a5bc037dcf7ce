// The sabre kernels of the dispatch benchmark's scaling rows: one bound by
// memory bandwidth (a sum, 8 bytes read per add) and one bound by the FPU
// (a chain of sin/sqrt per element, almost no memory traffic). Both fold into
// a reduction clause, so the result is the same bits for any thread count.
import { defineKernels, type NdArray } from "sabre/worker";

type F64 = NdArray<Float64Array>;
type Acc = { value: number };

/** The per-element work of the compute-bound kernel; the benchmark checks results against it. */
export function trig(v: number, rounds: number): number {
  let y = v;
  for (let r = 0; r < rounds; r++) y = Math.sin(y) + Math.sqrt(y * y + 1);
  return y;
}

export default defineKernels({
  /** total += x[start..end), read straight off the shared buffer. */
  "bench.sum"({ start, end }, { x, total }: { x: F64; total: Acc }) {
    const d = x.data;
    const o = x.offset;
    let s = 0;
    for (let i = start; i < end; i++) s += d[o + i]!;
    total.value += s;
  },
  /** total += trig(x[i], rounds) over the chunk. */
  "bench.trig"({ start, end }, { x, rounds, total }: { x: F64; rounds: number; total: Acc }) {
    const d = x.data;
    const o = x.offset;
    let s = 0;
    for (let i = start; i < end; i++) s += trig(d[o + i]!, rounds);
    total.value += s;
  },
});
