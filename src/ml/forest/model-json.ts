import { Buffer } from "node:buffer";
import { FormatError, SabreTypeError } from "../../errors.js";
import { sharedTypedArray } from "../../memory/shared.js";
import { describe } from "../../validate.js";
import { treeFromJSON, TREE_FORMAT, TREE_FORMAT_VERSION } from "../../../kernels/forest/format.js";
import type { FlatTree } from "../../../kernels/forest/tree.js";
import { packTree } from "../../../kernels/forest/predict.js";
import type { ClassLabel } from "../labels.js";

/**
 * The saved form of a forest. Tree arrays are base64 of their little-endian
 * bytes (a 100-tree Fashion-MNIST forest is ~1M nodes: as JSON numbers it
 * would be several hundred MB). Reading checks everything, down to every
 * child index, before any array is used: a truncated or tampered model is a
 * FormatError, never an out-of-bounds read or an endless walk in predict.
 */
export const MODEL_FORMAT = "sabre-random-forest";
export const MODEL_VERSION = 1;

export type EstimatorName = "RandomForestClassifier" | "RandomForestRegressor";

export interface TreeArraysJSON {
  nodeCount: number;
  maxDepth: number;
  feature: string;
  threshold: string;
  left: string;
  right: string;
  value: string;
  nNodeSamples: string;
  weightedNNodeSamples: string;
  impurity: string;
}

/**
 * A saved forest, as `toJSON()` makes it and `fromJSON()` reads it back
 * (validated field by field). Tree arrays are base64 little-endian.
 */
