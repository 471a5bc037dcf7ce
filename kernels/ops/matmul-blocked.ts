// The blocked matrix product behind ops.matmul and ops.dot, after the
// GotoBLAS layout: B is packed into KC x NC panels (nr columns wide), A into
// MC x KC panels (mr rows tall), and a register-blocked micro-kernel runs
// over them. Packing reads any strides and any dtype into float scratch, so
// transposed and sliced views cost only the packing.
//
// Precision: float64 products sum in float64. float32 ones (both operands
// float32) sum in float32 in the WebAssembly kernel, as numpy's sgemm does
// (4 lanes: twice the float64 speed); the JS fallback sums them in float64.
//
// Determinism: every element of C is the sum over k-blocks (KC, fixed) in
// order, each block summed from 0 in k order, whatever the rows a worker
// gets, so the bits do not depend on the thread count.
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { KC, MC, MR, NC, NR, NR32, WASM_MR } from "./matmul-sizes.js";
import { A_OFF, B_OFF, C_OFF, matmulWasm } from "./matmul-wasm.js";

export { KC, MC, MR, NC, NR };

export interface MatmulArgs {
  a: NdArray;
  b: NdArray;
  c: NdArray;
  /** Rows of C per unit of work (a multiple of MR, at most MC): smaller for short matrices so every worker gets some. */
  rows: number;
}

type Gebp = (kc: number, mc: number, nc: number, ap: number, bp: number, ct: number, ldc: number) => void;

/** Packing buffers and the inner loops that read them. */
interface Scratch {
  ap: Float64Array | Float32Array;
  bp: Float64Array | Float32Array;
  ct: Float64Array | Float32Array;
  /** Tile width (columns). */
  nr: number;
  /** Tile height: the JS kernel's MR or the WebAssembly one's WASM_MR. */
  mr: number;
  /** The WebAssembly inner loops over these same buffers (in its memory), or null for the JS ones. */
  gebp: Gebp | null;
}
let jsScratch: Scratch | undefined;
let wasmScratch: { f64: Scratch; f32: Scratch } | null | undefined;
/**
 * This thread's packing buffers: in the WebAssembly module's memory when it
 * runs (float32 products then sum in float32, 4 lanes), else JS ones.
 */
function getScratch(useWasm: boolean, float32: boolean): Scratch {
  if (useWasm) {
    if (wasmScratch === undefined) {
      const w = matmulWasm();
      const buf = w?.memory.buffer;
      wasmScratch = w && buf ? {
        f64: {
          ap: new Float64Array(buf, A_OFF, (MC + 8) * KC),
          bp: new Float64Array(buf, B_OFF, KC * NC),
          ct: new Float64Array(buf, C_OFF, (MC + 8) * NC),
          nr: NR,
          mr: WASM_MR,
          gebp: w.gebp,
        },
        f32: {
          ap: new Float32Array(buf, A_OFF, (MC + 8) * KC),
          bp: new Float32Array(buf, B_OFF, KC * NC),
          ct: new Float32Array(buf, C_OFF, (MC + 8) * NC),
          nr: NR32,
          mr: WASM_MR,
          gebp: w.gebp32,
        },
      } : null;
    }
    if (wasmScratch) return float32 ? wasmScratch.f32 : wasmScratch.f64;
  }
  jsScratch ??= { ap: new Float64Array(MC * KC), bp: new Float64Array(KC * NC), ct: new Float64Array(MC * NC), nr: NR, mr: MR, gebp: null };
  return jsScratch;
}

/** Whether matmul runs its inner loops in WebAssembly SIMD on this thread (false: the JS micro-kernel). */
export function matmulUsesWasm(): boolean {
  return getScratch(true, false).gebp !== null;
}

/** Packs A[i0 .. i0+mc, p0 .. p0+kc] into mr-row panels: ap[panel * kc * mr + p * mr + r], rows past mc zero. */
function packA(a: NdArray, i0: number, mc: number, p0: number, kc: number, ap: Float64Array | Float32Array, mr: number): void {
  const d = a.data as ArrayLike<number>;
  const rs = a.stride[0]!;
  const cs = a.stride[1]!;
  let q = 0;
  for (let ir = 0; ir < mc; ir += mr) {
    const rows = Math.min(mr, mc - ir);
    const base = a.offset + (i0 + ir) * rs + p0 * cs;
    for (let p = 0; p < kc; p++) {
      const col = base + p * cs;
      for (let r = 0; r < mr; r++) ap[q++] = r < rows ? d[col + r * rs]! : 0;
    }
  }
}

