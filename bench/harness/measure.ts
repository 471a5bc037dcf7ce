import { summarize, type Stats } from "./stats.js";

/**
 * Thrown by a contender that cannot run here (a peer not installed, gcc
 * missing, a sabre primitive not in this build). The row is shown as skipped
 * with the hint, never faked.
 */
export class Skip extends Error {
  readonly hint: string;
  constructor(hint: string) {
    super(hint);
    this.name = "Skip";
    this.hint = hint;
  }
}

/**
 * A measurement that ran but produced a wrong answer (a lost increment, a
 * missing queue item): the row shows the failure instead of a figure, since a
 * fast wrong primitive is not a result.
 */
export class WrongAnswer extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WrongAnswer";
  }
}

/** One thing measured: `sample()` runs it once and returns its figure. */
export interface Contender {
  readonly id: string;
  /** Called once before the rounds (sizing, warm-up, starting workers); may throw Skip. */
  setup?(): Promise<void> | void;
  sample(round: number): Promise<number> | number;
  teardown?(): Promise<void> | void;
}

export type Outcome =
  | { readonly kind: "ok"; readonly stats: Stats }
  | { readonly kind: "skipped"; readonly hint: string }
  | { readonly kind: "failed"; readonly message: string };

/**
 * Runs every contender `rounds` times, interleaved (round 1 of each, then
 * round 2 of each, ...), so slow drift of the machine (thermal, a neighbour's
 * load) spreads over all contenders instead of penalising whichever ran last.
 * A contender that throws Skip or fails is dropped from later rounds.
 */
export async function measureRounds(
  contenders: readonly Contender[],
  rounds: number,
  onProgress?: (id: string, round: number) => void,
): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const samples = new Map<string, number[]>();
  const live: Contender[] = [];
  for (const c of contenders) {
    try {
      await c.setup?.();
      live.push(c);
      samples.set(c.id, []);
    } catch (err) {
      outcomes.set(c.id, failure(err));
      await safeTeardown(c);
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of [...live]) {
      onProgress?.(c.id, r);
      try {
        samples.get(c.id)!.push(await c.sample(r));
      } catch (err) {
        outcomes.set(c.id, failure(err));
        live.splice(live.indexOf(c), 1);
        await safeTeardown(c);
      }
    }
  }
  for (const c of live) {
    outcomes.set(c.id, { kind: "ok", stats: summarize(samples.get(c.id)!) });
    await safeTeardown(c);
  }
  return outcomes;
}

function failure(err: unknown): Outcome {
  if (err instanceof Skip) return { kind: "skipped", hint: err.hint };
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: "failed", message };
}

async function safeTeardown(c: Contender): Promise<void> {
  try {
    await c.teardown?.();
  } catch {
    // a contender that failed may not tear down cleanly; its outcome already says why
  }
}

/**
 * Picks an iteration count so one sample takes about `targetMs`: runs a pilot
 * of `pilot` iterations (which also warms the JIT), grows it until it is long
 * enough to time, then scales by the slowest of three runs at that size.
 * `run(n)` returns the elapsed ms for n.
 */
export async function sizeFor(
  targetMs: number,
  pilot: number,
  run: (n: number) => Promise<number> | number,
  limits: { min?: number; max?: number } = {},
): Promise<number> {
  const min = limits.min ?? 1;
  const max = limits.max ?? 1e9;
  let n = Math.max(min, pilot);
  let ms = await run(n);
  while (ms < Math.min(10, targetMs / 4) && n < max) {
    n = Math.min(max, n * 4);
    ms = await run(n);
  }
  // Size on the slowest of three runs: some protocols are bimodal on a busy
  // machine (spinning vs parking), and a pilot that happened to hit the fast
  // mode would make every slow-mode sample many times too long.
  for (let i = 0; i < 2; i++) ms = Math.max(ms, await run(n));
  const scaled = Math.round((n * targetMs) / Math.max(ms, 1e-3));
  return Math.max(min, Math.min(max, scaled));
}

/** ns per operation from a millisecond duration. */
export function nsPerOp(ms: number, ops: number): number {
  return (ms * 1e6) / ops;
}

/**
 * Rejects with a WrongAnswer if `promise` has not settled within `ms`: a
 * primitive that deadlocks must fail its row, not hang the benchmark.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WrongAnswer(`${what} did not finish within ${ms / 1000} s (deadlock or lost wake-up?)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What a sized contender runs: n operations timed, and the row's figure for them. */
export interface SizedRunner {
  /** Runs n operations and returns the elapsed ms that count. */
  once(n: number): Promise<number>;
  /** The row's figure for n operations in `ms`. */
  figure(ms: number, n: number): number;
  close?(): Promise<void>;
}

/**
 * A contender whose operation count is chosen once (sizeFor's pilot, which
 * is also the warm-up) so a sample takes about `sampleMs`, then timed each
 * round. A sample that does not finish within `timeoutMs` fails its row
 * (a lost wake-up must not hang the suite).
 */
export function sizedContender(
  id: string,
  options: { sampleMs: number; pilot: number; min?: number; timeoutMs?: number },
  start: () => Promise<SizedRunner>,
): Contender {
  let runner: SizedRunner | undefined;
  let n = 0;
  return {
    id,
    async setup() {
      runner = await start();
      const r = runner;
      n = await sizeFor(options.sampleMs, options.pilot, (k) => r.once(k), { min: options.min ?? 1 });
    },
    async sample() {
      return runner!.figure(await withTimeout(runner!.once(n), options.timeoutMs ?? 60_000, id), n);
    },
    async teardown() {
      await runner?.close?.();
    },
  };
}
