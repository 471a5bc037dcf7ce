// The body of ops.kmeans that every worker runs at once (SPMD), or the
// calling thread alone for small inputs. The phases, who writes what and
// why nothing deadlocks are in kernels/ops/kmeans.md.
import { BrokenBarrierError } from "../errors.js";
import { rng, type Rng } from "../random/rng.js";
import type { Barrier } from "../sync/barrier.js";
import { distances, distancesPair, sq } from "./kmeans-distances.js";
import { kmeansScan, type KMeansScan } from "../../kernels/ops/kmeans-wasm.js";
import { BAD, DONE, NOT_FINITE, STOP, STOPPED, type KMeansJob } from "./kmeans-layout.js";

/** Unwinds a worker that saw the STOP word (another party breaks the barrier for the rest). */
const STOP_SIGNAL = Symbol("kmeans stop");
const ABORTED = AbortSignal.abort();

/**
 * Breaks `barrier` from outside its generations: every party waiting now,
 * and every later wait(), gets BrokenBarrierError. (waitAsync with an
 * aborted signal breaks the open generation before its first await.)
 */
export function breakBarrier(barrier: Barrier): void {
  barrier.waitAsync({ signal: ABORTED }).catch(() => undefined);
}

/**
 * Runs worker `w` of `threads`. Returns DONE, NOT_FINITE (every worker
 * agrees) or STOPPED; any other failure stops the others and is rethrown.
 */
export function kmeansSpmd(w: number, threads: number, job: KMeansJob): number {
  try {
    return run(w, threads, job);
  } catch (err) {
    if (err === STOP_SIGNAL || err instanceof BrokenBarrierError) return STOPPED;
    Atomics.store(job.control, STOP, 1);
    breakBarrier(job.barrier);
    throw err;
  }
}

/** Meets the other workers; leaves by STOP_SIGNAL if the call was stopped. */
function sync(job: KMeansJob): void {
  if (Atomics.load(job.control, STOP) !== 0) throw STOP_SIGNAL;
  job.barrier.wait();
}

function checkStop(job: KMeansJob): void {
  if (Atomics.load(job.control, STOP) !== 0) throw STOP_SIGNAL;
}


function run(w: number, threads: number, job: KMeansJob): number {
  const { n, d, k, blocks, blockRows } = job;
  const b0 = Math.floor((w * blocks) / threads);
  const b1 = Math.floor(((w + 1) * blocks) / threads);
  // The distance pass and Lloyd's step in WebAssembly SIMD over this
  // worker's copy of its own rows (kernel 0: the k centers; kernel 1: the
  // k-means++ candidates), or null: the JS loops, same bits. prepare()
  // fills the copy as it reads the rows.
  const first = b0 * blockRows;
  const owned = Math.max(0, Math.min(n, b1 * blockRows) - first);
  const scan = kmeansScan([k, job.trials], d, owned, (b1 - b0) * (k * d + k));
  const tolAbs = prepare(job, b0, b1, scan);
  if (tolAbs < 0) return NOT_FINITE;
  const centers = new Float64Array(k * d);
  let bestInertia = Infinity;
  for (let r = 0; r < job.nInit; r++) {
    if (job.initKind === 2) centers.set(job.init);
    else if (job.initKind === 1) {
      const order = rng(job.seed, r).permutation(n);
      for (let c = 0; c < k; c++) copyRow(job, order[c]!, centers, c);
    } else plusPlus(job, b0, b1, rng(job.seed, r), centers, scan);
    const { iterations, inertia } = lloyd(job, b0, b1, centers, tolAbs, scan);
    // Every worker takes the same decision: the inertias are the same bits everywhere.
    if (r === 0 || inertia < bestInertia) {
      bestInertia = inertia;
      const end = Math.min(n, b1 * blockRows);
      job.labels.set(job.work.subarray(b0 * blockRows, end), b0 * blockRows);
      if (w === 0) {
        job.centers.set(centers);
        job.info[0] = inertia;
        job.info[1] = iterations;
      }
    }
  }
  return DONE;
}

