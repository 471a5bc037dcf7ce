/**
 * Summaries of repeated measurements. These machines are noisy (2 shared
 * cores), so a figure is always the median of several samples, reported with
 * its spread; a single timing is never a result.
 */

export interface Stats {
  /** How many samples. */
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** First and third quartiles (linear interpolation, as numpy's default). */
  readonly q1: number;
  readonly q3: number;
  /** The samples in the order they were taken. */
  readonly samples: readonly number[];
}

/** The q-quantile (0..1) of already sorted values, interpolating between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError("quantile of no samples");
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

/** Median, quartiles and range of the samples. Non-finite samples are a bug in the caller. */
export function summarize(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new RangeError("cannot summarize zero samples");
  for (const s of samples) {
    if (!Number.isFinite(s)) throw new RangeError(`a sample is not a finite number: ${s}`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    samples: [...samples],
  };
}
