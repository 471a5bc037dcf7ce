// The standard normal quantile function (scipy.stats.norm.ppf), which
// RobustScaler's unitVariance divides by: a rough start refined by Halley
// steps on the CDF, itself a power series near 0 and Laplace's continued
// fraction in the tails (both accurate to ~1e-15 there).
const SQRT_2PI = Math.sqrt(2 * Math.PI);

function pdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/** The standard normal CDF. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax <= 5) {
    // Phi(x) = 1/2 + pdf(x) * sum x^(2n+1) / (2n+1)!!
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let k = 1; k < 500; k++) {
      term *= x2 / (2 * k + 1);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return 0.5 + pdf(x) * sum;
  }
  if (ax > 40) return x > 0 ? 1 : 0;
  // upper tail Q(ax) = pdf(ax) / (ax + 1/(ax + 2/(ax + 3/(ax + ...))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / f;
  const q = pdf(ax) / f;
  return x > 0 ? 1 - q : q;
}

/** The standard normal quantile: -Infinity at 0, Infinity at 1, NaN outside [0, 1]. */
export function normalPpf(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  // Abramowitz & Stegun 26.2.23 (error < 4.5e-4) as the start
  const pp = p < 0.5 ? p : 1 - p;
  const t = Math.sqrt(-2 * Math.log(pp));
  let x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  if (p < 0.5) x = -x;
  for (let i = 0; i < 8; i++) {
    const e = normalCdf(x) - p;
    const u = e / pdf(x);
    const dx = u / (1 + (x * u) / 2);
    x -= dx;
    if (Math.abs(dx) <= 1e-16 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}
