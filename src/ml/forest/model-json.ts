import { Buffer } from "node:buffer";
import { FormatError, SabreTypeError } from "../../errors.js";
import { sharedTypedArray } from "../../memory/shared.js";
import { describe } from "../../validate.js";
import { checkTreeArrays } from "../../../kernels/forest/format.js";
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

type NodeArray = Int32Array | Float64Array;

/** Little-endian bytes into `out` (a plain copy on a little-endian machine). */
function readLE(bytes: Uint8Array, out: NodeArray): void {
  if (isLittleEndian) {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes.subarray(0, out.byteLength));
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (out instanceof Int32Array) for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  else for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
}

/** Decodes a base64 field straight into a shared typed array, checking its length exactly. */
function arrayOf(o: Record<string, unknown>, key: string, kind: "int32" | "float64", length: number, where: string): NodeArray {
  const v = o[key];
  if (typeof v !== "string") throw new FormatError(`${where}: ${key} must be a base64 string, got ${describe(v)}`);
  const bytes = Buffer.from(v, "base64");
  const width = kind === "int32" ? 4 : 8;
  if (bytes.length !== length * width) {
    throw new FormatError(`${where}: ${key} holds ${bytes.length} bytes, expected ${length * width} (${length} x ${kind}): truncated or tampered`);
  }
  const out = sharedTypedArray(kind, length);
  readLE(bytes, out);
  return out;
}

/** What the caller knows every tree must fit: the forest's features, outputs and kind. */
export interface TreeExpect {
  nFeatures: number;
  nOutputs: number;
  classification: boolean;
}

/** A tree from arrays already in shared memory, checked by the core's checkTreeArrays, with its walk records. */
function checkedTree(t: Omit<FlatTree, "walk">, expect: TreeExpect, where: string): FlatTree {
  checkTreeArrays(t, expect, where);
  const tree: FlatTree = { ...t };
  tree.walk = packTree(tree, true);
  return tree;
}

/**
 * A tree from its saved arrays: decoded into shared memory, then checked by
 * the core's checkTreeArrays (the checks of treeFromJSON) before any use.
 */
