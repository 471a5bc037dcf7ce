// `npm run bench dispatch`: what it costs to hand work to other threads.
// sabre's Engine (shared-memory doorbell, src/engine/dispatch.md) against
// threads.js, piscina, a raw postMessage round trip and a bare Atomics
// hand-off, all in one run; then how a compute kernel scales over 1, 2 and 4
// threads, and what the workers' spin budget buys. What each row measures and
// why is in bench/README.md.
import { Worker } from "node:worker_threads";
import { Engine, readOnly, reduction, shared, type NdArray } from "sabre";
import {
  importPeer,
  machineInfo,
  measureRounds,
  Report,
  WorkerTeam,
  WrongAnswer,
  sizedContender,
  type Contender,
  type SizedRunner,
  type SuiteOptions,
} from "./harness/index.js";
import { trig } from "./kernels/dispatch-compute.js";

/** Dispatch rows use two workers: the machine has two cores. */
const WORKERS = 2;
/** Calls kept in flight by the throughput rows (well below sabre's 1024 job slots, so no call waits for a slot). */
const IN_FLIGHT = 32;
/** Thread counts of the scaling rows: 4 oversubscribes a 2-core machine on purpose. */
const SCALING_THREADS = [1, 2, 4] as const;
/** The memory-bound kernel sums this many float64 (64 MiB: far beyond any cache). */
const SUM_N = 1 << 23;
/** The compute-bound kernel runs TRIG_ROUNDS sin + sqrt per element over this many elements. */
const TRIG_N = 1 << 19;
const TRIG_ROUNDS = 8;
/** Main-thread work between calls in the "after idle" rows: longer than the default 50 us spin, so workers have parked. */
const GAP_US = 200;
/** Spin budgets (us) compared in the spin rows. */
const SPINS = [0, 50, 200] as const;
/** A spin budget no gap in this suite outlasts: the worker never parks. */
const LONG_SPIN_US = 1000;
/** How long the main thread spins for a floor answer before it blocks (longer than a futex wake here). */
const FLOOR_MAIN_SPIN_US = 1000;

interface Sizes {
  rounds: number;
  /** Target duration of one sample, ms. */
  sampleMs: number;
}

const here = (path: string) => new URL(path, import.meta.url);
const KERNELS = here("./kernels/dispatch-compute.js");
const EMPTY_KERNELS = here("./kernels/dispatch-empty.js");

// ---- helpers -----------------------------------------------------------------------------------


/** A sized contender (bench/harness) with this suite's sample length. */
function sized(id: string, sizes: Sizes, pilot: number, start: () => Promise<SizedRunner>): Contender {
  return sizedContender(id, { sampleMs: sizes.sampleMs, pilot, min: Math.min(pilot, 10) }, start);
}

const usPerCall = (ms: number, n: number) => (ms * 1000) / n;
const perSecond = (ms: number, n: number) => (n * 1000) / ms;

/** Burns the main thread for `us` microseconds: "the program's own work" between calls. */
function busy(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

/**
 * n calls, one after another. With a gap, the main thread first works `gapUs`
 * before each call and only the calls are timed.
 */
async function awaitedCalls(n: number, call: () => PromiseLike<unknown>, gapUs = 0): Promise<number> {
  if (gapUs === 0) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await call();
    return performance.now() - t0;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    busy(gapUs);
    const t0 = performance.now();
    await call();
    total += performance.now() - t0;
  }
  return total;
}

/** n calls with up to `window` in flight: each one that settles starts the next. */
async function pipelinedCalls(n: number, window: number, call: () => PromiseLike<unknown>): Promise<number> {
  let issued = 0;
  const lane = async (): Promise<void> => {
    while (issued < n) {
      issued++;
      await call();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(window, n) }, lane));
  return performance.now() - t0;
}

type Mode = { kind: "awaited"; gapUs?: number } | { kind: "pipelined" };

function timeCalls(mode: Mode, n: number, call: () => PromiseLike<unknown>): Promise<number> {
  return mode.kind === "awaited" ? awaitedCalls(n, call, mode.gapUs) : pipelinedCalls(n, IN_FLIGHT, call);
}

const figureOf = (mode: Mode) => (mode.kind === "awaited" ? usPerCall : perSecond);

// ---- sabre ---------------------------------------------------------------------------------------