function copyRow(job: KMeansJob, row: number, out: Float64Array, c: number): void {
  const { xc, xOff, d } = job;
  out.set(xc.subarray(xOff + row * d, xOff + (row + 1) * d), c * d);
}

/**
 * Phase 0: copies the worker's blocks into float64 if needed, checks that
 * every value is finite, and computes the absolute tolerance (tol times the
 * mean per-feature variance, as scikit-learn). Returns -1 if X is not finite.
 */
function prepare(job: KMeansJob, b0: number, b1: number, scan: KMeansScan | null): number {
  const { x, xc, xOff, n, d, blockRows, blocks, stat, control } = job;
  let finite = true;
  for (let b = b0; b < b1; b++) {
    const r0 = b * blockRows;
    const r1 = Math.min(n, r0 + blockRows);
    if (job.copy) {
      const data = x.data as ArrayLike<number>;
      const [s0, s1] = x.stride as [number, number];
      for (let i = r0; i < r1; i++) {
        const src = x.offset + i * s0;
        const dst = i * d;
        for (let f = 0; f < d; f++) xc[dst + f] = data[src + f * s1]!;
      }
    }
    const sb = b * d;
    for (let f = 0; f < d; f++) stat[sb + f] = 0;
    if (scan !== null) {
      // The scan's copy (a block copy), then its sums and finiteness in WebAssembly.
      const { f64, lay } = scan;
      const first = b0 * blockRows;
      f64.set(xc.subarray(xOff + r0 * d, xOff + r1 * d), lay.rows + (r0 - first) * d);
      f64.fill(0, lay.dev, lay.dev + d);
      if (!scan.stats(r0 - first, r1 - first)) finite = false;
      for (let f = 0; f < d; f++) stat[sb + f] = f64[lay.dev + f]!;
    } else {
      for (let i = r0; i < r1; i++) {
        const a = xOff + i * d;
        for (let f = 0; f < d; f++) {
          const v = xc[a + f]!;
          if (v - v !== 0) finite = false;
          stat[sb + f]! += v;
        }
      }
    }
    checkStop(job);
  }
  if (!finite) Atomics.store(control, BAD, 1);
  sync(job);
  if (Atomics.load(control, BAD) !== 0) return -1;
  if (job.tol === 0) return 0;
  const mean = new Float64Array(d);
  for (let b = 0; b < blocks; b++) for (let f = 0; f < d; f++) mean[f]! += stat[b * d + f]!;
  for (let f = 0; f < d; f++) mean[f]! /= n;
  const dev = blocks * d;
  if (scan !== null) scan.f64.set(mean, scan.lay.mean);
  for (let b = b0; b < b1; b++) {
    const r1 = Math.min(n, (b + 1) * blockRows);
    const sb = dev + b * d;
    if (scan !== null) {
      const { f64, lay } = scan;
      f64.fill(0, lay.dev, lay.dev + d);
      scan.devs(b * blockRows - b0 * blockRows, r1 - b0 * blockRows);
      for (let f = 0; f < d; f++) stat[sb + f] = f64[lay.dev + f]!;
      continue;
    }
    for (let f = 0; f < d; f++) stat[sb + f] = 0;
    for (let i = b * blockRows; i < r1; i++) {
      const a = xOff + i * d;
      for (let f = 0; f < d; f++) {
        const t = xc[a + f]! - mean[f]!;
        stat[sb + f]! += t * t;
      }
    }
  }
  sync(job);
  let total = 0;
  for (let f = 0; f < d; f++) {
    let s = 0;
    for (let b = 0; b < blocks; b++) s += stat[dev + b * d + f]!;
    total += s / n;
  }
  return (total / d) * job.tol;
}

/**
 * scikit-learn's greedy k-means++: the first center uniformly, then for each
 * next one `trials` candidates drawn with probability proportional to the
 * squared distance to the nearest chosen center, keeping the candidate that
 * leaves the smallest potential. Workers update the distances of their own
 * rows; every worker draws the same numbers and takes the same decisions.
 */
