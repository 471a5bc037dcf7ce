// ops.dot and ops.matmul: numpy's products of 1-D and 2-D arrays, over
// shared ndarrays of any dtype and strides (transposed views included).
import { SabreTypeError } from "../errors.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { shared } from "../memory/shared.js";
import { MC, MR, matmulBlocks, type MatmulArgs } from "../../kernels/ops/matmul-blocked.js";
import { DOT_BLOCK, dotBlocks, matvecRows, type DotArgs, type MatvecArgs } from "../../kernels/ops/matmul-dot.js";
import { checkOptions, engineFor, throwIfAborted, type OpOptions } from "./options.js";
import { opInput, type OpArray } from "./input.js";

/**
 * Below these sizes a product runs on the calling thread: a dispatch costs
 * ~100-150 us on this machine under load, what the blocked kernel needs for
 * ~2^17 multiply-adds (it runs ~1 GFLOP/s per thread) and a dot or a
 * matrix-vector product for ~64k elements.
 */
const INLINE_MULADDS = 1 << 17;
const INLINE_ELEMENTS = 1 << 16;

const fmt = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/** float32 when both operands are float32; float64 otherwise (integers included), as numpy's float result. */
function productDType(a: NdArray, b: NdArray): "float32" | "float64" {
  return a.dtype === "float32" && b.dtype === "float32" ? "float32" : "float64";
}

function checkRank(op: string, x: NdArray, name: string, ranks: readonly number[]): void {
  if (!ranks.includes(x.shape.length)) {
    throw new SabreTypeError(`ops.${op}: ${name} must be ${ranks.map((r) => `${r}-D`).join(" or ")}, got shape ${fmt(x.shape)}`);
  }
}

/**
 * numpy's dot for 1-D and 2-D arrays: 1-D . 1-D is the inner product (a
 * number), 2-D . 1-D and 1-D . 2-D are matrix-vector products, 2-D . 2-D is
 * matmul. Sums are in float64, in an order fixed by the shapes alone (the
 * same bits for any thread count).
 */
export async function dot(a: OpArray, b: OpArray, options?: OpOptions): Promise<number | NdArray> {
  const opts = checkOptions<OpOptions>("dot", options, []);
  const x = opInput("dot", a, "a");
  const y = opInput("dot", b, "b");
  checkRank("dot", x, "a", [1, 2]);
  checkRank("dot", y, "b", [1, 2]);
  if (x.shape.length === 2 && y.shape.length === 2) return matmulChecked("dot", x, y, opts);
  const k = x.shape[x.shape.length - 1]!;
  const ky = y.shape[0]!;
  if (k !== ky) {
    throw new SabreTypeError(`ops.dot: a of shape ${fmt(x.shape)} and b of shape ${fmt(y.shape)} are not aligned (${k} != ${ky})`);
  }
  if (x.shape.length === 1 && y.shape.length === 1) return vectorDot(x, y, opts);
  // 1-D . 2-D is (B^T) . a: a transposed view, no copy.
  const [m, v] = x.shape.length === 2 ? [x, y] : [y.transpose(1, 0), x];
  const out = shared.zeros(productDType(x, y), [m.shape[0]!]);
  const args: MatvecArgs = { a: m, v, out };
  if (m.shape[0]! * k < INLINE_ELEMENTS) {
    throwIfAborted("dot", opts.signal);
    matvecRows(args, 0, m.shape[0]!);
  } else {
    const engine = await engineFor(opts);
    await engine.parallelForLocal(m.shape[0]!, "sabre.ops.matvec", args as unknown as Record<string, unknown>, { signal: opts.signal }, (r0, r1) => {
      matvecRows(args, r0, r1);
      return undefined;
    });
  }
  return out;
}

async function vectorDot(x: NdArray, y: NdArray, opts: OpOptions): Promise<number> {
  const n = x.shape[0]!;
  const blocks = Math.ceil(n / DOT_BLOCK);
  const partials = shared.zeros("float64", [blocks]);
  const args: DotArgs = { x, y, partials };
  if (n < INLINE_ELEMENTS) {
    throwIfAborted("dot", opts.signal);
    dotBlocks(args, 0, blocks);
  } else {
    const engine = await engineFor(opts);
    await engine.parallelForLocal(blocks, "sabre.ops.dot", args as unknown as Record<string, unknown>, { signal: opts.signal }, (b0, b1) => {
      dotBlocks(args, b0, b1);
      return undefined;
    });
  }
  let s = 0;
  for (let i = 0; i < blocks; i++) s += partials.data[i]!;
  return s;
}

/**
 * The matrix product of two 2-D arrays (numpy's matmul / `@`): float32 when
 * both are float32, float64 otherwise (integers included). Cache-blocked
 * (packed panels of B, a 4 x 4 register block), parallel over blocks of rows
 * of the result; any strides, so `matmul(A, A.transpose(1, 0))` needs no
 * copy. Each element is summed in float64 over k in a fixed order: the same
 * bits for any thread count.
 */
export async function matmul(a: OpArray, b: OpArray, options?: OpOptions): Promise<NdArray> {
  const opts = checkOptions<OpOptions>("matmul", options, []);
  const x = opInput("matmul", a, "a");
  const y = opInput("matmul", b, "b");
  checkRank("matmul", x, "a", [2]);
  checkRank("matmul", y, "b", [2]);
  return matmulChecked("matmul", x, y, opts);
}

async function matmulChecked(op: string, x: NdArray, y: NdArray, opts: OpOptions): Promise<NdArray> {
  const [m, k] = x.shape as [number, number];
  const [k2, n] = y.shape as [number, number];
  if (k !== k2) {
    throw new SabreTypeError(`ops.${op}: a of shape ${fmt(x.shape)} and b of shape ${fmt(y.shape)} are not aligned (${k} != ${k2})`);
  }
  const c = shared.zeros(productDType(x, y), [m, n]);
  if (m === 0 || n === 0 || k === 0) return c;
  const work = m * n * k;
  if (work < INLINE_MULADDS) {
    throwIfAborted(op, opts.signal);
    const args: MatmulArgs = { a: x, b: y, c, rows: MC };
    matmulBlocks(args, 0, Math.ceil(m / MC));
    return c;
  }
  const engine = await engineFor(opts);
  // Rows per unit of work: MC, or fewer so that each worker gets about two units (the bits do not depend on it).
  const rows = Math.max(MR, Math.min(MC, Math.ceil(m / (2 * engine.threads) / MR) * MR));
  const args: MatmulArgs = { a: x, b: y, c, rows };
  await engine.parallelFor(Math.ceil(m / rows), "sabre.ops.matmul", args as unknown as Record<string, unknown>, {
    chunk: 1,
    schedule: "dynamic",
    signal: opts.signal,
  });
  return c;
}
