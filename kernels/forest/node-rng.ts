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