function plusPlus(job: KMeansJob, b0: number, b1: number, random: Rng, centers: Float64Array, scan: KMeansScan | null): void {
  const { xc, xOff, n, d, k, blocks, blockRows, dist, pot, work: near } = job;
  const L = job.trials;
  copyRow(job, random.int(0, n), centers, 0);
  // dist holds L + 1 rows of n: `cur` is the distances to the chosen centers,
  // the other L take the candidates'. pot[parity] holds per-block sums; the
  // parity flips each step so that a worker still reading step s's sums is
  // never overwritten by one already in step s + 1 (kmeans.md). `near` (the
  // rows' Lloyd labels, unused until Lloyd starts) is each own row's nearest
  // chosen center.
  let cur = 0;
  let prev = 0;
  let col = 0;
  let parity = 0;
  // With the scan, each worker's step runs in WebAssembly over a mirror of
  // its rows of `dist` (and its own `near`), and copies the rows it wrote
  // back into `dist`, where every worker's search reads them.
  const first = b0 * blockRows;
  const mirror = scan === null ? 0 : scan.lay.dist - first;
  // With the scan, every row's label is 0 (its `near`) and center 0 is the first center.
  if (scan !== null) scan.centers(0, centers, 0);
  for (let b = b0; b < b1; b++) {
    const r0 = b * blockRows;
    const r1 = Math.min(n, r0 + blockRows);
    if (scan !== null) {
      scan.i32.fill(0, scan.lay.near + r0 - first, scan.lay.near + r1 - first);
      pot[b * L] = scan.rowDist(r0 - first, r1 - first, scan.lay.near, scan.lay.dist);
      dist.set(scan.f64.subarray(mirror + r0, mirror + r1), r0);
      near.fill(0, r0, r1);
      continue;
    }
    let s = 0;
    for (let i = r0; i < r1; i++) {
      const v = sq(xc, xOff + i * d, centers, 0, d);
      dist[i] = v;
      near[i] = 0;
      s += v;
    }
    pot[b * L] = s;
  }
  sync(job);
  let total = 0;
  for (let b = 0; b < blocks; b++) total += pot[b * L]!;
  const cand = new Int32Array(L);
  const bufs = new Int32Array(L);
  const sums = new Float64Array(L);
  const rows = new Float64Array(L * d);
  const dd = new Float64Array(L);
  const de = new Float64Array(L);
  // gap[q]: the smallest distance from chosen center q to any candidate.
  const gap = new Float64Array(k);
  for (let c = 1; c < k; c++) {
    for (let j = 0; j < L; j++) cand[j] = search(job, random.float() * total, cur * n, parity * blocks * L, col);
    for (let q = 0, m = 0; q <= L; q++) if (q !== cur) bufs[m++] = q;
    for (let j = 0; j < L; j++) copyRow(job, cand[j]!, rows, j);
    for (let q = 0; q < c; q++) {
      let g = Infinity;
      for (let j = 0; j < L; j++) g = Math.min(g, Math.sqrt(sq(centers, q * d, rows, j * d, d)));
      gap[q] = g;
    }
    if (scan !== null) {
      scan.candidates(rows);
      scan.f64.set(gap, scan.lay.gap);
      scan.i32.set(bufs, scan.lay.bufs);
    }
    const next = parity ^ 1;
    for (let b = b0; b < b1; b++) {
      const r0 = b * blockRows;
      const r1 = Math.min(n, r0 + blockRows);
      if (scan !== null) {
        scan.plusPlus(r0 - first, r1 - first, c, cur, prev);
        const f64 = scan.f64;
        const owned = scan.owned;
        for (let j = 0; j < L; j++) {
          const row = bufs[j]!;
          const from = mirror + row * owned;
          dist.set(f64.subarray(from + r0, from + r1), row * n + r0);
        }
        const pb = (next * blocks + b) * L;
        for (let j = 0; j < L; j++) pot[pb + j] = f64[scan.lay.out + j]!;
        checkStop(job);
        continue;
      }
      // Rows that need their distances to the candidates are computed two at
      // a time (as Lloyd's scan); the sums then follow the rows in order.
      let pending = -1;
      for (let i = r0; i < r1; i++) {
        const have = dist[cur * n + i]!;
        // The last chosen center is nearest to this row if it lowered its distance.
        if (c > 1 && have < dist[prev * n + i]!) near[i] = c - 1;
        // Triangle inequality: every candidate at least 2 r from the row's
        // nearest center is at least r from the row and changes nothing. The
        // margin keeps rounding out of it: the sums are a full scan's bits.
        if (gap[near[i]!]! >= 2 * Math.sqrt(have) * (1 + MARGIN)) {
          for (let j = 0; j < L; j++) dist[bufs[j]! * n + i] = have;
          continue;
        }
        if (pending < 0) {
          pending = i;
          continue;
        }
        distancesPair(xc, xOff + pending * d, xOff + i * d, rows, L, d, dd, de);
        lowered(dist, bufs, n, pending, dist[cur * n + pending]!, dd);
        lowered(dist, bufs, n, i, have, de);
        pending = -1;
      }
      if (pending >= 0) {
        distances(xc, xOff + pending * d, rows, L, d, dd);
        lowered(dist, bufs, n, pending, dist[cur * n + pending]!, dd);
      }
      for (let j = 0; j < L; j++) {
        const row = bufs[j]! * n;
        let s = 0;
        for (let i = r0; i < r1; i++) s += dist[row + i]!;
        sums[j] = s;
      }
      const pb = (next * blocks + b) * L;
      for (let j = 0; j < L; j++) pot[pb + j] = sums[j]!;
      checkStop(job);
    }
    sync(job);
    let best = 0;
    let bestPot = Infinity;
    for (let j = 0; j < L; j++) {
      let s = 0;
      for (let b = 0; b < blocks; b++) s += pot[(next * blocks + b) * L + j]!;
      if (s < bestPot) {
        bestPot = s;
        best = j;
      }
    }
    total = bestPot;
    prev = cur;
    cur = bufs[best]!;
    col = best;
    parity = next;
    copyRow(job, cand[best]!, centers, c);
  }
}