/**
 * What a sabre row calls: parallelFor(2) of `sabre.noop`, of a kernel that
 * returns a number, or of one that adds to a reduction clause; or run(noop).
 */
type SabreCall = "parallelFor" | "returning" | "reduction" | "run";

/** A call of that kind on `engine` (started with EMPTY_KERNELS); each result is checked. */
function sabreCall(engine: Engine, what: SabreCall): () => Promise<unknown> {
  const args = {};
  switch (what) {
    case "parallelFor":
      return () => engine.parallelFor(WORKERS, "sabre.noop", args);
    case "run":
      return () => engine.run("sabre.noop", args);
    case "returning":
      return async () => {
        const r = await engine.parallelFor(WORKERS, "bench.ret0", args);
        if (r.length !== WORKERS || r.some((v) => v !== 0)) throw new WrongAnswer(`bench.ret0 gave ${JSON.stringify(r)}`);
      };
    case "reduction": {
      const total = reduction(0, "sum");
      const withTotal = { total };
      return async () => {
        await engine.parallelFor(WORKERS, "bench.add1", withTotal);
        if (total.value !== WORKERS) throw new WrongAnswer(`the reduction gave ${String(total.value)}, expected ${WORKERS}`);
      };
    }
  }
}

function sabreCalls(id: string, sizes: Sizes, mode: Mode, what: SabreCall, spinMicros?: number): Contender {
  return sized(id, sizes, 1_000, async () => {
    const engine = await Engine.start({
      threads: WORKERS,
      kernels: [EMPTY_KERNELS],
      ...(spinMicros === undefined ? {} : { spinMicros }),
    });
    const call = sabreCall(engine, what);
    return {
      once: (n) => timeCalls(mode, n, call),
      figure: figureOf(mode),
      close: () => engine.close(),
    };
  });
}

/**
 * The per-call latency quantile q of n calls awaited back to back. A sample
 * returns it scaled by n, so the usual us-per-call figure reads as the
 * quantile: the round-trip rows give the mean, which a few stalled calls
 * dominate; this row shows the typical call.
 */
async function callQuantile(n: number, q: number, call: () => PromiseLike<unknown>): Promise<number> {
  const lat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    lat[i] = performance.now() - t0;
  }
  lat.sort();
  return lat[Math.min(n - 1, Math.floor(q * n))]! * n;
}

function sabreQuantile(id: string, sizes: Sizes, q: number, what: SabreCall = "parallelFor"): Contender {
  return sized(id, sizes, 1_000, async () => {
    const engine = await Engine.start({ threads: WORKERS, kernels: [EMPTY_KERNELS] });
    const call = sabreCall(engine, what);
    return {
      once: (n) => callQuantile(n, q, call),
      figure: usPerCall,
      close: () => engine.close(),
    };
  });
}

function threadsQuantile(id: string, sizes: Sizes, q: number): Contender {
  return sized(id, sizes, 200, async () => {
    const threads = await importPeer<ThreadsPeer>("threads");
    const thread = await threads.spawn(new threads.Worker(THREADS_WORKER));
    return {
      once: (n) => callQuantile(n, q, () => thread.noop()),
      figure: usPerCall,
      close: () => threads.Thread.terminate(thread),
    };
  });
}

// ---- peers ---------------------------------------------------------------------------------------

/** What the suite uses of threads.js (its shipped types are hidden by its exports map under nodenext). */
type NoopThread = { noop(): Promise<void> };
interface ThreadsPool {
  queue(task: (thread: NoopThread) => Promise<void>): PromiseLike<void>;
  terminate(force?: boolean): Promise<void>;
}
interface ThreadsPeer {
  spawn(worker: object): Promise<NoopThread>;
  Worker: new (path: string) => object;
  Pool(spawn: () => Promise<NoopThread>, options: { size: number; concurrency?: number }): ThreadsPool;
  Thread: { terminate(thread: NoopThread): Promise<void> };
}

/** threads.js resolves a worker path against the calling file's folder: this built file's. */
const THREADS_WORKER = "./workers/dispatch-threads.js";

function threadsCall(id: string, sizes: Sizes, mode: Mode): Contender {
  return sized(id, sizes, 200, async () => {
    const threads = await importPeer<ThreadsPeer>("threads");
    const thread = await threads.spawn(new threads.Worker(THREADS_WORKER));
    return {
      once: (n) => timeCalls(mode, n, () => thread.noop()),
      figure: figureOf(mode),
      close: () => threads.Thread.terminate(thread),
    };
  });
}

