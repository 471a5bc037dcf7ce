// The arithmetic of ops.cumsum, shared by the workers and the calling thread.
//
// A lane (the elements along the axis) is cut into fixed blocks of
// CUMSUM_BLOCK elements. Block b of a lane starts from the offset
// O_b = O_{b-1} + S_{b-1} (O_0 = 0), where S_b is the plain left-to-right
// sum of block b, and adds its elements one by one from there. A lane no
// longer than one block is therefore numpy's sequential cumsum, bit for bit;
// a longer one is two parallel passes (block sums, then the fill from the
// offsets) whose every operation is fixed by the lane and the block size,
// never by the thread count or by which unit of work ran where.
import type { NumberTypedArray } from "../memory/dtypes.js";
import { BLOCK, Scratch, gather, toF64 } from "./reduce-core.js";
import { indices, type Layout } from "./reduce-run.js";

/** Elements per block along the axis. */
export const CUMSUM_BLOCK = 32768;
/** Lanes per unit of work when rows are streamed (the axis is not the fastest in memory). */
const ROW_LANES = 256;

export interface CumsumArgs {
  data: NumberTypedArray;
  /** Elements along the axis and their stride in x, then in out. */
  m: number;
  sa: number;
  so: number;
  /** The other axes: in x (x's strides and offset) and in out (row-major, offset 0). */
  outerX: Layout;
  outerOut: Layout;
  lanes: number;
  /** Row mode: every lane of a unit advances one row at a time. */
  rowMode: boolean;
}

/** How the lanes x blocks are cut into units of work (unit t: block t / laneTiles, lane tile t % laneTiles). */
export function cumsumUnits(a: Pick<CumsumArgs, "m" | "lanes" | "rowMode">): { blocks: number; laneTile: number; laneTiles: number; units: number } {
  const blocks = Math.ceil(a.m / CUMSUM_BLOCK);
  const laneTile = a.rowMode ? ROW_LANES : Math.max(1, Math.floor(65536 / Math.min(a.m, CUMSUM_BLOCK)));
  const laneTiles = Math.ceil(a.lanes / laneTile);
  return { blocks, laneTile, laneTiles, units: blocks * laneTiles };
}

const xb = new Scratch();
const ob = new Scratch();
const acc = new Scratch();
const rowBuf = new Scratch();

/**
 * Units [t0, t1). Without `out`: pass 1, the block sums into sums[lane * blocks + b].
 * With `out`: the fill, each block starting from offs[lane * blocks + b] (absent: 0).
 */
export function cumsumUnitsRange(
  a: CumsumArgs,
  t0: number,
  t1: number,
  sums: Float64Array | undefined,
  out: Float64Array | undefined,
  offs: Float64Array | undefined,
): void {
  const { blocks, laneTile, laneTiles } = cumsumUnits(a);
  const d = a.data;
  for (let t = t0; t < t1; t++) {
    const b = Math.floor(t / laneTiles);
    const l0 = (t % laneTiles) * laneTile;
    const cnt = Math.min(laneTile, a.lanes - l0);
    const r0 = b * CUMSUM_BLOCK;
    const len = Math.min(CUMSUM_BLOCK, a.m - r0);
    const bx = xb.get(cnt);
    indices(a.outerX, l0, cnt, bx);
    const bo = ob.get(cnt);
    if (out) indices(a.outerOut, l0, cnt, bo);
    if (!a.rowMode) {
      for (let j = 0; j < cnt; j++) {
        const at = (l0 + j) * blocks + b;
        let s = out && offs ? offs[at]! : 0;
        let p = bx[j]! + r0 * a.sa;
        let q = bo[j]! + r0 * a.so;
        // Pieces of BLOCK elements, so the adding loops read only float64 (reduce-core.ts, "float64 views").
        for (let i0 = 0; i0 < len; i0 += BLOCK) {
          const c = Math.min(BLOCK, len - i0);
          let src: Float64Array, sp: number, ss: number;
          if (d instanceof Float64Array) [src, sp, ss] = [d, p, a.sa];
          else [src, sp, ss] = [toF64(d, p, a.sa, c), 0, 1];
          if (out) {
            for (let i = 0; i < c; i++, sp += ss, q += a.so) {
              s += src[sp]!;
              out[q] = s;
            }
          } else {
            for (let i = 0; i < c; i++, sp += ss) s += src[sp]!;
          }
          p += c * a.sa;
        }
        if (!out) sums![at] = s;
      }
      continue;
    }
    const ac = acc.get(cnt);
    const row = rowBuf.get(cnt);
    for (let j = 0; j < cnt; j++) ac[j] = out && offs ? offs[(l0 + j) * blocks + b]! : 0;
    for (let i = 0; i < len; i++) {
      gather(d, bx, (r0 + i) * a.sa, cnt, row);
      if (out) {
        const po = (r0 + i) * a.so;
        for (let j = 0; j < cnt; j++) {
          const s = ac[j]! + row[j]!;
          ac[j] = s;
          out[bo[j]! + po] = s;
        }
      } else {
        for (let j = 0; j < cnt; j++) ac[j] = ac[j]! + row[j]!;
      }
    }
    if (!out) for (let j = 0; j < cnt; j++) sums![(l0 + j) * blocks + b] = ac[j]!;
  }
}

/** Turns block sums into block offsets, lane by lane, left to right (in place). */
export function blockOffsets(sums: Float64Array, lanes: number, blocks: number): void {
  for (let l = 0; l < lanes; l++) {
    let o = 0;
    for (let b = 0; b < blocks; b++) {
      const s = sums[l * blocks + b]!;
      sums[l * blocks + b] = o;
      o += s;
    }
  }
}