export function treeArraysFromJSON(json: unknown, expect: TreeExpect, where: string): FlatTree {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new FormatError(`${where}: expected a tree object, got ${describe(json)}`);
  const o = json as Record<string, unknown>;
  const nodeCount = o["nodeCount"];
  if (typeof nodeCount !== "number" || !Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 2 ** 28) {
    throw new FormatError(`${where}: nodeCount must be an integer in [1, 2^28], got ${describe(nodeCount)}`);
  }
  if (nodeCount * expect.nOutputs > 2 ** 31 - 1) throw new FormatError(`${where}: nodeCount x nOutputs = ${nodeCount * expect.nOutputs} is too large`);
  const maxDepth = o["maxDepth"];
  if (typeof maxDepth !== "number" || !Number.isInteger(maxDepth)) throw new FormatError(`${where}: maxDepth must be an integer, got ${describe(maxDepth)}`);
  return checkedTree(
    {
      nFeatures: expect.nFeatures,
      nOutputs: expect.nOutputs,
      classification: expect.classification,
      nodeCount,
      maxDepth,
      feature: arrayOf(o, "feature", "int32", nodeCount, where) as Int32Array,
      threshold: arrayOf(o, "threshold", "float64", nodeCount, where) as Float64Array,
      left: arrayOf(o, "left", "int32", nodeCount, where) as Int32Array,
      right: arrayOf(o, "right", "int32", nodeCount, where) as Int32Array,
      value: arrayOf(o, "value", "float64", nodeCount * expect.nOutputs, where) as Float64Array,
      nNodeSamples: arrayOf(o, "nNodeSamples", "int32", nodeCount, where) as Int32Array,
      weightedNNodeSamples: arrayOf(o, "weightedNNodeSamples", "float64", nodeCount, where) as Float64Array,
      impurity: arrayOf(o, "impurity", "float64", nodeCount, where) as Float64Array,
    },
    expect,
    where,
  );
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
  if (!Array.isArray(fi) || fi.length !== d) {
    throw new FormatError(`featureImportances must be ${d} finite numbers (one per feature), got ${describe(fi)}`);
  }
  // Impurity decreases are >= 0 and fit normalizes them to sum 1 (0 when no tree split): anything else is tampering.
  let sum = 0;
  for (let f = 0; f < d; f++) {
    const v: unknown = fi[f];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new FormatError(`featureImportances[${f}] must be a finite number >= 0, got ${describe(v)}`);
    }
    sum += v;
  }
  if (sum !== 0 && Math.abs(sum - 1) > 1e-9 * d) {
    throw new FormatError(`featureImportances must sum to 1 (or be all 0 for a forest without splits), got a sum of ${sum}`);
  }
  if (estimator === "RandomForestClassifier") {
    const classes = o["classes"];
    if (!Array.isArray(classes) || classes.length < 2) throw new FormatError("classes must be an array of at least 2 labels");
    const kinds = new Set(classes.map((c) => typeof c));
    if (kinds.size !== 1 || !(kinds.has("string") || kinds.has("number"))) throw new FormatError("classes must be all strings or all integers");
    if (kinds.has("number") && !classes.every((c) => Number.isInteger(c))) throw new FormatError("numeric classes must be integers");
    if (new Set(classes).size !== classes.length) throw new FormatError("classes has duplicates");
  }
  // The classifier's score is an accuracy, in [0, 1]; the regressor's is an R^2, at most 1 but unbounded below.
  const oob = o["oobScore"];
  const accuracy = estimator === "RandomForestClassifier";
  if (oob !== undefined && oob !== null && (typeof oob !== "number" || !(oob <= 1) || (accuracy ? oob < 0 : !Number.isFinite(oob)))) {
    throw new FormatError(`oobScore must be null or ${accuracy ? "an accuracy in [0, 1]" : "an R^2 (a finite number <= 1)"}, got ${describe(oob)}`);
  }
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

/*
 * The binary form of a list of trees: how a cluster host sends the trees it
 * grew, and how a caller sends a model to predict with. One buffer, every
 * number little-endian, every float64 array 8-byte aligned, so reading is a
 * copy of each array into shared memory (no text, no base64, no number[]):
 *
 *   header   u32 x 8   magic, version, tree count, nFeatures, nOutputs, classification (0/1), 0, 0
 *   per tree u32 x 4   nodeCount, maxDepth, value entries stored (nnz; DENSE_VALUES for all), 0
 *            f64       threshold[n], weightedNNodeSamples[n], impurity[n], value[dense ? n x C : nnz]
 *            i32       feature[n], left[n], right[n], nNodeSamples[n], (sparse) flat index[nnz]
 *            zero padding to a multiple of 8 bytes
 *
 * Class probabilities are sparse: a fully grown tree's leaves are mostly pure
 * (one class), so of a Fashion-MNIST tree's n x 10 values about a fifth are
 * not zero. A tree keeps the sparse form (index, value: 12 bytes per entry)
 * where it is smaller than the dense one (8 bytes per entry); an entry is
 * left out only when it is +0, so decoding gives the same bits back.
 */
const BINARY_MAGIC = 0x54424153; // "SABT"
const BINARY_VERSION = 1;
const HEADER_WORDS = 8;
const TREE_WORDS = 4;
/** The nnz word of a tree whose values are stored dense. */
const DENSE_VALUES = 0xffffffff;

function nonZeros(value: Float64Array): number {
  let nnz = 0;
  for (let i = 0; i < value.length; i++) if (!Object.is(value[i], 0)) nnz++;
  return nnz;
}

const pad8 = (bytes: number): number => (bytes + 7) & ~7;

/** Bytes of one tree's record (after the header), given its value entries stored. */
function treeBytes(n: number, stored: number, sparse: boolean): number {
  return TREE_WORDS * 4 + pad8(8 * (3 * n + stored) + 4 * (4 * n + (sparse ? stored : 0)));
}