function threadsPool(id: string, sizes: Sizes, mode: Mode): Contender {
  return sized(id, sizes, 50, async () => {
    const threads = await importPeer<ThreadsPeer>("threads");
    const pool = threads.Pool(() => threads.spawn(new threads.Worker(THREADS_WORKER)), { size: WORKERS });
    return {
      once: (n) => timeCalls(mode, n, () => pool.queue((t) => t.noop())),
      figure: figureOf(mode),
      close: () => pool.terminate(true),
    };
  });
}

function piscina(id: string, sizes: Sizes, mode: Mode): Contender {
  return sized(id, sizes, 200, async () => {
    const { Piscina } = await importPeer<typeof import("piscina")>("piscina");
    const pool = new Piscina({ filename: here("./workers/dispatch-piscina.js").href, minThreads: WORKERS, maxThreads: WORKERS });
    // minThreads start in the background: let them come up before anything is timed.
    await Promise.all(Array.from({ length: WORKERS * 4 }, () => pool.run(null)));
    return {
      once: (n) => timeCalls(mode, n, () => pool.run(null)),
      figure: figureOf(mode),
      close: () => pool.destroy(),
    };
  });
}

/** A raw postMessage round trip: one worker that echoes every message, no envelope, no ids. */
function postMessage(id: string, sizes: Sizes, mode: Mode): Contender {
  return sized(id, sizes, 500, async () => {
    const worker = new Worker(here("./workers/dispatch-echo.js"));
    await new Promise<void>((resolve, reject) => {
      worker.once("online", resolve);
      worker.once("error", reject);
    });
    const window = mode.kind === "awaited" ? 1 : IN_FLIGHT;
    return {
      once: (n) =>
        new Promise<number>((resolve, reject) => {
          let sent = 0;
          let received = 0;
          const t0 = performance.now();
          const onMessage = (m: unknown) => {
            if (m !== received) {
              cleanup();
              reject(new WrongAnswer(`the echo worker answered ${String(m)} where ${received} was expected`));
              return;
            }
            received++;
            if (received === n) {
              cleanup();
              resolve(performance.now() - t0);
            } else if (sent < n) {
              worker.postMessage(sent++);
            }
          };
          const onError = (err: Error) => {
            cleanup();
            reject(err);
          };
          const cleanup = () => {
            worker.off("message", onMessage);
            worker.off("error", onError);
          };
          worker.on("message", onMessage);
          worker.on("error", onError);
          while (sent < Math.min(window, n)) worker.postMessage(sent++);
        }),
      figure: figureOf(mode),
      close: () => worker.terminate().then(() => undefined),
    };
  });
}

/**
 * The main thread's side of the floor hand-off: spin up to FLOOR_MAIN_SPIN_US
 * for ticket i to come back, then block in Atomics.wait. Pure spinning would
 * be the floor on an idle machine, but when other processes deschedule the
 * worker it would burn the main thread's core for a whole time slice too.
 */
function awaitTicket(cell: Int32Array, i: number): void {
  if (Atomics.load(cell, 1) === i) return;
  const until = performance.now() + FLOOR_MAIN_SPIN_US / 1000;
  for (;;) {
    for (let k = 0; k < 64; k++) if (Atomics.load(cell, 1) === i) return;
    if (performance.now() > until) break;
  }
  while (Atomics.load(cell, 1) !== i) Atomics.wait(cell, 1, i - 1, 100);
}

/**
 * The floor: a bare Atomics hand-off to one worker (bench/workers/dispatch-floor.ts),
 * the main thread spinning for each answer. No pool, no job, no result: what
 * any shared-memory dispatch must at least pay.
 */
function atomicsFloor(id: string, sizes: Sizes, spinUs: number, gapUs = 0): Contender {
  return sized(id, sizes, 1_000, async () => {
    const team = await WorkerTeam.start(here("./workers/dispatch-floor.js"), 1);
    return {
      async once(n) {
        const cell = new Int32Array(new SharedArrayBuffer(8));
        const served = team.run<number>(() => ({ op: "pong", cell, n, spinUs }));
        let total = 0;
        for (let i = 1; i <= n; i++) {
          if (gapUs > 0) busy(gapUs);
          const t0 = performance.now();
          Atomics.store(cell, 0, i);
          Atomics.notify(cell, 0);
          awaitTicket(cell, i);
          total += performance.now() - t0;
        }
        const [answered] = await served;
        if (answered !== n) throw new WrongAnswer(`the floor worker answered ${answered} tickets, expected ${n}`);
        return total;
      },
      figure: usPerCall,
      close: () => team.close(),
    };
  });
}