export interface ForestJSON {
  /** Marks the object as a sabre forest model. */
  format: typeof MODEL_FORMAT;
  /** The model format version; another version is refused. */
  version: number;
  /** "RandomForestClassifier" or "RandomForestRegressor". */
  estimator: EstimatorName;
  /** The constructor options the forest was fitted with. */
  options: Record<string, unknown>;
  /** The number of features seen by fit. */
  nFeatures: number;
  /** Classifier: the labels in class-id order. */
  classes?: ClassLabel[];
  /** The out-of-bag score, when fitted with oobScore: true. */
  oobScore?: number | null;
  /** The impurity-based importance of each feature (summing to 1). */
  featureImportances: number[];
  /** The trees' node arrays. */
  trees: TreeArraysJSON[];
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function b64(a: Int32Array | Float64Array): string {
  if (!isLittleEndian) throw new FormatError("saving models on a big-endian machine is not supported");
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

const ARRAYS = ["feature", "threshold", "left", "right", "value", "nNodeSamples", "weightedNNodeSamples", "impurity"] as const;

export function treeArraysToJSON(t: FlatTree): TreeArraysJSON {
  return {
    nodeCount: t.nodeCount,
    maxDepth: t.maxDepth,
    feature: b64(t.feature),
    threshold: b64(t.threshold),
    left: b64(t.left),
    right: b64(t.right),
    value: b64(t.value),
    nNodeSamples: b64(t.nNodeSamples),
    weightedNNodeSamples: b64(t.weightedNNodeSamples),
    impurity: b64(t.impurity),
  };
}

/** Decodes a base64 field into numbers, checking its length exactly. */
function numbersOf(o: Record<string, unknown>, key: string, kind: "int32" | "float64", length: number, where: string): number[] {
  const v = o[key];
  if (typeof v !== "string") throw new FormatError(`${where}: ${key} must be a base64 string, got ${describe(v)}`);
  const bytes = Buffer.from(v, "base64");
  const width = kind === "int32" ? 4 : 8;
  if (bytes.length !== length * width) {
    throw new FormatError(`${where}: ${key} holds ${bytes.length} bytes, expected ${length * width} (${length} x ${kind}): truncated or tampered`);
  }
  // A plain loop: Array.from(typedArray) goes through the iterator, ~100x slower (it was most of loading a model, and of a cluster fit's return trip).
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(length);
  if (kind === "int32") for (let i = 0; i < length; i++) out[i] = view.getInt32(i * 4, true);
  else for (let i = 0; i < length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/** A tree from its saved arrays, validated by the core's treeFromJSON, then moved into shared memory. */
export function treeArraysFromJSON(json: unknown, expect: { nFeatures: number; nOutputs: number; classification: boolean }, where: string): FlatTree {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new FormatError(`${where}: expected a tree object, got ${describe(json)}`);
  const o = json as Record<string, unknown>;
  const nodeCount = o["nodeCount"];
  if (typeof nodeCount !== "number" || !Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 2 ** 28) {
    throw new FormatError(`${where}: nodeCount must be an integer in [1, 2^28], got ${describe(nodeCount)}`);
  }
  const plain = {
    format: TREE_FORMAT,
    version: TREE_FORMAT_VERSION,
    nFeatures: expect.nFeatures,
    nOutputs: expect.nOutputs,
    classification: expect.classification,
    nodeCount,
    maxDepth: o["maxDepth"],
    feature: numbersOf(o, "feature", "int32", nodeCount, where),
    threshold: numbersOf(o, "threshold", "float64", nodeCount, where),
    left: numbersOf(o, "left", "int32", nodeCount, where),
    right: numbersOf(o, "right", "int32", nodeCount, where),
    value: numbersOf(o, "value", "float64", nodeCount * expect.nOutputs, where),
    nNodeSamples: numbersOf(o, "nNodeSamples", "int32", nodeCount, where),
    weightedNNodeSamples: numbersOf(o, "weightedNNodeSamples", "float64", nodeCount, where),
    impurity: numbersOf(o, "impurity", "float64", nodeCount, where),
  };
  const tree = treeFromJSON(plain, expect, where);
  return toSharedTree(tree);
}

/** A copy of a tree whose arrays live in shared memory (what the predict kernels take). */
export function toSharedTree(t: FlatTree): FlatTree {
  const copy = <T extends Int32Array | Float64Array>(a: T): T => {
    const out = sharedTypedArray(a instanceof Int32Array ? "int32" : "float64", a.length) as T;
    out.set(a);
    return out;
  };
  const out: Record<string, unknown> = { ...t };
  for (const k of ARRAYS) out[k] = copy(t[k]);
  const tree = out as unknown as FlatTree;
  tree.walk = packTree(tree, true);
  return tree;
}

/** Checks the envelope of a saved forest and returns it typed (the trees are checked by the caller). */
export function checkForestJSON(json: unknown, estimator: EstimatorName): ForestJSON {
  if (typeof json === "string") {
    try {
      json = JSON.parse(json);
    } catch (err) {
      throw new FormatError(`the model is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new FormatError(`a saved model must be an object, got ${describe(json)}`);
  const o = json as Record<string, unknown>;
  if (o["format"] !== MODEL_FORMAT) throw new FormatError(`not a sabre forest: format is ${describe(o["format"])}, expected ${JSON.stringify(MODEL_FORMAT)}`);
  if (o["version"] !== MODEL_VERSION) throw new FormatError(`model version ${describe(o["version"])} is not supported (this build reads version ${MODEL_VERSION})`);
  if (o["estimator"] !== estimator) throw new FormatError(`this model is a ${describe(o["estimator"])}, not a ${estimator}`);
  const d = o["nFeatures"];
  if (typeof d !== "number" || !Number.isInteger(d) || d < 1 || d > 2 ** 31 - 1) throw new FormatError(`nFeatures must be a positive integer, got ${describe(d)}`);
  if (typeof o["options"] !== "object" || o["options"] === null || Array.isArray(o["options"])) throw new FormatError("options must be an object");
  if (!Array.isArray(o["trees"]) || o["trees"].length === 0) throw new FormatError("trees must be a non-empty array");
  const fi = o["featureImportances"];
  if (!Array.isArray(fi) || fi.length !== d || !fi.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new FormatError(`featureImportances must be ${d} finite numbers`);
  }
  if (estimator === "RandomForestClassifier") {
    const classes = o["classes"];
    if (!Array.isArray(classes) || classes.length < 2) throw new FormatError("classes must be an array of at least 2 labels");
    const kinds = new Set(classes.map((c) => typeof c));
    if (kinds.size !== 1 || !(kinds.has("string") || kinds.has("number"))) throw new FormatError("classes must be all strings or all integers");
    if (kinds.has("number") && !classes.every((c) => Number.isInteger(c))) throw new FormatError("numeric classes must be integers");
    if (new Set(classes).size !== classes.length) throw new FormatError("classes has duplicates");
  }
  const oob = o["oobScore"];
  if (oob !== undefined && oob !== null && (typeof oob !== "number" || !Number.isFinite(oob))) throw new FormatError("oobScore must be a number or null");
  return o as unknown as ForestJSON;
}

/** Builds the estimator from saved options: an option the constructor refuses means the file is bad. */
export function restoreEstimator<T>(make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof SabreTypeError) throw new FormatError(`the model's options are invalid: ${err.message}`, { cause: err });
    throw err;
  }
}