/**
 * Trees as one binary buffer (see above): what treesFromBinary reads. All
 * trees must share nFeatures, nOutputs and kind (one forest's trees).
 */
export function treesToBinary(trees: readonly FlatTree[]): Uint8Array {
  if (!isLittleEndian) throw new FormatError("writing binary trees on a big-endian machine is not supported");
  const first = trees[0];
  const plans = trees.map((t) => {
    if (first && (t.nFeatures !== first.nFeatures || t.nOutputs !== first.nOutputs || t.classification !== first.classification)) {
      throw new SabreTypeError("treesToBinary: the trees are not of one forest (nFeatures, nOutputs or kind differ)");
    }
    const dense = t.nodeCount * t.nOutputs;
    const nnz = nonZeros(t.value);
    const sparse = nnz * 12 < dense * 8;
    return { t, sparse, stored: sparse ? nnz : dense };
  });
  let total = HEADER_WORDS * 4;
  for (const p of plans) total += treeBytes(p.t.nodeCount, p.stored, p.sparse);
  const buf = new ArrayBuffer(total);
  const u32 = new Uint32Array(buf, 0, HEADER_WORDS);
  u32.set([BINARY_MAGIC, BINARY_VERSION, trees.length, first?.nFeatures ?? 0, first?.nOutputs ?? 0, first?.classification ? 1 : 0, 0, 0]);
  let at = HEADER_WORDS * 4;
  for (const { t, sparse, stored } of plans) {
    const n = t.nodeCount;
    new Uint32Array(buf, at, TREE_WORDS).set([n, t.maxDepth, sparse ? stored : DENSE_VALUES, 0]);
    at += TREE_WORDS * 4;
    const f64 = new Float64Array(buf, at, 3 * n + stored);
    f64.set(t.threshold, 0);
    f64.set(t.weightedNNodeSamples, n);
    f64.set(t.impurity, 2 * n);
    const i32 = new Int32Array(buf, at + 8 * (3 * n + stored), 4 * n + (sparse ? stored : 0));
    i32.set(t.feature, 0);
    i32.set(t.left, n);
    i32.set(t.right, 2 * n);
    i32.set(t.nNodeSamples, 3 * n);
    if (sparse) {
      let k = 0;
      for (let i = 0; i < t.value.length; i++) {
        const v = t.value[i]!;
        if (Object.is(v, 0)) continue;
        f64[3 * n + k] = v;
        i32[4 * n + k] = i;
        k++;
      }
    } else {
      f64.set(t.value, 3 * n);
    }
    at += pad8(8 * (3 * n + stored) + 4 * (4 * n + (sparse ? stored : 0)));
  }
  return new Uint8Array(buf);
}

/**
 * Trees from treesToBinary's buffer, trusting nothing: the header must match
 * `expect`, every length must fit the buffer exactly, a sparse index must be
 * strictly increasing and in range, and every tree then passes the core's
 * checkTreeArrays (as a saved model does) before it is used. The arrays are
 * copied into shared memory. Any problem is a FormatError naming `where`.
 */
