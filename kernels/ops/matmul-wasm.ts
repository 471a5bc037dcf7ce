// A WebAssembly SIMD version of the matmul inner loops (every micro-tile of
// one packed A block times one packed B panel), emitted as bytes by the
// code below: no toolchain, no download, nothing to build. It computes
// exactly what the JS micro-kernel computes (per element: products rounded,
// then added in k order from 0, then added to the C tile; no FMA), two
// columns per f64x2 lane pair, so the two paths give the same bits.
//
// Layout in the module's own memory (byte offsets): packed A at A_OFF,
// packed B at B_OFF, the C tile at C_OFF, sized for MC x KC, KC x NC, MC x NC.
import { KC, MC, NC, NR, NR32, WASM_MR, WASM_UNROLL } from "./matmul-sizes.js";
import {
  BLOCK, BR, BR_IF, END, F32_LOAD, F32X4_ADD, F32X4_MUL, F32X4_SPLAT, F64_LOAD, F64X2_ADD, F64X2_MUL, F64X2_SPLAT, GET, I32,
  I32_ADD, I32_CONST, I32_GE_S, I32_LE_S, I32_MUL, I32_SUB, instantiate, LOOP, mem, section, SET, sleb, uleb, V128, V128_CONST,
  V128_LOAD, V128_STORE, vec, VOID, name,
} from "./wasm-emit.js";

export const A_OFF = 0;
export const B_OFF = A_OFF + (MC + 8) * KC * 8;
export const C_OFF = B_OFF + KC * NC * 8;
// A and C blocks hold MC rows rounded up to a multiple of the tile height.
const BYTES = C_OFF + (MC + 8) * NC * 8;
const PAGES = Math.ceil(BYTES / 65536);

// Parameters, then locals.
const P_KC = 0, P_MC = 1, P_NC = 2, P_AP = 3, P_BP = 4, P_CT = 5, P_LDC = 6;
const L_JR = 7, L_IR = 8, L_P = 9, L_PA = 10, L_PB = 11, L_C = 12;
const L_ACC = 13; // 2 * mr v128 accumulators: row r, column pair h at L_ACC + 2r + h

/**
 * The inner loops for micro-tiles of mr rows x two vectors of columns:
 * float64 (f64x2 lanes, NR = 4 columns) or float32 (f32x4, NR32 = 8).
 */
