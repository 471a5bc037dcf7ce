// The ops suite's plumbing: the run plan, timed contenders (sabre, the Python peer, JS libraries),
// the machine's bandwidth anchor and how a group of rows is measured and reported.
import { Engine } from "sabre";
import {
  buildAnchor,
  measureRounds,
  parseFigures,
  Report,
  runAnchor,
  Skip,
  summarize,
  WrongAnswer,
  type Contender,
  type Entry,
  type Outcome,
} from "../harness/index.js";
import { type OpsData } from "../workers/ops-data.js";
import { asyncTimed, type Timed } from "../workers/ops-js.js";
import { PyPeer, type PyInfo } from "../workers/ops-python.js";

/** Rounds of a row whose one call takes seconds (GroupSpec.rows' `slow`). */
export const SLOW_ROUNDS = 3;

/** k-means settings, the same on every side: scikit-learn's defaults for max_iter and tol, one init. */
export const KM = { maxIter: 300, tol: 1e-4, nInit: 1 };

export interface Plan {
  readonly data: OpsData;
  readonly threads: number;
  readonly engine: Engine;
  readonly py: PyPeer | Skip;
  readonly pyInfo: PyInfo | undefined;
  readonly rounds: number;
  /** Rounds for the rows whose one call takes seconds (argsort, k-means). */
  readonly heavyRounds: number;
  /** Target length of one sample, ms (the call count is sized to it). */
  readonly sampleMs: number;
  readonly log: (line: string) => void;
}

// ---- contenders ---------------------------------------------------------------------------------

/**
 * A contender timing `reps` calls per sample: the first call is checked and
 * warms the JIT, a second pilot at the estimated count sizes the sample to
 * about sampleMs, and every sample's last result is checked again (outside
 * the timing), so a fast wrong answer fails its row. `verify` gets the round
 * (-1 for the pilot calls).
 */
export function timed<C>(
  id: string,
  plan: Plan,
  start: () => Promise<Timed<C>>,
  figure: (msPerCall: number) => number,
  verify: (check: C, round: number) => void,
  opts: { fixedReps?: number; maxReps?: number } = {},
): Contender {
  let t: Timed<C> | undefined;
  let reps = 1;
  const estimate = (ms: number, n: number) => Math.max(1, Math.min(opts.maxReps ?? 1e6, Math.round((plan.sampleMs * n) / Math.max(ms, 1e-3))));
  return {
    id,
    async setup() {
      t = await start();
      const first = await t.run(1, -1);
      verify(first.check, -1);
      if (opts.fixedReps !== undefined) {
        reps = opts.fixedReps;
        return;
      }
      reps = estimate(first.ms, 1);
      if (reps > 1) {
        const second = await t.run(reps, -1);
        reps = estimate(second.ms, reps);
      }
    },
    async sample(round) {
      const r = await t!.run(reps, round);
      verify(r.check, round);
      return figure(r.ms / reps);
    },
    async teardown() {
      await t?.close?.();
    },
  };
}

/** A row of the Python peer (numpy, scikit-learn), timed inside Python. */
export function pyStart<C>(plan: Plan, row: string, extra: Record<string, unknown> = {}): () => Promise<Timed<C>> {
  return async () => {
    if (plan.py instanceof Skip) throw plan.py;
    const py = plan.py;
    return { run: (reps, round) => py.run<C>(row, reps, { seed: Math.max(round, 0), ...extra }) };
  };
}

/**
 * A sabre row: `make` looks its ops up (an op missing from the build fails
 * the row with its name); `how` times the calls (all together by default).
 */
export function sabreStart<C>(
  plan: Plan,
  make: (engine: Engine) => (round: number) => Promise<C>,
  how: (fn: (round: number) => Promise<C>) => Timed<C> = asyncTimed,
): () => Promise<Timed<C>> {
  return async () => how(make(plan.engine));
}

export function near(what: string, got: number, want: number, rel: number): void {
  if (!(Math.abs(got - want) <= rel * Math.abs(want))) {
    throw new WrongAnswer(`${what}: got ${got}, expected ${want} (relative tolerance ${rel})`);
  }
}

export const gbps = (bytes: number) => (ms: number) => bytes / (ms * 1e6);
export const usPerCall = (ms: number) => ms * 1e3;
export const asMs = (ms: number) => ms;
export const asS = (ms: number) => ms / 1e3;

// ---- the memory bandwidth -----------------------------------------------------------------------

export interface Bandwidth {
  read: Outcome;
  copy: Outcome;
}