// ---- scaling: a memory-bound and a compute-bound kernel ----------------------------------------

interface Workload {
  readonly kernel: "bench.sum" | "bench.trig";
  readonly n: number;
  readonly args: Record<string, unknown>;
  /** Units the figure counts per call (bytes read, elements computed). */
  readonly units: number;
  /** What a plain loop on the main thread computes. */
  readonly plain: () => number;
  /** Whether a result is right (exact for the sum; the trig sum is compared with the plain loop's). */
  readonly check: (value: number) => string | undefined;
}

function workloads(): { sum: Workload; trig: Workload } {
  const x = shared.empty("float64", [SUM_N]) as NdArray<Float64Array>;
  // Small integers: every partial sum is exact in float64, whatever the order.
  for (let i = 0; i < SUM_N; i++) x.data[i] = i % 1024;
  const cycles = Math.floor(SUM_N / 1024);
  const rest = SUM_N % 1024;
  const exactSum = cycles * ((1023 * 1024) / 2) + (rest * (rest - 1)) / 2;
  const data = x.data;
  const plainSum = () => {
    let s = 0;
    for (let i = 0; i < SUM_N; i++) s += data[i]!;
    return s;
  };
  const plainTrig = () => {
    let s = 0;
    for (let i = 0; i < TRIG_N; i++) s += trig(data[i]!, TRIG_ROUNDS);
    return s;
  };
  const trigReference = plainTrig();
  return {
    sum: {
      kernel: "bench.sum",
      n: SUM_N,
      args: { x: readOnly(x) },
      units: SUM_N * 8,
      plain: plainSum,
      check: (v) => (v === exactSum ? undefined : `the sum is ${v}, expected exactly ${exactSum}`),
    },
    trig: {
      kernel: "bench.trig",
      n: TRIG_N,
      args: { x: readOnly(x), rounds: TRIG_ROUNDS },
      units: TRIG_N,
      plain: plainTrig,
      // The plain loop adds in another order than the chunked reduction: equal to rounding only.
      check: (v) =>
        Math.abs(v - trigReference) <= 1e-9 * Math.abs(trigReference)
          ? undefined
          : `the trig sum is ${v}, expected ${trigReference} (relative error above 1e-9)`,
    },
  };
}

/** A plain loop on the main thread: what the kernel costs with no engine at all. */
function plainLoop(sizes: Sizes, w: Workload): Contender {
  return sized("plain", sizes, 1, async () => ({
    async once(k) {
      const t0 = performance.now();
      for (let i = 0; i < k; i++) {
        const wrong = w.check(w.plain());
        if (wrong) throw new WrongAnswer(`plain loop: ${wrong}`);
      }
      return performance.now() - t0;
    },
    figure: (ms, k) => perSecond(ms, k * w.units),
  }));
}

/**
 * The kernel on an engine of `threads` workers. A reduction clause combines
 * the per-chunk partials in chunk order, so every thread count must give the
 * same bits: `seen` holds the first result and any other value fails the row.
 */
function scaled(threads: number, sizes: Sizes, w: Workload, seen: { value?: number }): Contender {
  return sized(`t${threads}`, sizes, 1, async () => {
    const engine = await Engine.start({ threads, kernels: [KERNELS] });
    const total = reduction(0, "sum");
    const args = { ...w.args, total };
    return {
      async once(k) {
        const t0 = performance.now();
        for (let i = 0; i < k; i++) {
          await engine.parallelFor(w.n, w.kernel, args);
          const v = total.value as number;
          const wrong = w.check(v);
          if (wrong) throw new WrongAnswer(`${threads} threads: ${wrong}`);
          seen.value ??= v;
          if (v !== seen.value) {
            throw new WrongAnswer(`${threads} threads: the reduction gave ${v}, another thread count gave ${seen.value}`);
          }
        }
        return performance.now() - t0;
      },
      figure: (ms, k) => perSecond(ms, k * w.units),
      close: () => engine.close(),
    };
  });
}