/** Row i's distances to the candidates: each the smaller of `have` (to the chosen centers) and its distance in `ds`. */
function lowered(dist: Float64Array, bufs: Int32Array, n: number, i: number, have: number, ds: Float64Array): void {
  for (let j = 0; j < bufs.length; j++) {
    const v = ds[j]!;
    dist[bufs[j]! * n + i] = v < have ? v : have;
  }
}

/**
 * The first row whose running sum of distances reaches `r` (numpy's
 * searchsorted on the cumulative sum, side "left"), clipped to n - 1. Block
 * sums skip whole blocks; the running sum restarts at each block's prefix,
 * so the answer depends only on the data, never on the thread count.
 */
function search(job: KMeansJob, r: number, rowBase: number, potBase: number, col: number): number {
  const { n, blocks, blockRows, dist, pot } = job;
  const L = job.trials;
  let before = 0;
  for (let b = 0; b < blocks; b++) {
    const s = pot[potBase + b * L + col]!;
    if (before + s >= r) {
      const end = Math.min(n, (b + 1) * blockRows);
      let acc = before;
      for (let i = b * blockRows; i < end; i++) {
        acc += dist[rowBase + i]!;
        if (acc >= r) return i;
      }
    }
    before += s;
  }
  return n - 1;
}

/**
 * Hamerly's bounds let a row keep its label without computing its k
 * distances, and only when that is certain: the skip needs the bounds to
 * clear each other by this relative margin, far above the rounding of the
 * distances (~d * 1e-16), so a skipped row gets exactly the label a full
 * scan would give. k-means++ skips candidates the same way.
 */
const MARGIN = 1e-7;

/**
 * Per-iteration state of the assignment: the centers, half the distance from
 * each to its nearest other center, and how far each moved in the last update.
 */
