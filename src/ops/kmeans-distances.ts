// Squared distances between rows of X and centers, the inner loops of
// ops.kmeans (kmeans-spmd.ts). Register-tiled variants of one computation:
// each distance sums its features in order, so every variant gives sq()'s
// bits, and which variant ran never shows in a result.

/** Squared distance between row `a` of `xs` and row `b` of `cs`, in feature order. */
export function sq(xs: Float64Array, a: number, cs: Float64Array, b: number, d: number): number {
  let s = 0;
  for (let f = 0; f < d; f++) {
    const t = xs[a + f]! - cs[b + f]!;
    s += t * t;
  }
  return s;
}

/**
 * Squared distances of the rows at `a` and `b` to each of the m rows of
 * `cs`, into outA[0..m) and outB[0..m). Two rows by four centers at a time
 * (then two by two): each loaded value serves four or two distances, ~1.4x
 * faster here than one row by four centers. Each distance still sums its
 * features in order: the same bits as sq().
 */
export function distancesPair(xs: Float64Array, a: number, b: number, cs: Float64Array, m: number, d: number, outA: Float64Array, outB: Float64Array): void {
  let j = 0;
  // m a multiple of 5 (k = 5, 10, ...): 2 rows x 5 centers, ten independent
  // sums per feature instead of eight (k = 10, 200k x 32: 1-6% less time per fit).
  if (m % 5 === 0) {
    for (; j < m; j += 5) {
      const c0 = j * d;
      const c1 = c0 + d;
      const c2 = c1 + d;
      const c3 = c2 + d;
      const c4 = c3 + d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let s4 = 0;
      let r0 = 0;
      let r1 = 0;
      let r2 = 0;
      let r3 = 0;
      let r4 = 0;
      for (let f = 0; f < d; f++) {
        const v = xs[a + f]!;
        const w = xs[b + f]!;
        const e0 = cs[c0 + f]!;
        const e1 = cs[c1 + f]!;
        const e2 = cs[c2 + f]!;
        const e3 = cs[c3 + f]!;
        const e4 = cs[c4 + f]!;
        let t = v - e0;
        s0 += t * t;
        t = v - e1;
        s1 += t * t;
        t = v - e2;
        s2 += t * t;
        t = v - e3;
        s3 += t * t;
        t = v - e4;
        s4 += t * t;
        t = w - e0;
        r0 += t * t;
        t = w - e1;
        r1 += t * t;
        t = w - e2;
        r2 += t * t;
        t = w - e3;
        r3 += t * t;
        t = w - e4;
        r4 += t * t;
      }
      outA[j] = s0;
      outA[j + 1] = s1;
      outA[j + 2] = s2;
      outA[j + 3] = s3;
      outA[j + 4] = s4;
      outB[j] = r0;
      outB[j + 1] = r1;
      outB[j + 2] = r2;
      outB[j + 3] = r3;
      outB[j + 4] = r4;
    }
    return;
  }
  for (; j + 4 <= m; j += 4) {
    const c0 = j * d;
    const c1 = c0 + d;
    const c2 = c1 + d;
    const c3 = c2 + d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let r0 = 0;
    let r1 = 0;
    let r2 = 0;
    let r3 = 0;
    for (let f = 0; f < d; f++) {
      const v = xs[a + f]!;
      const w = xs[b + f]!;
      const e0 = cs[c0 + f]!;
      const e1 = cs[c1 + f]!;
      const e2 = cs[c2 + f]!;
      const e3 = cs[c3 + f]!;
      let t = v - e0;
      s0 += t * t;
      t = v - e1;
      s1 += t * t;
      t = v - e2;
      s2 += t * t;
      t = v - e3;
      s3 += t * t;
      t = w - e0;
      r0 += t * t;
      t = w - e1;
      r1 += t * t;
      t = w - e2;
      r2 += t * t;
      t = w - e3;
      r3 += t * t;
    }
    outA[j] = s0;
    outA[j + 1] = s1;
    outA[j + 2] = s2;
    outA[j + 3] = s3;
    outB[j] = r0;
    outB[j + 1] = r1;
    outB[j + 2] = r2;
    outB[j + 3] = r3;
  }
  for (; j + 2 <= m; j += 2) {
    const c0 = j * d;
    const c1 = c0 + d;
    let s0 = 0;
    let s1 = 0;
    let r0 = 0;
    let r1 = 0;
    for (let f = 0; f < d; f++) {
      const v = xs[a + f]!;
      const w = xs[b + f]!;
      const e0 = cs[c0 + f]!;
      const e1 = cs[c1 + f]!;
      let t = v - e0;
      s0 += t * t;
      t = v - e1;
      s1 += t * t;
      t = w - e0;
      r0 += t * t;
      t = w - e1;
      r1 += t * t;
    }
    outA[j] = s0;
    outA[j + 1] = s1;
    outB[j] = r0;
    outB[j + 1] = r1;
  }
  for (; j < m; j++) {
    const c = j * d;
    let s = 0;
    let r = 0;
    for (let f = 0; f < d; f++) {
      const e = cs[c + f]!;
      let t = xs[a + f]! - e;
      s += t * t;
      t = xs[b + f]! - e;
      r += t * t;
    }
    outA[j] = s;
    outB[j] = r;
  }
}

/** Squared distances of the row at `a` to each of the m rows of `cs` into out[0..m), four centers at a time, each summed in feature order. */
export function distances(xs: Float64Array, a: number, cs: Float64Array, m: number, d: number, out: Float64Array): void {
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    const c0 = j * d;
    const c1 = c0 + d;
    const c2 = c1 + d;
    const c3 = c2 + d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let f = 0; f < d; f++) {
      const v = xs[a + f]!;
      const t0 = v - cs[c0 + f]!;
      const t1 = v - cs[c1 + f]!;
      const t2 = v - cs[c2 + f]!;
      const t3 = v - cs[c3 + f]!;
      s0 += t0 * t0;
      s1 += t1 * t1;
      s2 += t2 * t2;
      s3 += t3 * t3;
    }
    out[j] = s0;
    out[j + 1] = s1;
    out[j + 2] = s2;
    out[j + 3] = s3;
  }
  for (; j < m; j++) out[j] = sq(xs, a, cs, j * d, d);
}
