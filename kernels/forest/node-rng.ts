import { philox4x32 } from "../../src/random/philox.js";
import { rng } from "../../src/random/rng.js";

/**
 * Per-node random streams for the feature draws. Every node of a tree draws
 * from its own Philox stream, keyed by the tree and named by the node's path
 * from the root, so what a node draws depends only on (seed, tree, path),
 * never on which thread grows it or in what order the nodes are visited.
 * That is what lets subtrees of one tree grow on several workers and still
 * give the same tree bit for bit (parallel.md). (A single stream per tree,
 * consumed in depth-first order, would tie every node's draws to how many
 * draws the whole left part of the tree made before it.)
 *
 * Stream of node `key` (64 bits, two words): block i is
 * philox([i, keyLo, keyHi, 0x5ab7e], treeKey), treeKey two words drawn once
 * per tree from rng(seed, treeIndex, 1). A child's key mixes its parent's
 * key and its side (childKey), so distinct paths collide only with
 * probability ~2^-63 per pair (a collision would only make two nodes draw
 * alike, never break anything).
 */

const STREAM_FEATURES = 1;
const TAG = 0x5ab7e;
/** The root's key. */
export const ROOT_KEY_LO = 1;
export const ROOT_KEY_HI = 0;
const TWO32 = 4294967296;

export class NodeStream {
  private k0 = 0;
  private k1 = 0;
  private c1 = 0;
  private c2 = 0;
  private block = 0;
  private pos = 4;
  private readonly buf = new Uint32Array(4);

  /** Sets the tree: its key words come from rng(seed, treeIndex, 1). */
  tree(seed: number, treeIndex: number): void {
    const r = rng(seed, treeIndex, STREAM_FEATURES);
    this.k0 = r.uint32() | 0;
    this.k1 = r.uint32() | 0;
  }

  /** Starts node `key`'s stream from its beginning. */
  seek(keyLo: number, keyHi: number): void {
    this.c1 = keyLo | 0;
    this.c2 = keyHi | 0;
    this.block = 0;
    this.pos = 4;
  }

  /**
   * The key of the child (left: 1, right: 0) of node key; lo word in
   * out[0], hi in out[1]. The side is shifted into the 64-bit key, then a
   * bijective mix (odd multiplies, xors across the words) scatters it: two
   * nodes share a key only if their parents' keys differ in the top bit
   * alone (~2^-63 per pair). A Philox call here cost 7% of a small-node
   * regression tree's time.
   */
  childKey(keyLo: number, keyHi: number, left: number, out: Int32Array): void {
    let a = (keyLo << 1) | left;
    let b = (keyHi << 1) | (keyLo >>> 31);
    a = Math.imul(a, 0x85ebca6b);
    b ^= a;
    b = Math.imul(b, 0xc2b2ae35);
    a ^= b >>> 16;
    a = Math.imul(a, 0x27d4eb2f);
    b ^= a >>> 13;
    b = Math.imul(b, 0x165667b1);
    a ^= b >>> 15;
    out[0] = a;
    out[1] = b;
  }

  /**
   * Shuffles a[0 .. n) (Fisher-Yates), from the current node's key and the
   * tree's key alone, without Philox: when every feature is evaluated at a
   * node (maxFeatures >= d) the order they are scanned in decides only which
   * of several exactly equal splits wins (the first), so it needs to be
   * random across nodes, as scikit-learn's draws are, but not a stream of
   * Philox quality. Drawing the order one Philox-backed feature at a time
   * was ~15% of a make_friedman1 tree (10 draws, 3+ Philox blocks and a
   * rejection loop per node). The node key is already a well-mixed 64-bit
   * value (childKey); a murmur finalizer folds it with the tree key into a
   * seed, and mulberry32 steps give the swaps (multiply-shift to [0, i]:
   * a bias of at most d / 2^32, immaterial for an order).
   */
  shuffle(a: Int32Array, n: number): void {
    let h = (this.c1 ^ this.k0) + Math.imul(this.c2 ^ this.k1, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    let state = h ^ (h >>> 16);
    for (let i = n - 1; i > 0; i--) {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const x = (t ^ (t >>> 14)) >>> 0;
      const j = Math.floor((x * (i + 1)) / TWO32);
      const v = a[i]!;
      a[i] = a[j]!;
      a[j] = v;
    }
  }

  private uint32(): number {
    if (this.pos === 4) {
      philox4x32(this.block++, this.c1, this.c2, TAG, this.k0, this.k1, this.buf, 0);
      this.pos = 0;
    }
    return this.buf[this.pos++]!;
  }

  /**
   * A uniform integer in [0, range), 1 <= range <= 2^32, without modulo bias.
   * x % range on a uint32 (a double above 2^31) calls V8's float modulo:
   * ~5% of a small-node regression tree. Floor division gives the same
   * integers exactly (a quotient of two integers below 2^32 never rounds
   * across an integer), so the draws do not change.
   */
  below(range: number): number {
    const limit = Math.floor(TWO32 / range) * range;
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x - Math.floor(x / range) * range;
    }
  }
}