class Assign {
  readonly half: Float64Array;
  readonly move: Float64Array;
  /** The center that moved most, how far, and the second largest move. */
  far = -1;
  move1 = 0;
  move2 = 0;
  /** The k squared distances of the two rows scanned together. */
  private readonly da: Float64Array;
  private readonly db: Float64Array;

  constructor(
    readonly job: KMeansJob,
    readonly centers: Float64Array,
    readonly scan: KMeansScan | null,
  ) {
    this.half = new Float64Array(job.k);
    this.move = new Float64Array(job.k);
    this.da = new Float64Array(job.k);
    this.db = new Float64Array(job.k);
  }

  /** Before an assignment pass: half the gap from each center to its nearest neighbour. */
  prepare(): void {
    const { k, d } = this.job;
    const c = this.centers;
    const half = this.half;
    half.fill(Infinity);
    for (let j = 0; j < k; j++) {
      for (let q = j + 1; q < k; q++) {
        const g = Math.sqrt(sq(c, j * d, c, q * d, d)) / 2;
        if (g < half[j]!) half[j] = g;
        if (g < half[q]!) half[q] = g;
      }
    }
    const scan = this.scan;
    if (scan !== null) {
      scan.centers(0, c, 0);
      scan.f64.set(half, scan.lay.half);
      scan.f64.set(this.move, scan.lay.move);
    }
  }

  /** After an update: how far each center moved (from the squared moves in `moved`). */
  moved(moved: Float64Array): void {
    let far = -1;
    let m1 = 0;
    let m2 = 0;
    for (let j = 0; j < moved.length; j++) {
      const m = Math.sqrt(moved[j]!);
      this.move[j] = m;
      if (m > m1) {
        m2 = m1;
        m1 = m;
        far = j;
      } else if (m > m2) m2 = m;
    }
    this.far = far;
    this.move1 = m1;
    this.move2 = m2;
  }

  /**
   * The JS path (no WebAssembly; lloyd() calls scan.assign instead, the
   * same operations in WebAssembly): the labels of rows [r0, r1) into lab[0 .. r1 - r0): a row's old one when
   * the bounds prove it still nearest, else a scan of all centers (the first
   * of equal distances wins, as in plain Lloyd). Rows that need a scan are
   * paired and scanned two at a time; each row's result is its own, so the
   * labels are those of one row at a time. `fresh`: no bounds yet, scan all.
   */
  block(r0: number, r1: number, fresh: boolean, lab: Int32Array): void {
    const { xOff, d } = this.job;
    let pending = -1;
    for (let i = r0; i < r1; i++) {
      if (!fresh) {
        const j = this.bounded(i);
        if (j >= 0) {
          lab[i - r0] = j;
          continue;
        }
      }
      if (pending < 0) {
        pending = i;
        continue;
      }
      distancesPair(this.job.xc, xOff + pending * d, xOff + i * d, this.centers, this.job.k, d, this.da, this.db);
      lab[pending - r0] = this.settle(pending, this.da);
      lab[i - r0] = this.settle(i, this.db);
      pending = -1;
    }
    if (pending >= 0) {
      distances(this.job.xc, xOff + pending * d, this.centers, this.job.k, d, this.da);
      lab[pending - r0] = this.settle(pending, this.da);
    }
  }

  /**
   * Row i's old label when its bounds prove it nearest; else -1. A row whose
   * bounds fail goes straight to the paired scan, without first tightening
   * its upper bound by its own distance: that one distance waits on each of
   * its d additions (a single chain), rarely saves the scan on overlapping
   * data, and the scan resets both bounds exactly (200k x 32, k = 10, one
   * thread: ~6% less time per fit).
   */
  private bounded(i: number): number {
    const { work, upper, lower } = this.job;
    const j = work[i]!;
    const u = upper[i]! + this.move[j]!;
    const l = lower[i]! - (j === this.far ? this.move2 : this.move1);
    const m = Math.max(this.half[j]!, l) * (1 - MARGIN);
    if (u * (1 + MARGIN) < m) {
      upper[i] = u;
      lower[i] = l;
      return j;
    }
    return -1;
  }

