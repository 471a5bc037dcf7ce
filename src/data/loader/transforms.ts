// Built-in per-sample transforms (run in the workers after getItem, see
// kernels/loader/augment.ts) and the output spec each one gives a field.
import { SabreTypeError } from "../../errors.js";
import { describe } from "../../validate.js";
import type { FieldSpec } from "./define.js";

/** Where the channels are in a 3-D image field: torchvision's [C, H, W] (default) or [H, W, C]. A 2-D field is [H, W]. */
export type ImageLayout = "chw" | "hwc";

/** A random crop, as {@link randomCrop} makes it. */
export interface RandomCropSpec {
  /** The transform's kind. */
  readonly kind: "randomCrop";
  /** The field it applies to. */
  readonly field: string;
  /** Output [height, width]. */
  readonly size: readonly [number, number];
  /** Zeros added on every side before cropping (torchvision's padding). */
  readonly padding: number;
  /** Where the channels are. */
  readonly layout: ImageLayout;
}
/** A random flip, as {@link randomFlip} makes it. */
export interface RandomFlipSpec {
  /** The transform's kind. */
  readonly kind: "randomFlip";
  /** The field it applies to. */
  readonly field: string;
  /** Whether it flips left-right. */
  readonly horizontal: boolean;
  /** Whether it flips top-bottom. */
  readonly vertical: boolean;
  /** Probability of each flip. */
  readonly p: number;
  /** Where the channels are. */
  readonly layout: ImageLayout;
}
/** A normalization, as {@link normalize} makes it. */
export interface NormalizeSpec {
  /** The transform's kind. */
  readonly kind: "normalize";
  /** The field it applies to. */
  readonly field: string;
  /** Per channel (or one value for all). Output is float32: (x - mean[c]) / std[c]. */
  readonly mean: readonly number[];
  /** Per channel (or one value for all). */
  readonly std: readonly number[];
  /** Where the channels are. */
  readonly layout: ImageLayout;
}
/** A user transform module (defineTransform) applied to one field. */
export interface ModuleTransformSpec {
  /** The transform's kind. */
  readonly kind: "module";
  /** The field it applies to. */
  readonly field: string;
  /** A file: URL (href) of a module whose default export is defineTransform({...}). */
  readonly module: string;
  /** Passed to the module's hooks as `params` (structured-cloneable). */
  readonly params: unknown;
}
/** One entry of the loader's `transform` option: made by randomCrop, randomFlip, normalize, or a {@link ModuleTransformSpec}. */
export type TransformSpec = RandomCropSpec | RandomFlipSpec | NormalizeSpec | ModuleTransformSpec;

function checkLayout(layout: unknown): ImageLayout {
  if (layout === undefined) return "chw";
  if (layout !== "chw" && layout !== "hwc") throw new SabreTypeError(`layout must be "chw" or "hwc", got ${describe(layout)}`);
  return layout;
}

function checkFieldName(field: unknown, what: string): string {
  if (typeof field !== "string" || field.length === 0) throw new SabreTypeError(`${what}: field must be a field name, got ${describe(field)}`);
  return field;
}

/** A random crop of `size` ([h, w] or one number for a square) after `padding` zeros on each side. */
export function randomCrop(field: string, opts: { size: number | readonly [number, number]; padding?: number; layout?: ImageLayout }): RandomCropSpec {
  const size = typeof opts?.size === "number" ? [opts.size, opts.size] : opts?.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new SabreTypeError(`randomCrop: size must be a positive integer or [height, width], got ${describe(opts?.size)}`);
  }
  const padding = opts.padding ?? 0;
  if (!Number.isInteger(padding) || padding < 0) throw new SabreTypeError(`randomCrop: padding must be an integer >= 0, got ${describe(padding)}`);
  return { kind: "randomCrop", field: checkFieldName(field, "randomCrop"), size: [size[0]!, size[1]!], padding, layout: checkLayout(opts.layout) };
}

/** Flips the image horizontally (default) and/or vertically, each with probability p (default 0.5). */
export function randomFlip(field: string, opts: { horizontal?: boolean; vertical?: boolean; p?: number; layout?: ImageLayout } = {}): RandomFlipSpec {
  const p = opts.p ?? 0.5;
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new SabreTypeError(`randomFlip: p must be in [0, 1], got ${describe(p)}`);
  const horizontal = opts.horizontal ?? !opts.vertical;
  const vertical = opts.vertical ?? false;
  return { kind: "randomFlip", field: checkFieldName(field, "randomFlip"), horizontal, vertical, p, layout: checkLayout(opts.layout) };
}

/** (x - mean[c]) / std[c] per channel, into float32. */
export function normalize(field: string, opts: { mean: number | readonly number[]; std: number | readonly number[]; layout?: ImageLayout }): NormalizeSpec {
  const list = (v: unknown, name: string): number[] => {
    const a = typeof v === "number" ? [v] : v;
    if (!Array.isArray(a) || a.length === 0 || !a.every((x) => typeof x === "number" && Number.isFinite(x))) {
      throw new SabreTypeError(`normalize: ${name} must be a finite number or an array of them, got ${describe(v)}`);
    }
    return [...a] as number[];
  };
  const mean = list(opts?.mean, "mean");
  const std = list(opts?.std, "std");
  if (std.some((s) => s === 0)) throw new SabreTypeError("normalize: std must not be 0");
  return { kind: "normalize", field: checkFieldName(field, "normalize"), mean, std, layout: checkLayout(opts.layout) };
}

/** Geometry of an image field: channels, height, width and where channels sit. */
export interface ImageGeometry {
  c: number;
  h: number;
  w: number;
  hwc: boolean;
}

export function geometry(spec: FieldSpec, layout: ImageLayout, what: string, field: string): ImageGeometry {
  const s = spec.shape;
  if (s.length === 2) return { c: 1, h: s[0]!, w: s[1]!, hwc: false };
  if (s.length === 3) return layout === "hwc" ? { c: s[2]!, h: s[0]!, w: s[1]!, hwc: true } : { c: s[0]!, h: s[1]!, w: s[2]!, hwc: false };
  throw new SabreTypeError(`${what}: field "${field}" has shape [${s.join(", ")}]; an image field is [H, W], [C, H, W] or [H, W, C]`);
}

/** The field spec a built-in transform produces (a module transform's comes from its output hook). */
export function builtinOutput(t: Exclude<TransformSpec, ModuleTransformSpec>, input: FieldSpec): FieldSpec {
  const g = geometry(input, t.layout, t.kind, t.field);
  switch (t.kind) {
    case "randomCrop": {
      const [h, w] = t.size;
      if (h > g.h + 2 * t.padding || w > g.w + 2 * t.padding) {
        throw new SabreTypeError(`randomCrop: size [${h}, ${w}] is larger than field "${t.field}" [${g.h}, ${g.w}] with padding ${t.padding}`);
      }
      const shape = input.shape.length === 2 ? [h, w] : g.hwc ? [h, w, g.c] : [g.c, h, w];
      return { dtype: input.dtype, shape };
    }
    case "randomFlip":
      return input;
    case "normalize": {
      for (const [name, v] of [["mean", t.mean], ["std", t.std]] as const) {
        if (v.length !== 1 && v.length !== g.c) throw new SabreTypeError(`normalize: ${name} has ${v.length} values; field "${t.field}" has ${g.c} channels`);
      }
      if (input.dtype === "bigint64" || input.dtype === "biguint64") throw new SabreTypeError(`normalize: field "${t.field}" is ${input.dtype}`);
      return { dtype: "float32", shape: input.shape };
    }
  }
}