/** bench/anchors/stream.c on `threads` threads over 2 x the big array's size (capped at 512 MiB), `runs` times. */
export async function streamAnchor(plan: Plan, runs: number): Promise<Bandwidth> {
  try {
    const bin = buildAnchor("bench/anchors/stream.c", ["-O2", "-pthread"]);
    const mib = Math.max(64, Math.min(512, Math.round((plan.data.sizes.big * 8) / 2 ** 20)));
    const read: number[] = [];
    const copy: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = await runAnchor(bin, [String(plan.threads), String(mib), "5"]);
      const f = parseFigures(out, { read: /read: ([\d.]+) GB\/s/, copy: /copy: ([\d.]+) GB\/s/ });
      read.push(f.read);
      copy.push(f.copy);
    }
    return { read: { kind: "ok", stats: summarize(read) }, copy: { kind: "ok", stats: summarize(copy) } };
  } catch (err) {
    const o: Outcome = err instanceof Skip ? { kind: "skipped", hint: err.hint } : { kind: "failed", message: String(err) };
    return { read: o, copy: o };
  }
}

// ---- the groups ---------------------------------------------------------------------------------

export interface GroupSpec {
  id: string;
  title: string;
  unit: string;
  better: "lower" | "higher";
  method: string;
  rounds: number;
  /**
   * Rows in order; the reference is "numpy" (or "sklearn"). `slow`: one call
   * takes seconds at full size (pure-JS matmul, tfjs's generic strided
   * kernels, comparator sorts), so the row gets SLOW_ROUNDS rounds, run after
   * the group's other rows, instead of the group's count.
   */
  rows: (Entry & { js?: boolean; slow?: boolean; contender?: Contender })[];
  reference?: string;
  /** Outcomes measured elsewhere (the bandwidth rows quoted in a memory-bound group). */
  extra?: Map<string, Outcome>;
  /** A note for a row known only once measured (k-means: the inertia reached; which side of numpy sabre landed). */
  annotate?: (id: string, outcomes: ReadonlyMap<string, Outcome>) => string | undefined;
}

export async function measureGroup(report: Report, plan: Plan, g: GroupSpec): Promise<void> {
  const pick = (slow: boolean) => g.rows.flatMap((r) => (r.contender && (r.slow ?? false) === slow ? [r.contender] : []));
  const slowRounds = Math.min(g.rounds, SLOW_ROUNDS);
  const outcomes = await measureRounds(pick(false), g.rounds, (id, round) => plan.log(`${g.id}: ${id}, round ${round + 1}/${g.rounds}`));
  const slow = await measureRounds(pick(true), slowRounds, (id, round) => plan.log(`${g.id}: ${id}, round ${round + 1}/${slowRounds} (slow row)`));
  for (const [id, o] of slow) outcomes.set(id, o);
  for (const [id, o] of g.extra ?? []) outcomes.set(id, o);
  for (const [id, o] of outcomes) if (o.kind === "failed") plan.log(`${g.id}: ${id} FAILED: ${o.message}`);
  report.addGroup({
    id: g.id,
    title: g.title,
    unit: g.unit,
    better: g.better,
    reference: g.reference ?? "numpy",
    entries: g.rows.map(({ id, label, ours, note, slow }) => {
      const parts = [g.annotate?.(id, outcomes) ?? note, slow && g.rounds > slowRounds ? `${slowRounds} rounds (seconds per call)` : undefined];
      const n = parts.filter((p) => p !== undefined).join("; ");
      return { id, label, ...(ours ? { ours } : {}), ...(n ? { note: n } : {}) };
    }),
    outcomes,
    method: g.method,
  });
}

/** The JS library rows of each group (for "ahead of every JS library"). */
export const jsRows = new Map<string, string[]>();

export function remember(g: GroupSpec): GroupSpec {
  jsRows.set(
    g.id,
    g.rows.filter((r) => r.js).map((r) => r.id),
  );
  return g;
}

/**
 * The sabre row's note in the groups measured against numpy with a reason
 * (matmul, argsort): the reason for the gap when numpy is ahead.
 */
export function versusNumpy(better: "lower" | "higher", gap: string) {
  return (id: string, outcomes: ReadonlyMap<string, Outcome>): string | undefined => {
    const a = outcomes.get("sabre");
    const b = outcomes.get("numpy");
    if (id !== "sabre" || a?.kind !== "ok" || b?.kind !== "ok") return undefined;
    const ahead = better === "higher" ? a.stats.median > b.stats.median : a.stats.median < b.stats.median;
    return ahead ? "ahead of numpy (the notes say how each side runs)" : `behind numpy: ${gap} (see the notes)`;
  };
}

export function bwRow(label = "machine: C stream read"): Entry {
  return { id: "bw", label, note: "bench/anchors/stream.c, same threads" };
}
