import { FormatError, SabreTypeError } from "../../src/errors.js";
import { describe } from "../../src/validate.js";
import type { FlatTree } from "./tree.js";

/**
 * The JSON form of a tree: versioned, plain arrays. treeFromJSON trusts
 * nothing in it: every index, count and number is checked, so that a
 * truncated or tampered model is a FormatError rather than an out-of-bounds
 * read or an endless walk in predict. The checks that make walking safe:
 * children come after their parent (every walk strictly increases the node
 * index), every node but the root has exactly one parent, and features are
 * in range.
 */
export const TREE_FORMAT = "sabre-tree";
export const TREE_FORMAT_VERSION = 1;
/** Refuse absurd sizes before allocating. */
const MAX_NODES = 2 ** 28;

export interface TreeJSON {
  format: typeof TREE_FORMAT;
  version: number;
  nFeatures: number;
  nOutputs: number;
  classification: boolean;
  nodeCount: number;
  maxDepth: number;
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
  nNodeSamples: number[];
  weightedNNodeSamples: number[];
  impurity: number[];
}

/** A tree as a JSON-ready object (JSON.stringify it as it is). */
export function treeToJSON(tree: FlatTree): TreeJSON {
  if (typeof tree !== "object" || tree === null || !(tree.left instanceof Int32Array)) {
    throw new SabreTypeError(`treeToJSON needs a FlatTree, got ${describe(tree)}`);
  }
  return {
    format: TREE_FORMAT,
    version: TREE_FORMAT_VERSION,
    nFeatures: tree.nFeatures,
    nOutputs: tree.nOutputs,
    classification: tree.classification,
    nodeCount: tree.nodeCount,
    maxDepth: tree.maxDepth,
    feature: Array.from(tree.feature),
    threshold: Array.from(tree.threshold),
    left: Array.from(tree.left),
    right: Array.from(tree.right),
    value: Array.from(tree.value),
    nNodeSamples: Array.from(tree.nNodeSamples),
    weightedNNodeSamples: Array.from(tree.weightedNNodeSamples),
    impurity: Array.from(tree.impurity),
  };
}

/** What the caller knows the tree must fit (e.g. the forest's feature and class counts). */
export interface TreeExpectations {
  nFeatures?: number;
  nOutputs?: number;
  classification?: boolean;
}

function fail(where: string, message: string): never {
  throw new FormatError(`${where}: ${message}`);
}

