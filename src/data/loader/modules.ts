// Recognising what a loaded dataset or transform module exports.
import { SabreTypeError } from "../../errors.js";
import type { DatasetDefinition, IterableDatasetDefinition, TransformDefinition } from "./define.js";

export const DATASET = Symbol.for("sabre.loader.dataset");
export const ITERABLE = Symbol.for("sabre.loader.iterable");
export const TRANSFORM = Symbol.for("sabre.loader.transform");

export type LoadedDataset =
  | { kind: "map"; def: DatasetDefinition<unknown> }
  | { kind: "iterable"; def: IterableDatasetDefinition<unknown> };

/** The dataset a loaded module exports (default export made by defineDataset / defineIterableDataset). */
export function datasetOf(mod: unknown, where: string): LoadedDataset {
  const d = ((mod as { default?: unknown } | null)?.default ?? mod) as Record<symbol, unknown> | null;
  if (d && typeof d === "object") {
    if (d[DATASET] === true) return { kind: "map", def: d as unknown as DatasetDefinition<unknown> };
    if (d[ITERABLE] === true) return { kind: "iterable", def: d as unknown as IterableDatasetDefinition<unknown> };
  }
  throw new SabreTypeError(`${where} is not a dataset module: its default export must be defineDataset({ ... }) or defineIterableDataset({ ... })`);
}

export function transformOf(mod: unknown, where: string): TransformDefinition<unknown> {
  const d = ((mod as { default?: unknown } | null)?.default ?? mod) as Record<symbol, unknown> | null;
  if (d && typeof d === "object" && d[TRANSFORM] === true) return d as unknown as TransformDefinition<unknown>;
  throw new SabreTypeError(`${where} is not a transform module: its default export must be defineTransform({ ... })`);
}
