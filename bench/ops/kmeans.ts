// k-means against scikit-learn's KMeans and ml-kmeans: time per fit and the inertia reached.
import { Skip, summarize, WrongAnswer } from "../harness/index.js";
import { sabreOp } from "../workers/ops-api.js";
import { KM_STD } from "../workers/ops-data.js";
import { inertiaOf, mlKmeans, syncTimed, toRows } from "../workers/ops-js.js";
import { SKLEARN_HINT } from "../workers/ops-python.js";
import { type Plan, type GroupSpec, timed, pyStart, sabreStart, asS, remember, KM } from "./plan.js";

export interface KmCheck {
  inertia: number;
  iterations: number;
}

/** The medians, over the rounds' seeds, of what each k-means row reached. */
export function kmMedian(fits: Map<string, KmCheck[]>, id: string, key: keyof KmCheck): number | undefined {
  const l = fits.get(id);
  return l && l.length > 0 ? summarize(l.map((c) => c[key])).median : undefined;
}

export function kmeansGroup(plan: Plan, fits: Map<string, KmCheck[]>): GroupSpec {
  const d = plan.data;
  const X = d.km.array;
  const x = X.data as Float64Array;
  const [n, dim, k] = [d.sizes.kmRows, d.sizes.kmCols, d.sizes.k];
  const record = (id: string) => (c: KmCheck, round: number) => {
    if (!(Number.isFinite(c.inertia) && c.inertia > 0)) throw new WrongAnswer(`${id}: inertia ${c.inertia}`);
    // The pilot fit (seed 0, like round 0) warms up; only the rounds' fits count.
    if (round < 0) return;
    const list = fits.get(id) ?? [];
    list.push(c);
    fits.set(id, list);
  };
  return remember({
    id: "kmeans",
    title: `k-means k=${k} on ${n >= 1e3 ? `${n / 1e3}k` : n} x ${dim} float64`,
    unit: "s",
    better: "lower",
    rounds: plan.heavyRounds,
    reference: "sklearn",
    method: `One fit per sample (n_init=${KM.nInit}, max_iter=${KM.maxIter}, tol=${KM.tol}; round r uses seed r on every side, so the inertia and iteration count beside each row are medians over seeds; tol as scikit-learn reads it, relative to the mean feature variance). Data: ${k} overlapping Gaussian blobs (std ${KM_STD} around centers uniform in [-10, 10)^${dim}), so Lloyd's loop is most of a fit. sabre on ${plan.threads} threads; scikit-learn's KMeans (lloyd) with OpenMP limited to ${plan.threads} threads (OMP_NUM_THREADS, threadpoolctl); ml-kmeans is one thread (tolerance and seed semantics its own).`,
    rows: [
      {
        id: "sabre",
        label: "sabre ops.kmeans",
        ours: true,
        contender: timed("sabre", plan, sabreStart(plan, (engine) => {
          const op = sabreOp("kmeans");
          return async (round) => {
            const r = await op(X, { k, ...KM, seed: Math.max(round, 0), engine });
            return { inertia: r.inertia, iterations: r.iterations };
          };
        }), asS, record("sabre"), { fixedReps: 1 }),
      },
      {
        id: "sklearn",
        label: "scikit-learn KMeans",
        contender: timed("sklearn", plan, async () => {
          if (plan.pyInfo && !plan.pyInfo.sklearn) throw new Skip(SKLEARN_HINT);
          return pyStart<KmCheck>(plan, "kmeans", { k, ...KM })();
        }, asS, record("sklearn"), { fixedReps: 1 }),
      },
      {
        id: "mlkmeans",
        slow: true,
        label: "ml-kmeans",
        js: true,
        contender: timed("mlkmeans", plan, async () => {
          const { kmeans } = await mlKmeans();
          const rows = toRows(X);
          return syncTimed((round) => {
            const r = kmeans(rows, k, { maxIterations: KM.maxIter, tolerance: KM.tol, initialization: "kmeans++", seed: Math.max(round, 0) + 1 });
            return { inertia: inertiaOf(x, dim, r.clusters, r.centroids.flat()), iterations: r.iterations };
          });
        }, asS, record("mlkmeans"), { fixedReps: 1 }),
      },
    ],
    annotate: (id) => {
      const v = kmMedian(fits, id, "inertia");
      const it = kmMedian(fits, id, "iterations");
      return v === undefined ? undefined : `inertia ${v.toExponential(6)}, ${it} iterations (medians over seeds)`;
    },
  });
}