function int(obj: Record<string, unknown>, key: string, min: number, max: number, where: string): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(where, `${key} must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

/** A plain JSON array of `key`, before its entries are checked. */
function array(obj: Record<string, unknown>, key: string, where: string): unknown[] {
  const v = obj[key];
  if (!Array.isArray(v)) fail(where, `${key} must be an array, got ${describe(v)}`);
  return v;
}

/**
 * A tree as it arrives from outside, before any check: header numbers of
 * any type, node arrays of any element type (plain JSON arrays, or typed
 * arrays decoded from base64 or a binary form).
 */
export interface UncheckedTree {
  nFeatures: unknown;
  nOutputs: unknown;
  classification: unknown;
  nodeCount: unknown;
  maxDepth: unknown;
  feature: ArrayLike<unknown>;
  threshold: ArrayLike<unknown>;
  left: ArrayLike<unknown>;
  right: ArrayLike<unknown>;
  value: ArrayLike<unknown>;
  nNodeSamples: ArrayLike<unknown>;
  weightedNNodeSamples: ArrayLike<unknown>;
  impurity: ArrayLike<unknown>;
}

/** The header of a tree that passed {@link checkTreeArrays}. */
export interface CheckedTreeHeader {
  nFeatures: number;
  nOutputs: number;
  classification: boolean;
  nodeCount: number;
  maxDepth: number;
}

function finite(a: ArrayLike<unknown>, key: string, length: number, where: string): ArrayLike<number> {
  if (a.length !== length) fail(where, `${key} has ${a.length} entries, expected ${length} (truncated or tampered)`);
  for (let i = 0; i < length; i++) {
    const x = a[i];
    if (typeof x !== "number" || !Number.isFinite(x)) fail(where, `${key}[${i}] must be a finite number, got ${describe(x)}`);
  }
  return a as ArrayLike<number>;
}

/**
 * Every check that makes a tree safe to walk, whatever form it came in
 * (saved JSON, base64 arrays, the cluster's binary trees): header ranges,
 * array lengths, finite numbers, children after their parent with exactly
 * one parent each, features in range, the recorded depth, and class
 * probabilities in [0, 1]. Any problem is a FormatError naming `where`.
 * Returns the checked header; the arrays are the caller's, unchanged.
 */
export function checkTreeArrays(t: UncheckedTree, expect: TreeExpectations = {}, where = "tree"): CheckedTreeHeader {
  const o = t as unknown as Record<string, unknown>;
  const nFeatures = int(o, "nFeatures", 1, 2 ** 31 - 1, where);
  const nOutputs = int(o, "nOutputs", 1, 2 ** 24, where);
  if (typeof o.classification !== "boolean") fail(where, `classification must be a boolean, got ${describe(o.classification)}`);
  const classification = o.classification;
  if (!classification && nOutputs !== 1) fail(where, `a regression tree has 1 output, got ${nOutputs}`);
  if (expect.nFeatures !== undefined && nFeatures !== expect.nFeatures) fail(where, `nFeatures is ${nFeatures}, the model has ${expect.nFeatures}`);
  if (expect.nOutputs !== undefined && nOutputs !== expect.nOutputs) fail(where, `nOutputs is ${nOutputs}, the model has ${expect.nOutputs}`);
  if (expect.classification !== undefined && classification !== expect.classification) {
    fail(where, `a ${classification ? "classification" : "regression"} tree in a ${expect.classification ? "classifier" : "regressor"}`);
  }
  const nodeCount = int(o, "nodeCount", 1, MAX_NODES, where);
  if (nodeCount * nOutputs > 2 ** 31 - 1) fail(where, `nodeCount x nOutputs = ${nodeCount * nOutputs} is too large`);
  const maxDepth = int(o, "maxDepth", 0, nodeCount - 1, where);
  const feature = finite(t.feature, "feature", nodeCount, where);
  finite(t.threshold, "threshold", nodeCount, where);
  const left = finite(t.left, "left", nodeCount, where);
  const right = finite(t.right, "right", nodeCount, where);
  const value = finite(t.value, "value", nodeCount * nOutputs, where);
  const nNodeSamples = finite(t.nNodeSamples, "nNodeSamples", nodeCount, where);
  const weighted = finite(t.weightedNNodeSamples, "weightedNNodeSamples", nodeCount, where);
  const impurity = finite(t.impurity, "impurity", nodeCount, where);

  const parents = new Uint8Array(nodeCount);
  const depth = new Int32Array(nodeCount);
  let deepest = 0;
  for (let i = 0; i < nodeCount; i++) {
    const l = left[i]!;
    const r = right[i]!;
    const f = feature[i]!;
    if (l === -1 || r === -1) {
      if (l !== -1 || r !== -1) fail(where, `node ${i} has one child (left ${l}, right ${r}); a node has two or none`);
      if (f !== -1) fail(where, `leaf ${i} has feature ${f}; leaves have feature -1`);
      if (depth[i]! > deepest) deepest = depth[i]!;
    } else {
      for (const [side, c] of [["left", l], ["right", r]] as const) {
        if (!Number.isInteger(c) || c <= i || c >= nodeCount) {
          fail(where, `node ${i}: ${side} child ${c} must be an integer in (${i}, ${nodeCount}) (children follow their parent)`);
        }
        if (parents[c]! !== 0) fail(where, `node ${c} has two parents`);
        parents[c] = 1;
        depth[c] = depth[i]! + 1;
      }
      if (l === r) fail(where, `node ${i} has the same node ${l} as both children`);
      if (!Number.isInteger(f) || f < 0 || f >= nFeatures) fail(where, `node ${i}: feature ${f} must be an integer in [0, ${nFeatures})`);
    }
    const ns = nNodeSamples[i]!;
    if (!Number.isInteger(ns) || ns < 0) fail(where, `nNodeSamples[${i}] must be an integer >= 0, got ${ns}`);
    if (weighted[i]! < 0) fail(where, `weightedNNodeSamples[${i}] must be >= 0, got ${weighted[i]}`);
    if (impurity[i]! < 0) fail(where, `impurity[${i}] must be >= 0, got ${impurity[i]}`);
  }
  for (let i = 1; i < nodeCount; i++) if (parents[i] === 0) fail(where, `node ${i} is not reachable from the root`);
  if (deepest !== maxDepth) fail(where, `maxDepth is ${maxDepth} but the deepest leaf is at depth ${deepest}`);
  if (classification) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i]!;
      if (v < 0 || v > 1) fail(where, `value[${i}] = ${v} is not a probability in [0, 1]`);
    }
  }
  return { nFeatures, nOutputs, classification, nodeCount, maxDepth };
}

/**
 * Rebuilds a tree from treeToJSON's output (or its JSON.parse), checking
 * everything (checkTreeArrays). Any problem is a FormatError saying where.
 */
export function treeFromJSON(json: unknown, expect: TreeExpectations = {}, where = "tree"): FlatTree {
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail(where, `expected a tree object, got ${describe(json)}`);
  const o = json as Record<string, unknown>;
  if (o.format !== TREE_FORMAT) fail(where, `format must be ${JSON.stringify(TREE_FORMAT)}, got ${describe(o.format)}`);
  if (o.version !== TREE_FORMAT_VERSION) fail(where, `unsupported version ${describe(o.version)} (this build reads version ${TREE_FORMAT_VERSION})`);
  const unchecked: UncheckedTree = {
    nFeatures: o.nFeatures,
    nOutputs: o.nOutputs,
    classification: o.classification,
    nodeCount: o.nodeCount,
    maxDepth: o.maxDepth,
    feature: array(o, "feature", where),
    threshold: array(o, "threshold", where),
    left: array(o, "left", where),
    right: array(o, "right", where),
    value: array(o, "value", where),
    nNodeSamples: array(o, "nNodeSamples", where),
    weightedNNodeSamples: array(o, "weightedNNodeSamples", where),
    impurity: array(o, "impurity", where),
  };
  const { nFeatures, nOutputs, classification, nodeCount, maxDepth } = checkTreeArrays(unchecked, expect, where);
  const { feature, threshold, left, right, value, nNodeSamples, weightedNNodeSamples: weighted, impurity } = unchecked as unknown as Record<string, number[]>;
  return {
    nFeatures,
    nOutputs,
    classification,
    nodeCount,
    maxDepth,
    feature: Int32Array.from(feature!),
    threshold: Float64Array.from(threshold!),
    left: Int32Array.from(left!),
    right: Int32Array.from(right!),
    value: Float64Array.from(value!),
    nNodeSamples: Int32Array.from(nNodeSamples!),
    weightedNNodeSamples: Float64Array.from(weighted!),
    impurity: Float64Array.from(impurity!),
  };
}