/** Packs B[p0 .. p0+kc, j0 .. j0+nc] into nr-column panels: bp[panel * kc * nr + p * nr + c], columns past nc zero. */
function packB(b: NdArray, p0: number, kc: number, j0: number, nc: number, bp: Float64Array | Float32Array, nr: number): void {
  const d = b.data as ArrayLike<number>;
  const rs = b.stride[0]!;
  const cs = b.stride[1]!;
  let q = 0;
  for (let jr = 0; jr < nc; jr += nr) {
    const cols = Math.min(nr, nc - jr);
    const base = b.offset + p0 * rs + (j0 + jr) * cs;
    for (let p = 0; p < kc; p++) {
      const row = base + p * rs;
      if (cols === nr && cs === 1) {
        for (let c = 0; c < nr; c++) bp[q++] = d[row + c]!;
      } else {
        for (let c = 0; c < nr; c++) bp[q++] = c < cols ? d[row + c * cs]! : 0;
      }
    }
  }
}

/** ct[ci .. +MR, .. +NR] (row length ldc) += A panel x B panel over kc. */
function micro(kc: number, ap: Float64Array | Float32Array, ai: number, bp: Float64Array | Float32Array, bi: number, ct: Float64Array | Float32Array, ci: number, ldc: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = ap[ai]!, a1 = ap[ai + 1]!, a2 = ap[ai + 2]!, a3 = ap[ai + 3]!;
    const b0 = bp[bi]!, b1 = bp[bi + 1]!, b2 = bp[bi + 2]!, b3 = bp[bi + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ai += MR;
    bi += NR;
  }
  ct[ci] = ct[ci]! + c00; ct[ci + 1] = ct[ci + 1]! + c01; ct[ci + 2] = ct[ci + 2]! + c02; ct[ci + 3] = ct[ci + 3]! + c03;
  ci += ldc;
  ct[ci] = ct[ci]! + c10; ct[ci + 1] = ct[ci + 1]! + c11; ct[ci + 2] = ct[ci + 2]! + c12; ct[ci + 3] = ct[ci + 3]! + c13;
  ci += ldc;
  ct[ci] = ct[ci]! + c20; ct[ci + 1] = ct[ci + 1]! + c21; ct[ci + 2] = ct[ci + 2]! + c22; ct[ci + 3] = ct[ci + 3]! + c23;
  ci += ldc;
  ct[ci] = ct[ci]! + c30; ct[ci + 1] = ct[ci + 1]! + c31; ct[ci + 2] = ct[ci + 2]! + c32; ct[ci + 3] = ct[ci + 3]! + c33;
}

/**
 * C[blocks of `rows` rows, from block `start` to `end`) = A B. C is a new
 * C-contiguous float32 or float64 array (values are summed in float64 and
 * rounded once when C is float32).
 */
export function matmulBlocks({ a, b, c, rows }: MatmulArgs, start: number, end: number, useWasm = true): void {
  const m = a.shape[0]!;
  const k = a.shape[1]!;
  const n = b.shape[1]!;
  const { ap, bp, ct, gebp, mr, nr } = getScratch(useWasm, c.dtype === "float32");
  const cd = c.data as unknown as { [i: number]: number };
  const ldOut = c.stride[0]!;
  for (let blk = start; blk < end; blk++) {
    const i0 = blk * rows;
    const mc = Math.min(rows, m - i0);
    if (mc <= 0) break;
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = Math.min(NC, n - j0);
      const ldc = Math.ceil(nc / nr) * nr;
      const mcPadded = Math.ceil(mc / mr) * mr;
      ct.fill(0, 0, mcPadded * ldc);
      for (let p0 = 0; p0 < k; p0 += KC) {
        const kc = Math.min(KC, k - p0);
        packB(b, p0, kc, j0, nc, bp, nr);
        packA(a, i0, mc, p0, kc, ap, mr);
        if (gebp) {
          gebp(kc, mcPadded, ldc, A_OFF, B_OFF, C_OFF, ldc * ct.BYTES_PER_ELEMENT);
          continue;
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const bi = (jr / NR) * kc * NR;
          for (let ir = 0; ir < mc; ir += MR) micro(kc, ap, (ir / MR) * kc * MR, bp, bi, ct, ir * ldc + jr, ldc);
        }
      }
      for (let i = 0; i < mc; i++) {
        const row = c.offset + (i0 + i) * ldOut + j0;
        const src = i * ldc;
        for (let j = 0; j < nc; j++) cd[row + j] = ct[src + j]!;
      }
    }
  }
}