// ---- the suite -----------------------------------------------------------------------------------

export default async function dispatchSuite(options: SuiteOptions): Promise<Report> {
  const sizes: Sizes = options.quick ? { rounds: 3, sampleMs: 20 } : { rounds: 9, sampleMs: 100 };
  const log = options.log;
  const report = new Report("dispatch", "sabre dispatch: handing work to worker threads", machineInfo());
  const progress = (group: string) => (id: string, round: number) => log(`${group}: ${id}, round ${round + 1}/${sizes.rounds}`);
  const measure = (group: string, contenders: Contender[]) => measureRounds(contenders, sizes.rounds, progress(group));
  const awaited: Mode = { kind: "awaited" };
  const pipelined: Mode = { kind: "pipelined" };

  // 1. Round trip of an empty task, calls awaited one after another.
  const rt = await measure("round trip", [
    atomicsFloor("floor", sizes, LONG_SPIN_US),
    sabreCalls("sabre-pf", sizes, awaited, "parallelFor"),
    sabreCalls("sabre-ret", sizes, awaited, "returning"),
    sabreCalls("sabre-red", sizes, awaited, "reduction"),
    sabreCalls("sabre-run", sizes, awaited, "run"),
    threadsCall("threads-call", sizes, awaited),
    threadsPool("threads-pool", sizes, awaited),
    piscina("piscina", sizes, awaited),
    postMessage("post", sizes, awaited),
  ]);
  report.addGroup({
    id: "rt",
    title: "1. Empty task round trip (calls awaited one after another)",
    unit: "us/call",
    better: "lower",
    reference: "threads-call",
    method:
      `Each sample awaits n empty calls back to back; figure = elapsed / n (stalls included: no call is left out). ` +
      `Pools have ${WORKERS} workers.`,
    entries: [
      { id: "threads-call", label: "threads.js spawned thread, call" },
      { id: "sabre-pf", label: `sabre parallelFor(${WORKERS}, noop)`, ours: true, note: `${WORKERS} workers, one chunk each` },
      { id: "sabre-ret", label: `sabre parallelFor(${WORKERS}), kernel returns 0`, ours: true, note: "results through shared memory" },
      { id: "sabre-red", label: `sabre parallelFor(${WORKERS}), total.value += 1`, ours: true, note: 'a reduction(0, "sum") clause' },
      { id: "sabre-run", label: "sabre run(noop)", ours: true, note: `${WORKERS} workers` },
      { id: "floor", label: "Atomics hand-off, spinning worker", note: "no pool, no job, no result: the floor" },
      { id: "threads-pool", label: "threads.js Pool, queue()", note: `${WORKERS} workers` },
      { id: "piscina", label: "piscina 5, run()", note: `${WORKERS} threads` },
      { id: "post", label: "raw postMessage echo", note: "one worker_threads Worker" },
    ],
    outcomes: rt,
  });

  // 1b. The same calls as a latency distribution: median and 99th percentile.
  const lat = await measure("latency", [
    sabreQuantile("sabre-p50", sizes, 0.5),
    sabreQuantile("sabre-ret-p50", sizes, 0.5, "returning"),
    sabreQuantile("sabre-red-p50", sizes, 0.5, "reduction"),
    sabreQuantile("sabre-p99", sizes, 0.99),
    threadsQuantile("threads-p50", sizes, 0.5),
  ]);
  report.addGroup({
    id: "lat",
    title: "1b. Per-call latency of an empty task (quantiles)",
    unit: "us",
    better: "lower",
    reference: "threads-p50",
    method:
      "Each sample awaits n empty calls back to back and times each one; figure = the median (or 99th percentile) call. " +
      "The mean above counts every stall; the median is what a typical call costs.",
    entries: [
      { id: "threads-p50", label: "threads.js spawned thread, call, median" },
      { id: "sabre-p50", label: `sabre parallelFor(${WORKERS}, noop), median`, ours: true },
      { id: "sabre-ret-p50", label: `sabre parallelFor(${WORKERS}), kernel returns 0, median`, ours: true },
      { id: "sabre-red-p50", label: `sabre parallelFor(${WORKERS}), total.value += 1, median`, ours: true, note: 'a reduction(0, "sum") clause' },
      {
        id: "sabre-p99",
        label: `sabre parallelFor(${WORKERS}, noop), 99th percentile`,
        ours: true,
        note: "3 spinning threads on 2 cores: now and then the main thread waits for a time slice",
      },
    ],
    outcomes: lat,
  });

  // 2. Throughput with many calls in flight.
  const tp = await measure("throughput", [
    sabreCalls("sabre-pf", sizes, pipelined, "parallelFor"),
    sabreCalls("sabre-run", sizes, pipelined, "run"),
    threadsCall("threads-call", sizes, pipelined),
    threadsPool("threads-pool", sizes, pipelined),
    piscina("piscina", sizes, pipelined),
    postMessage("post", sizes, pipelined),
  ]);
  report.addGroup({
    id: "tp",
    title: `2. Empty task throughput (${IN_FLIGHT} calls in flight)`,
    unit: "tasks/s",
    better: "higher",
    reference: "threads-pool",
    method: `Each sample runs n empty calls keeping ${IN_FLIGHT} in flight (each one that settles starts the next); figure = n / elapsed.`,
    entries: [
      { id: "threads-pool", label: "threads.js Pool, queue()", note: `${WORKERS} workers` },
      { id: "sabre-pf", label: `sabre parallelFor(${WORKERS}, noop)`, ours: true, note: "a task = one call (2 chunks)" },
      { id: "sabre-run", label: "sabre run(noop)", ours: true },
      { id: "threads-call", label: "threads.js spawned thread, call", note: "one worker" },
      { id: "piscina", label: "piscina 5, run()", note: `${WORKERS} threads` },
      { id: "post", label: "raw postMessage echo", note: "one worker" },
    ],
    outcomes: tp,
  });

  // 3. Scaling of a memory-bound and a compute-bound kernel.
  log("filling the scaling input and computing the reference results");
  const work = workloads();
  const scalingGroups: Array<[string, string, Workload, string, string]> = [
    ["sum", "3. Memory-bound kernel: sum of a 64 MiB float64 array", work.sum, "B/s", "bytes read per second"],
    [
      "trig",
      `4. Compute-bound kernel: ${TRIG_ROUNDS} x (sin + sqrt) per element`,
      work.trig,
      "elements/s",
      `${TRIG_N.toLocaleString("en-US")} elements per call`,
    ],
  ];
  const speedups: string[] = [];
  for (const [id, title, w, unit, what] of scalingGroups) {
    const seen: { value?: number } = {};
    const outcomes = await measure(id, [plainLoop(sizes, w), ...SCALING_THREADS.map((t) => scaled(t, sizes, w, seen))]);
    const efficiency = (t: number): string => {
      const o = outcomes.get(`t${t}`);
      const one = outcomes.get("t1");
      if (o?.kind !== "ok" || one?.kind !== "ok") return "";
      const s = o.stats.median / one.stats.median;
      speedups.push(`${id} ${t} thread${t > 1 ? "s" : ""}: speedup ${s.toFixed(2)}, efficiency ${(s / t).toFixed(2)}`);
      return t === 1 ? "" : `efficiency ${(s / t).toFixed(2)} (speedup / threads)`;
    };
    report.addGroup({
      id,
      title,
      unit,
      better: "higher",
      reference: "t1",
      method:
        `${what}; parallelFor over the whole array with a reduction(0, "sum") clause (64 chunks, dynamic). ` +
        "Every result is checked (the sum exactly; every thread count must give the same bits). " +
        `The "vs reference" column is the speedup over 1 thread.`,
      entries: [
        { id: "t1", label: "sabre, 1 worker", ours: true },
        ...SCALING_THREADS.filter((t) => t > 1).map((t) => ({
          id: `t${t}`,
          label: `sabre, ${t} workers`,
          ours: true,
          note: `${efficiency(t)}${t > report.machine.cores ? `; oversubscribed (${report.machine.cores} cores)` : ""}`,
        })),
        { id: "plain", label: "plain loop on the main thread", note: "no engine, no workers" },
      ],
      outcomes,
    });
  }

  // 5. What the spin budget buys: back to back, and after the main thread worked GAP_US.
  const spin = await measure(
    "spin",
    SPINS.map((s) => sabreCalls(`spin${s}`, sizes, awaited, "parallelFor", s)),
  );
  report.addGroup({
    id: "spin",
    title: "5. Back-to-back round trip by worker spin budget (spinMicros)",
    unit: "us/call",
    better: "lower",
    reference: "spin50",
    method: `Empty parallelFor(${WORKERS}) over ${WORKERS} workers, awaited back to back, as row 1.`,
    entries: SPINS.map((s) => ({
      id: `spin${s}`,
      label: `sabre, spinMicros ${s}`,
      ours: true,
      note: s === 50 ? "the default" : s === 0 ? "workers park at once" : "",
    })),
    outcomes: spin,
  });

  const gapped: Mode = { kind: "awaited", gapUs: GAP_US };
  const gap = await measure("after idle", [
    atomicsFloor("floor-park", sizes, 0, GAP_US),
    atomicsFloor("floor-spin", sizes, LONG_SPIN_US, GAP_US),
    ...[...SPINS, LONG_SPIN_US].map((s) => sabreCalls(`spin${s}`, sizes, gapped, "parallelFor", s)),
  ]);
  report.addGroup({
    id: "gap",
    title: `6. Round trip after ${GAP_US} us of main-thread work (workers idle that long)`,
    unit: "us/call",
    better: "lower",
    reference: "floor-park",
    method: `Before each call the main thread busy-works ${GAP_US} us; only the calls are timed.`,
    entries: [
      { id: "floor-park", label: "Atomics hand-off, parked worker", note: "Atomics.wait / notify: one futex wake" },
      ...[...SPINS, LONG_SPIN_US].map((s) => ({
        id: `spin${s}`,
        label: `sabre parallelFor(${WORKERS}), spinMicros ${s}`,
        ours: true,
        note: s === 50 ? "the default" : s > GAP_US ? "workers still spinning" : "workers have parked",
      })),
      { id: "floor-spin", label: "Atomics hand-off, spinning worker", note: `spins up to ${LONG_SPIN_US} us` },
    ],
    outcomes: gap,
  });

  // Targets.
  report.addTarget(
    "empty parallelFor over 2 workers at least 10x faster than a threads.js call round trip",
    report.ratio("rt", "sabre-pf"),
    (r) => r <= 0.1,
    (r) => `threads.js call takes ${(1 / r).toFixed(1)}x as long`,
  );
  report.addTarget(
    "aim: empty parallelFor round trip under 2 us (mean, stalls included)",
    report.median("rt", "sabre-pf"),
    (v) => v < 2,
    (v) => `${v.toFixed(2)} us`,
  );
  report.addTarget(
    "aim: empty parallelFor round trip under 2 us (median call)",
    report.median("lat", "sabre-p50"),
    (v) => v < 2,
    (v) => `${v.toFixed(2)} us`,
  );
  for (const [id, what] of [
    ["sabre-ret-p50", "a kernel returning a number"],
    ["sabre-red-p50", "a reduction clause"],
  ] as const) {
    report.addTarget(
      `parallelFor(${WORKERS}) of ${what} at least 10x faster than a threads.js call (median)`,
      report.ratio("lat", id),
      (r) => r <= 0.1,
      (r) => `threads.js call takes ${(1 / r).toFixed(1)}x as long`,
    );
    report.addTarget(
      `aim: parallelFor(${WORKERS}) of ${what} under 5 us (median call)`,
      report.median("lat", id),
      (v) => v < 5,
      (v) => `${v.toFixed(2)} us`,
    );
  }
  for (const id of ["sum", "trig"]) {
    report.addTarget(
      `${id}: 4 threads on 2 cores keep at least 0.8x the 2-thread throughput`,
      report.ratio(id, "t4", "t2"),
      (r) => r >= 0.8,
    );
  }

  report.addNote(
    `Sizes are chosen per row so one sample takes about ${sizes.sampleMs} ms (a pilot run, which is also the warm-up); ` +
      `${sizes.rounds} rounds per row, interleaved across the rows of a group.`,
  );
  report.addNote(`Scaling: ${speedups.join("; ")}.`);
  report.addNote(
    "A round trip here is a mean over many calls, so rare stalls count in full. Dispatch through shared memory is " +
      "bimodal on a loaded 2-core VM: while workers spin, a call takes a few microseconds; when a thread that is needed " +
      "has been descheduled (the main thread and 2 spinning workers are 3 threads on 2 cores) a call waits for the " +
      "scheduler. Compare the min – max column with the median.",
  );
  return report;
}