  /** Row i's nearest center from its k squared distances in `ds` from `at` (the first on ties); resets its bounds. */
  private settle(i: number, ds: Float64Array, at = 0): number {
    let best = 0;
    let bestD = Infinity;
    let second = Infinity;
    for (let j = 0; j < this.job.k; j++) {
      const s = ds[at + j]!;
      if (s < bestD) {
        second = bestD;
        bestD = s;
        best = j;
      } else if (s < second) second = s;
    }
    this.job.upper[i] = Math.sqrt(bestD);
    this.job.lower[i] = Math.sqrt(second);
    return best;
  }
}

/**
 * Lloyd's iterations from `centers` (updated in place), then the final
 * E-step, as scikit-learn's _kmeans_single_lloyd: stop when no label
 * changed ("strict convergence") or when the squared center shift is
 * <= tolAbs; after a tol stop (or maxIter), labels are recomputed for the
 * final centers. Returns the iterations run and the inertia. Assignment
 * uses Hamerly's bounds (see Assign), which change no label, only the work.
 */
function lloyd(job: KMeansJob, b0: number, b1: number, centers: Float64Array, tolAbs: number, scan: KMeansScan | null): { iterations: number; inertia: number } {
  const { xc, xOff, n, d, k, blocks, blockRows, part, work, stat } = job;
  const kd = k * d;
  const stride = kd + k + 1;
  const fresh = new Float64Array(kd);
  const counts = new Float64Array(k);
  const moved = new Float64Array(k);
  const assign = new Assign(job, centers, scan);
  const lab = new Int32Array(blockRows);
  const first = b0 * blockRows;
  const last = Math.min(n, b1 * blockRows);
  work.fill(-1, first, last);
  if (scan !== null) scan.i32.fill(-1, scan.lay.lab, scan.lay.lab + Math.max(0, last - first));
  let strict = false;
  let iterations = job.maxIter;
  for (let it = 0; it < job.maxIter; it++) {
    const parity = it & 1;
    assign.prepare();
    for (let b = b0; b < b1; b++) {
      const base = (parity * blocks + b) * stride;
      const cnt = base + kd;
      // A block's sums carry over from the last iteration (the other parity)
      // and follow only the rows whose label changed: after the first
      // iterations few do, and a pass costs the bounds checks alone.
      const r0 = b * blockRows;
      const r1 = Math.min(n, r0 + blockRows);
      if (scan !== null) {
        // The block's sums live in the scan's memory between iterations.
        const sums = scan.lay.sums + (b - b0) * (kd + k);
        if (it === 0) scan.f64.fill(0, sums, sums + kd + k);
        const changed = scan.assign(r0 - first, r1 - first, it === 0, true, sums, assign.far, assign.move1, assign.move2);
        part.set(scan.f64.subarray(sums, sums + kd + k), base);
        part[cnt + k] = changed;
        work.set(scan.i32.subarray(scan.lay.lab + r0 - first, scan.lay.lab + r1 - first), r0);
        checkStop(job);
        continue;
      }
      if (it === 0) part.fill(0, base, base + stride);
      else part.copyWithin(base, ((parity ^ 1) * blocks + b) * stride, ((parity ^ 1) * blocks + b) * stride + kd + k);
      let changed = 0;
      assign.block(r0, r1, it === 0, lab);
      // The sums follow the rows in order, as one row at a time would.
      for (let i = r0; i < r1; i++) {
        const j = lab[i - r0]!;
        const was = work[i]!;
        if (was === j) continue;
        changed++;
        work[i] = j;
        const a = xOff + i * d;
        const sb = base + j * d;
        for (let f = 0; f < d; f++) part[sb + f]! += xc[a + f]!;
        part[cnt + j]! += 1;
        if (was >= 0) {
          const so = base + was * d;
          for (let f = 0; f < d; f++) part[so + f]! -= xc[a + f]!;
          part[cnt + was]! -= 1;
        }
      }
      part[cnt + k] = changed;
      checkStop(job);
    }
    sync(job);
    // Every worker combines all blocks in block order: the same bits for any thread count.
    fresh.fill(0);
    counts.fill(0);
    let changed = 0;
    for (let b = 0; b < blocks; b++) {
      const base = (parity * blocks + b) * stride;
      for (let q = 0; q < kd; q++) fresh[q]! += part[base + q]!;
      for (let j = 0; j < k; j++) counts[j]! += part[base + kd + j]!;
      changed += part[base + kd + k]!;
    }
    if (counts.includes(0)) {
      relocate(job, centers, fresh, counts);
      // work is rewritten by the next assignment: wait until every worker has read it.
      sync(job);
    }
    let shift = 0;
    for (let j = 0; j < k; j++) {
      const cb = j * d;
      if (counts[j]! > 0) {
        const alpha = 1 / counts[j]!;
        for (let f = 0; f < d; f++) fresh[cb + f]! *= alpha;
      }
      let m = 0;
      for (let f = 0; f < d; f++) {
        const t = fresh[cb + f]! - centers[cb + f]!;
        m += t * t;
      }
      moved[j] = m;
      shift += m;
    }
    centers.set(fresh);
    assign.moved(moved);
    if (changed === 0) {
      strict = true;
      iterations = it + 1;
      break;
    }
    if (shift <= tolAbs) {
      iterations = it + 1;
      break;
    }
  }
  if (!strict) assign.prepare();
  else if (scan !== null) scan.centers(0, centers, 0); // the inertia's centers (prepare() writes them otherwise)
  const inert = 2 * blocks * d;
  for (let b = b0; b < b1; b++) {
    const r0 = b * blockRows;
    const r1 = Math.min(n, r0 + blockRows);
    if (!strict && scan !== null) {
      scan.assign(r0 - first, r1 - first, false, false, 0, assign.far, assign.move1, assign.move2);
      work.set(scan.i32.subarray(scan.lay.lab + r0 - first, scan.lay.lab + r1 - first), r0);
    } else if (!strict) {
      assign.block(r0, r1, false, lab);
      work.set(lab.subarray(0, r1 - r0), r0);
    }
    let s = 0;
    if (scan !== null) s = scan.rowDist(r0 - first, r1 - first, scan.lay.lab);
    else for (let i = r0; i < r1; i++) s += sq(xc, xOff + i * d, centers, work[i]! * d, d);
    stat[inert + b] = s;
    checkStop(job);
  }
  sync(job);
  let inertia = 0;
  for (let b = 0; b < blocks; b++) inertia += stat[inert + b]!;
  return { iterations, inertia };
}

