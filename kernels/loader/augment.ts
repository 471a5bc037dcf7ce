// The built-in transforms' per-sample work. Each draws from the sample's own
// stream (rng(seed, epoch, index, position of the transform)), so what a
// sample looks like depends only on seed, epoch and index.
import type { TypedArray } from "../../src/memory/dtypes.js";
import type { Rng } from "../../src/random/rng.js";
import type { FieldSpec } from "../../src/data/loader/define.js";
import { geometry, type TransformSpec } from "../../src/data/loader/transforms.js";

type Numeric = Exclude<TypedArray, BigInt64Array | BigUint64Array>;

export function applyBuiltin(
  t: Exclude<TransformSpec, { kind: "module" }>,
  input: FieldSpec,
  src: TypedArray,
  dst: TypedArray,
  r: Rng,
): void {
  const g = geometry(input, t.layout, t.kind, t.field);
  const { c, h, w, hwc } = g;
  const at = hwc ? (ch: number, y: number, x: number, W: number) => (y * W + x) * c + ch : (ch: number, y: number, x: number, W: number, H: number) => (ch * H + y) * W + x;
  switch (t.kind) {
    case "randomCrop": {
      const [oh, ow] = t.size;
      const p = t.padding;
      // Offsets into the padded image, drawn before anything else so the stream use is fixed.
      const oy = r.below(h + 2 * p - oh + 1) - p;
      const ox = r.below(w + 2 * p - ow + 1) - p;
      const s = src as Numeric;
      const d = dst as Numeric;
      for (let ch = 0; ch < c; ch++) {
        for (let y = 0; y < oh; y++) {
          const sy = y + oy;
          for (let x = 0; x < ow; x++) {
            const sx = x + ox;
            d[at(ch, y, x, ow, oh)] = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0 : s[at(ch, sy, sx, w, h)]!;
          }
        }
      }
      return;
    }
    case "randomFlip": {
      const fh = t.horizontal && r.float32() < t.p;
      const fv = t.vertical && r.float32() < t.p;
      const s = src as Numeric;
      const d = dst as Numeric;
      if (!fh && !fv) {
        d.set(s);
        return;
      }
      for (let ch = 0; ch < c; ch++) {
        for (let y = 0; y < h; y++) {
          const sy = fv ? h - 1 - y : y;
          for (let x = 0; x < w; x++) d[at(ch, y, x, w, h)] = s[at(ch, sy, fh ? w - 1 - x : x, w, h)]!;
        }
      }
      return;
    }
    case "normalize": {
      const s = src as Numeric;
      const d = dst as Float32Array;
      const mean = t.mean;
      const inv = t.std.map((v) => 1 / v);
      for (let ch = 0; ch < c; ch++) {
        const m = mean.length === 1 ? mean[0]! : mean[ch]!;
        const k = inv.length === 1 ? inv[0]! : inv[ch]!;
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
          const i = at(ch, y, x, w, h);
          d[i] = (s[i]! - m) * k;
        }
      }
      return;
    }
  }
}