export function treesFromBinary(bytes: Uint8Array, expect: TreeExpect, where: string): FlatTree[] {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`${where}: expected binary trees (a Uint8Array), got ${describe(bytes)}`);
  if (!isLittleEndian) throw new FormatError("reading binary trees on a big-endian machine is not supported");
  // Views need aligned offsets: a buffer that does not start on 8 bytes is copied once.
  if (bytes.byteOffset % 8 !== 0) bytes = new Uint8Array(bytes);
  const { buffer, byteOffset, byteLength } = bytes;
  const truncated = (what: string): never => {
    throw new FormatError(`${where}: the binary trees end inside ${what} (${byteLength} bytes): truncated or tampered`);
  };
  if (byteLength < HEADER_WORDS * 4) truncated("the header");
  const h = new Uint32Array(buffer, byteOffset, HEADER_WORDS);
  if (h[0] !== BINARY_MAGIC) throw new FormatError(`${where}: not binary sabre trees (magic 0x${h[0]!.toString(16)})`);
  if (h[1] !== BINARY_VERSION) throw new FormatError(`${where}: binary trees of version ${h[1]} (this build reads version ${BINARY_VERSION})`);
  const count = h[2]!;
  const C = expect.nOutputs;
  // No trees, no forest to describe (treesToBinary([]) writes zeros there).
  if (count > 0 && (h[3] !== expect.nFeatures || h[4] !== C || h[5] !== (expect.classification ? 1 : 0))) {
    throw new FormatError(`${where}: trees of ${h[3]} features, ${h[4]} outputs, ${h[5] ? "classification" : "regression"}; the forest has ${expect.nFeatures}, ${C}, ${expect.classification ? "classification" : "regression"}`);
  }
  // Each tree takes at least 16 + 8 x 7 bytes: a count the buffer cannot hold is refused before allocating.
  if (count > byteLength / (TREE_WORDS * 4 + 56)) truncated(`${count} trees`);
  const trees: FlatTree[] = [];
  let at = HEADER_WORDS * 4;
  for (let k = 0; k < count; k++) {
    const here = `${where}, tree ${k}`;
    if (at + TREE_WORDS * 4 > byteLength) truncated(`tree ${k}'s header`);
    const [n, maxDepth, nnzWord] = new Uint32Array(buffer, byteOffset + at, TREE_WORDS) as unknown as [number, number, number];
    at += TREE_WORDS * 4;
    if (n < 1 || n > 2 ** 28 || n * C > 2 ** 31 - 1) throw new FormatError(`${here}: nodeCount ${n} is out of range`);
    const sparse = nnzWord !== DENSE_VALUES;
    const stored = sparse ? nnzWord : n * C;
    if (stored > n * C) throw new FormatError(`${here}: ${stored} value entries for ${n * C} values`);
    const size = pad8(8 * (3 * n + stored) + 4 * (4 * n + (sparse ? stored : 0)));
    if (at + size > byteLength) truncated(`tree ${k}'s arrays`);
    const f64 = new Float64Array(buffer, byteOffset + at, 3 * n + stored);
    const i32 = new Int32Array(buffer, byteOffset + at + 8 * (3 * n + stored), 4 * n + (sparse ? stored : 0));
    at += size;
    const take = <T extends NodeArray>(kind: "int32" | "float64", from: NodeArray, start: number, length: number): T => {
      const out = sharedTypedArray(kind, length) as T;
      out.set(from.subarray(start, start + length));
      return out;
    };
    let value: Float64Array;
    if (sparse) {
      value = sharedTypedArray("float64", n * C);
      let last = -1;
      for (let e = 0; e < stored; e++) {
        const i = i32[4 * n + e]!;
        if (i <= last || i >= n * C) throw new FormatError(`${here}: value index ${i} after ${last} (indices must increase, below ${n * C})`);
        value[i] = f64[3 * n + e]!;
        last = i;
      }
    } else {
      value = take("float64", f64, 3 * n, stored);
    }
    trees.push(
      checkedTree(
        {
          nFeatures: expect.nFeatures,
          nOutputs: C,
          classification: expect.classification,
          nodeCount: n,
          maxDepth,
          threshold: take("float64", f64, 0, n),
          weightedNNodeSamples: take("float64", f64, n, n),
          impurity: take("float64", f64, 2 * n, n),
          value,
          feature: take("int32", i32, 0, n),
          left: take("int32", i32, n, n),
          right: take("int32", i32, 2 * n, n),
          nNodeSamples: take("int32", i32, 3 * n, n),
        },
        expect,
        here,
      ),
    );
  }
  if (at !== byteLength) throw new FormatError(`${where}: ${byteLength - at} bytes after the last of ${count} trees: tampered`);
  return trees;
}
