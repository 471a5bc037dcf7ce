// The per-sample work of the loader benchmark, the same function in every
// loader (sabre's DataLoader, the postMessage loader, piscina, tfjs-data), so
// rows differ only by how a batch reaches the training loop.
//
// A sample is SAMPLE_LEN float32 values. Element 0 is a tag, the sample's
// index (exact in float32 below 2^24), so a consumer can check every index
// arrived once per epoch without recomputing the work.

/** Values per sample: a 28 x 28 image. */
export const SAMPLE_LEN = 784;

/**
 * Decode-like work: pseudo pixels from a hash of (index, position), as if
 * unpacked from a compressed file, then `rounds` smoothing passes with a
 * square root each (a few µs per round for 784 values). Writes
 * out[offset .. offset + SAMPLE_LEN).
 */
export function heavyItem(index: number, out: Float32Array, offset: number, rounds: number): void {
  let h = (index * 0x9e3779b1) | 0;
  for (let i = 1; i < SAMPLE_LEN; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    out[offset + i] = (h & 255) / 255;
  }
  for (let r = 0; r < rounds; r++) {
    let prev = out[offset + 1]!;
    for (let i = 2; i < SAMPLE_LEN; i++) {
      const x = out[offset + i]!;
      out[offset + i] = Math.sqrt(0.5 * x * x + 0.25 * prev * prev + 0.25);
      prev = x;
    }
  }
  out[offset] = index;
}

/** The light work: one row of a row-major [n, rowLen] source copied out (a TensorDataset gather). */
export function gatherRow(source: Float32Array, rowLen: number, index: number, out: Float32Array, offset: number): void {
  out.set(source.subarray(index * rowLen, (index + 1) * rowLen), offset);
}

/** A source table whose row i starts with i (the tag the consumers check); the rest is filler. */
export function fillSource(source: Float32Array, rowLen: number): void {
  const n = source.length / rowLen;
  for (let i = 0; i < n; i++) {
    const base = i * rowLen;
    source[base] = i;
    for (let j = 1; j < rowLen; j++) source[base + j] = (j & 255) / 255;
  }
}

/**
 * The sample order of one epoch: a seeded Fisher-Yates permutation (every
 * peer uses this one; sabre's DataLoader draws its own, which changes only
 * which indices share a batch, not the work).
 */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  let s = (seed * 0x85ebca6b + epoch * 0xc2b2ae35 + 1) | 0;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * Checks one epoch's tags: exactly `n` samples, each index once. The
 * consumer adds every sample's tag into `seen` (a count per index).
 */
export class EpochCheck {
  private readonly seen: Uint8Array;
  private count = 0;
  constructor(private readonly n: number) {
    this.seen = new Uint8Array(n);
  }
  /** Reads the tags of a batch of `b` samples laid out every `stride` values from `offset`. */
  add(values: ArrayLike<number>, b: number, stride: number, offset = 0): void {
    for (let k = 0; k < b; k++) {
      const tag = values[offset + k * stride]!;
      if (tag >= 0 && tag < this.n && Number.isInteger(tag)) this.seen[tag]! += 1;
      this.count++;
    }
  }
  /** Undefined when every index arrived once, else what went wrong. */
  problem(): string | undefined {
    if (this.count !== this.n) return `${this.count} samples arrived in an epoch of ${this.n}`;
    const bad = this.seen.findIndex((c) => c !== 1);
    return bad < 0 ? undefined : `sample ${bad} arrived ${this.seen[bad]} times`;
  }
}

/** What a peer's worker needs to build batches: the work kind and, for a gather, the shared source. */
export interface WorkSpec {
  readonly kind: "heavy" | "gather";
  /** Values per sample (SAMPLE_LEN for heavy; the source's row length for a gather). */
  readonly rowLen: number;
  /** Smoothing rounds per heavy sample. */
  readonly rounds: number;
  /** Gather: the row-major float32 source, [n, rowLen], in shared memory (every loader reads the same one). */
  readonly source?: SharedArrayBuffer;
}

/** Builds one batch into `out` (indices.length x rowLen values): what every peer's worker runs per batch. */
export function fillBatch(spec: WorkSpec, source: Float32Array | undefined, indices: ArrayLike<number>, out: Float32Array): void {
  const b = indices.length;
  if (spec.kind === "heavy") {
    for (let k = 0; k < b; k++) heavyItem(indices[k]!, out, k * spec.rowLen, spec.rounds);
  } else {
    for (let k = 0; k < b; k++) gatherRow(source!, spec.rowLen, indices[k]!, out, k * spec.rowLen);
  }
}
