/**
 * A fitted tree as flat arrays, node 0 the root, children always after their
 * parent (so walking down always terminates). At a leaf, left = right = -1
 * and feature = -1. A row goes left when x[feature] <= threshold.
 *
 * value holds nOutputs numbers per node: class probabilities (the weighted
 * class fractions of the node's in-bag samples) for a classifier, the
 * weighted mean target for a regressor. nNodeSamples counts distinct in-bag
 * samples; weightedNNodeSamples their weights (bootstrap counts times class
 * and sample weights), as scikit-learn's tree_ arrays.
 */
export interface FlatTree {
  readonly nFeatures: number;
  /** Number of classes (classification) or 1 (regression). */
  readonly nOutputs: number;
  readonly classification: boolean;
  readonly nodeCount: number;
  /** Depth of the deepest leaf (the root alone is depth 0). */
  readonly maxDepth: number;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly value: Float64Array;
  readonly nNodeSamples: Int32Array;
  readonly weightedNNodeSamples: Float64Array;
  readonly impurity: Float64Array;
  /**
   * Optional: the same nodes as 16-byte walk records in preorder (predict.ts,
   * packTree), built once when the tree is made so that predict need not
   * rebuild them in every worker on every call. Derived data: never saved.
   */
  walk?: Float64Array;
}

export const TREE_LEAF = -1;