function gebpBody(mr: number, unroll: number, f32: boolean): number[] {
  const L_B0 = L_ACC + 2 * mr, L_B1 = L_B0 + 1, L_A = L_B0 + 2;
  const esz = f32 ? 4 : 8;
  const nr = f32 ? NR32 : NR;
  const LOAD = f32 ? F32_LOAD : F64_LOAD;
  const [SPLAT, ADD, MUL] = f32 ? [F32X4_SPLAT, F32X4_ADD, F32X4_MUL] : [F64X2_SPLAT, F64X2_ADD, F64X2_MUL];
  const c: number[] = [];
  const get = (l: number): void => void c.push(GET, ...uleb(l));
  const set = (l: number): void => void c.push(SET, ...uleb(l));
  const i32 = (v: number): void => void c.push(I32_CONST, ...sleb(v));
  // for (jr = 0; jr < nc; jr += nr)
  i32(0); set(L_JR);
  c.push(BLOCK, VOID, LOOP, VOID);
  get(L_JR); get(P_NC); c.push(I32_GE_S, BR_IF, 1);
  //   for (ir = 0; ir < mc; ir += mr)
  i32(0); set(L_IR);
  c.push(BLOCK, VOID, LOOP, VOID);
  get(L_IR); get(P_MC); c.push(I32_GE_S, BR_IF, 1);
  //     pa = ap + ir * kc * esz; pb = bp + jr * kc * esz
  get(P_AP); get(L_IR); get(P_KC); c.push(I32_MUL); i32(esz); c.push(I32_MUL, I32_ADD); set(L_PA);
  get(P_BP); get(L_JR); get(P_KC); c.push(I32_MUL); i32(esz); c.push(I32_MUL, I32_ADD); set(L_PB);
  for (let i = 0; i < 2 * mr; i++) {
    c.push(...V128_CONST, ...new Array(16).fill(0));
    set(L_ACC + i);
  }
  // One k step at byte offsets (oa, ob) from pa, pb: every accumulator += a_r * b.
  const step = (oa: number, ob: number): void => {
    get(L_PB); c.push(...V128_LOAD, ...mem(3, ob)); set(L_B0);
    get(L_PB); c.push(...V128_LOAD, ...mem(3, ob + 16)); set(L_B1);
    for (let r = 0; r < mr; r++) {
      get(L_PA); c.push(LOAD, ...mem(f32 ? 2 : 3, oa + r * esz), ...SPLAT); set(L_A);
      for (let h = 0; h < 2; h++) {
        get(L_ACC + 2 * r + h); get(L_A); get(h === 0 ? L_B0 : L_B1); c.push(...MUL, ...ADD); set(L_ACC + 2 * r + h);
      }
    }
  };
  // k loop unrolled `unroll` times (pointer bumps and the branch amortized), then single steps.
  get(P_KC); set(L_P);
  c.push(BLOCK, VOID);
  get(L_P); i32(unroll); c.push(0x48 /* i32.lt_s */, BR_IF, 0);
  c.push(LOOP, VOID);
  for (let u = 0; u < unroll; u++) step(u * mr * esz, u * nr * esz);
  get(L_PA); i32(unroll * mr * esz); c.push(I32_ADD); set(L_PA);
  get(L_PB); i32(unroll * nr * esz); c.push(I32_ADD); set(L_PB);
  get(L_P); i32(unroll); c.push(I32_SUB); set(L_P);
  get(L_P); i32(unroll); c.push(I32_GE_S, BR_IF, 0);
  c.push(END, END);
  c.push(BLOCK, VOID);
  get(L_P); i32(0); c.push(I32_LE_S, BR_IF, 0);
  c.push(LOOP, VOID);
  step(0, 0);
  get(L_PA); i32(mr * esz); c.push(I32_ADD); set(L_PA);
  get(L_PB); i32(nr * esz); c.push(I32_ADD); set(L_PB);
  get(L_P); i32(1); c.push(I32_SUB); set(L_P);
  get(L_P); i32(0); c.push(0x4a /* i32.gt_s */, BR_IF, 0);
  c.push(END, END);
  //     the C tile += accumulators: c = ct + ir * ldc + jr * esz
  get(P_CT); get(L_IR); get(P_LDC); c.push(I32_MUL, I32_ADD); get(L_JR); i32(esz); c.push(I32_MUL, I32_ADD); set(L_C);
  for (let r = 0; r < mr; r++) {
    for (let h = 0; h < 2; h++) {
      get(L_C); get(L_C); c.push(...V128_LOAD, ...mem(3, h * 16)); get(L_ACC + 2 * r + h); c.push(...ADD, ...V128_STORE, ...mem(3, h * 16));
    }
    if (r < mr - 1) { get(L_C); get(P_LDC); c.push(I32_ADD); set(L_C); }
  }
  get(L_IR); i32(mr); c.push(I32_ADD); set(L_IR);
  c.push(BR, 0, END, END);
  get(L_JR); i32(nr); c.push(I32_ADD); set(L_JR);
  c.push(BR, 0, END, END);
  c.push(END);
  const locals = vec([[...uleb(6), I32], [...uleb(2 * mr + 3), V128]]);
  return [...locals, ...c];
}

/**
 * The module's bytes: exports "memory", gebp (float64) and gebp32 (float32),
 * each (kc, mcPadded, ncPadded, apByte, bpByte, ctByte, ldcBytes).
 */
export function matmulWasmBytes(mr = WASM_MR, unroll = WASM_UNROLL): Uint8Array {
  const type = [0x60, ...vec(new Array(7).fill([I32])), ...vec([])];
  const body = gebpBody(mr, unroll, false);
  const body32 = gebpBody(mr, unroll, true);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type])),
    ...section(3, vec([uleb(0), uleb(0)])),
    ...section(5, vec([[0x00, ...uleb(PAGES)]])),
    ...section(7, vec([[...name("memory"), 0x02, 0], [...name("gebp"), 0x00, 0], [...name("gebp32"), 0x00, 1]])),
    ...section(10, vec([[...uleb(body.length), ...body], [...uleb(body32.length), ...body32]])),
  ];
  return Uint8Array.from(bytes);
}

export interface MatmulWasm {
  memory: { buffer: ArrayBuffer };
  gebp: Gebp;
  gebp32: Gebp;
}
type Gebp = (kc: number, mc: number, nc: number, ap: number, bp: number, ct: number, ldc: number) => void;

let instance: MatmulWasm | null | undefined;

/** This thread's instance, or null where WebAssembly SIMD is missing (then the JS kernel runs). */
export function matmulWasm(): MatmulWasm | null {
  if (instance !== undefined) return instance;
  instance = instantiateMatmulWasm(WASM_MR);
  return instance;
}

/** A fresh instance for tiles of mr rows, or null where WebAssembly SIMD is missing. */
export function instantiateMatmulWasm(mr: number, unroll = WASM_UNROLL): MatmulWasm | null {
  return instantiate<MatmulWasm>(matmulWasmBytes(mr, unroll));
}