/**
 * scikit-learn's empty-cluster rule: each empty cluster takes one of the
 * points farthest from their own centers (largest first; ties to the lower
 * row), which leaves its old cluster's sums. `fresh` holds sums, not means.
 */
function relocate(job: KMeansJob, centers: Float64Array, fresh: Float64Array, counts: Float64Array): void {
  const { xc, xOff, n, d, k, work } = job;
  // Every worker needs every row's distance to its center: rare enough
  // (an empty cluster) to recompute here rather than store on every pass.
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) dist[i] = sq(xc, xOff + i * d, centers, work[i]! * d, d);
  const empty: number[] = [];
  for (let j = 0; j < k; j++) if (counts[j] === 0) empty.push(j);
  let far: ArrayLike<number>;
  if (empty.length === 1) {
    let best = 0;
    for (let i = 1; i < n; i++) if (dist[i]! > dist[best]!) best = i;
    far = [best];
  } else {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => dist[b]! - dist[a]! || a - b);
    far = order;
  }
  for (let e = 0; e < empty.length; e++) {
    const j = empty[e]!;
    const i = far[e]!;
    const from = work[i]!;
    const a = xOff + i * d;
    for (let f = 0; f < d; f++) {
      fresh[from * d + f]! -= xc[a + f]!;
      fresh[j * d + f] = xc[a + f]!;
    }
    counts[j] = 1;
    counts[from]! -= 1;
  }
}
