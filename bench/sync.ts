// `npm run bench sync`: sabre's Mutex, Barrier and Queue against the JS floor
// (bare Atomics), native pthreads (bench/anchors/pthread_sync.c) and the
// `multithreading` package, all measured in one run, medians of several rounds.
// What each row measures and why is in bench/README.md.
import { Barrier, Mutex, Queue, serialize } from "sabre";
import {
  buildAnchor,
  loadMultithreading,
  machineInfo,
  measureRounds,
  newGate,
  nsPerOp,
  parseFigures,
  Report,
  runAnchor,
  Skip,
  summarize,
  withTimeout,
  WorkerTeam,
  WrongAnswer,
  type Contender,
  type Multithreading,
  type Outcome,
  type SuiteOptions,
  sizedContender,
  type SizedRunner,
} from "./harness/index.js";

/** Both sides of every hand-off row use this capacity (records / messages). */
const QUEUE_CAPACITY = 1024;
/** Two threads: the machine has 2 cores, and every row here is a two-party protocol. */
const PARTIES = 2;
/**
 * How long (us) the spinning JS reference barrier spins before parking. It
 * must outlast the wake-up of a parked thread, which on this VM takes 10 to
 * 150 us: with a shorter budget both threads fall into parking every round
 * (10-150 us per round, measured with budgets of 2-100 us); with 1 ms an idle
 * machine stays near 1 us per round. On a machine busy with other work,
 * spinning wastes whole time slices instead: the "park at once" row shows the
 * other end of that trade-off.
 */
const BARRIER_SPIN_US = 1000;

interface Sizes {
  rounds: number;
  /** Target duration of one sample, ms. */
  sampleMs: number;
}

// ---- helpers -----------------------------------------------------------------------------------

/** A sized contender (bench/harness) with this suite's sample length and a floor of 100 operations. */
function sized(id: string, sizes: Sizes, pilot: number, start: () => Promise<SizedRunner>): Contender {
  return sizedContender(id, { sampleMs: sizes.sampleMs, pilot, min: 100 }, start);
}

/** The same, for a loop timed in this thread (no workers). */
function inThread(id: string, sizes: Sizes, pilot: number, prepare: () => (n: number) => number): Contender {
  return sized(id, sizes, pilot, async () => {
    const loop = prepare();
    return { once: async (n) => loop(n), figure: (ms, n) => nsPerOp(ms, n) };
  });
}

const max = (xs: readonly number[]) => Math.max(...xs);

function mtOrSkip(mt: Multithreading | Skip): Multithreading {
  if (mt instanceof Skip) throw mt;
  return mt;
}

/** multithreading's spawn resolves to a Result; a failed task is a failed row. */
async function joinAll<T>(handles: { join(): Promise<{ ok: true; value: T } | { ok: false; error: Error }> }[]): Promise<T[]> {
  // A stuck task cannot be killed (multithreading has no per-task abort that stops a
  // thread); the row fails and run.ts exits the process at the end.
  const results = await withTimeout(Promise.all(handles.map((h) => h.join())), 60_000, "a multithreading task");
  return results.map((r) => {
    if (!r.ok) throw r.error;
    return r.value;
  });
}

// ---- 1. uncontended lock+unlock (main thread) --------------------------------------------------

function floorUncontended(sizes: Sizes): Contender {
  return inThread("floor", sizes, 100_000, () => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    return (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        if (Atomics.compareExchange(cell, 0, 0, 1) !== 0) throw new WrongAnswer("the floor lock was found taken");
        Atomics.exchange(cell, 0, 0);
      }
      return performance.now() - t0;
    };
  });
}

function sabreUncontended(sizes: Sizes): Contender {
  return inThread("sabre", sizes, 100_000, () => {
    const m = new Mutex();
    return (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        m.lock();
        m.unlock();
      }
      return performance.now() - t0;
    };
  });
}

function mtUncontended(sizes: Sizes, mtp: Multithreading | Skip): Contender {
  return inThread("mt", sizes, 2_000, () => {
    const mt = mtOrSkip(mtp);
    const m = new mt.Mutex();
    return (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) m.blockingLock().dispose();
      return performance.now() - t0;
    };
  });
}

// ---- 2. two threads contending: n locked increments each -----------------------------------------

function checkCount(got: number, want: number, who: string): void {
  if (got !== want) throw new WrongAnswer(`${who}: the shared counter is ${got}, expected ${want} (lost or extra increments)`);
}

/**
 * sabre's Mutex with `parties` threads. With `span`, the figure is the time from the first thread's
 * start to the last one's end (as the pthread anchor measures it): oversubscribed threads take
 * turns, and the slowest thread's own elapsed time would miss the others' turns.
 */
function sabreContended(sizes: Sizes, parties = PARTIES, span = false): Contender {
  return sized("sabre", sizes, 20_000, async () => {
    const shared = serialize({ mutex: new Mutex() });
    const team = await WorkerTeam.start(new URL("./workers/sync-sabre.js", import.meta.url), parties);
    return {
      async once(n) {
        const cell = new Int32Array(new SharedArrayBuffer(4));
        const gate = newGate();
        if (span) {
          const spans = await team.run<[number, number]>(() => ({ op: "contend", shared, cell, n, gate, parties, span }));
          checkCount(cell[0]!, parties * n, "sabre Mutex");
          return max(spans.map(([, end]) => end)) - Math.min(...spans.map(([start]) => start));
        }
        const ms = await team.run<number>(() => ({ op: "contend", shared, cell, n, gate, parties }));
        checkCount(cell[0]!, parties * n, "sabre Mutex");
        return max(ms);
      },
      figure: (ms, n) => nsPerOp(ms, parties * n),
      close: () => team.close(),
    };
  });
}

function spinContended(sizes: Sizes): Contender {
  return sized("spin", sizes, 20_000, async () => {
    const team = await WorkerTeam.start(new URL("./workers/sync-floor.js", import.meta.url), PARTIES);
    return {
      async once(n) {
        const lock = new Int32Array(new SharedArrayBuffer(4));
        const cell = new Int32Array(new SharedArrayBuffer(4));
        const gate = newGate();
        const ms = await team.run<number>(() => ({ op: "spin-lock", lock, cell, n, gate, parties: PARTIES }));
        checkCount(cell[0]!, PARTIES * n, "JS spin lock");
        return max(ms);
      },
      figure: (ms, n) => nsPerOp(ms, PARTIES * n),
      close: () => team.close(),
    };
  });
}

function mtContended(sizes: Sizes, mtp: Multithreading | Skip): Contender {
  return sized("mt", sizes, 1_000, async () => {
    const mt = mtOrSkip(mtp);
    return {
      async once(n) {
        const mutex = new mt.Mutex(new Int32Array(new SharedArrayBuffer(4)));
        const gate = newGate();
        // Runs in multithreading's own pool workers: the function is sent as source, so it is self-contained.
        const task = (m: typeof mutex, n: number, gate: Int32Array, parties: number) => {
          Atomics.add(gate, 0, 1);
          while (Atomics.load(gate, 0) < parties);
          const t0 = performance.now();
          for (let i = 0; i < n; i++) {
            const g = m.blockingLock();
            g.value[0]!++;
            g.dispose();
          }
          return performance.now() - t0;
        };
        const ms = await joinAll(Array.from({ length: PARTIES }, () => mt.spawn(mt.move(mutex, n, gate, PARTIES), task)));
        const g = mutex.blockingLock();
        const count = g.value[0]!;
        g.dispose();
        checkCount(count, PARTIES * n, "multithreading Mutex");
        return max(ms);
      },
      figure: (ms, n) => nsPerOp(ms, PARTIES * n),
    };
  });
}

// ---- 3. two-party barrier rounds -----------------------------------------------------------------

function checkLeaders(led: number, rounds: number, who: string): void {
  if (led !== rounds) throw new WrongAnswer(`${who}: ${led} leaders over ${rounds} rounds, expected exactly one per round`);
}

function sabreBarrier(sizes: Sizes, parties = PARTIES): Contender {
  // Oversubscribed rounds cost tens of us: a smaller pilot keeps the warm-up short.
  return sized("sabre", sizes, parties <= 2 ? 5_000 : 500, async () => {
    const shared = serialize({ barrier: new Barrier(parties) });
    const team = await WorkerTeam.start(new URL("./workers/sync-sabre.js", import.meta.url), parties);
    return {
      async once(rounds) {
        const gate = newGate();
        const out = await team.run<[number, number]>(() => ({ op: "barrier", shared, rounds, gate, parties }));
        checkLeaders(out.reduce((s, [, led]) => s + led, 0), rounds, "sabre Barrier");
        return max(out.map(([ms]) => ms));
      },
      figure: (ms, rounds) => nsPerOp(ms, rounds),
      close: () => team.close(),
    };
  });
}

function spinBarrier(id: string, spinUs: number, sizes: Sizes, parties = PARTIES): Contender {
  return sized(id, sizes, parties <= 2 ? 5_000 : 500, async () => {
    const team = await WorkerTeam.start(new URL("./workers/sync-floor.js", import.meta.url), parties);
    return {
      async once(rounds) {
        const state = new Int32Array(new SharedArrayBuffer(8));
        const gate = newGate();
        const out = await team.run<[number, number]>(() => ({ op: "spin-barrier", state, rounds, gate, parties, spinUs }));
        checkLeaders(out.reduce((s, [, led]) => s + led, 0), rounds, "JS reference barrier");
        return max(out.map(([ms]) => ms));
      },
      figure: (ms, rounds) => nsPerOp(ms, rounds),
      close: () => team.close(),
    };
  });
}

function mtBarrier(sizes: Sizes, mtp: Multithreading | Skip): Contender {
  return sized("mt", sizes, 500, async () => {
    const mt = mtOrSkip(mtp);
    return {
      async once(rounds) {
        const barrier = new mt.Barrier(PARTIES);
        const gate = newGate();
        const task = (b: typeof barrier, rounds: number, gate: Int32Array, parties: number) => {
          Atomics.add(gate, 0, 1);
          while (Atomics.load(gate, 0) < parties);
          let led = 0;
          const t0 = performance.now();
          for (let r = 0; r < rounds; r++) if (b.blockingWait().isLeader) led++;
          return [performance.now() - t0, led] as [number, number];
        };
        const out = await joinAll(Array.from({ length: PARTIES }, () => mt.spawn(mt.move(barrier, rounds, gate, PARTIES), task)));
        checkLeaders(out.reduce((s, [, led]) => s + led, 0), rounds, "multithreading Barrier");
        return max(out.map(([ms]) => ms));
      },
      figure: (ms, rounds) => nsPerOp(ms, rounds),
    };
  });
}

// ---- 4. queue hand-off: one producer thread, one consumer thread -------------------------------

const itemsPerSecond = (ms: number, n: number) => (n * 1000) / ms;

function sabreQueue(sizes: Sizes): Contender {
  return sized("sabre", sizes, 20_000, async () => {
    const team = await WorkerTeam.start(new URL("./workers/sync-sabre.js", import.meta.url), 2);
    return {
      async once(n) {
        const shared = serialize({ queue: new Queue({ capacity: QUEUE_CAPACITY, dtype: "int32" }) });
        const gate = newGate();
        const ms = await team.run<number>((i) => ({ op: i === 0 ? "produce" : "consume", shared, n, gate }));
        return max(ms);
      },
      figure: itemsPerSecond,
      close: () => team.close(),
    };
  });
}

function postMessageQueue(sizes: Sizes): Contender {
  return sized("post", sizes, 5_000, async () => {
    const team = await WorkerTeam.start(new URL("./workers/sync-floor.js", import.meta.url), 2);
    return {
      async once(n) {
        const { port1, port2 } = new MessageChannel();
        const gate = newGate();
        const ports = [port1, port2];
        const ms = await team.run<number>(
          (i) => ({ op: i === 0 ? "post-produce" : "post-consume", port: ports[i], n, gate }),
          (i) => [ports[i]!],
        );
        return max(ms);
      },
      figure: itemsPerSecond,
      close: () => team.close(),
    };
  });
}

function mtChannel(sizes: Sizes, mtp: Multithreading | Skip): Contender {
  return sized("mt", sizes, 1_000, async () => {
    const mt = mtOrSkip(mtp);
    return {
      async once(n) {
        const [tx, rx] = mt.channel<number>(QUEUE_CAPACITY);
        const gate = newGate();
        const produce = (sender: typeof tx, n: number, gate: Int32Array) => {
          Atomics.add(gate, 0, 1);
          while (Atomics.load(gate, 0) < 2);
          const t0 = performance.now();
          for (let i = 0; i < n; i++) {
            const r = sender.blockingSend(i);
            if (!r.ok) throw r.error;
          }
          return performance.now() - t0;
        };
        const consume = (receiver: typeof rx, n: number, gate: Int32Array) => {
          Atomics.add(gate, 0, 1);
          while (Atomics.load(gate, 0) < 2);
          const t0 = performance.now();
          for (let i = 0; i < n; i++) {
            const r = receiver.blockingRecv();
            if (!r.ok) throw r.error;
            if (r.value !== i) throw new Error(`channel gave ${String(r.value)} where ${i} was expected`);
          }
          return performance.now() - t0;
        };
        const ms = await joinAll([mt.spawn(mt.move(tx, n, gate), produce), mt.spawn(mt.move(rx, n, gate), consume)]);
        tx.close();
        rx.close();
        return max(ms);
      },
      figure: itemsPerSecond,
    };
  });
}

// ---- the native anchor ---------------------------------------------------------------------------

/** Runs bench/anchors/pthread_sync.c `rounds` times; one outcome per figure it prints. */
async function pthreadAnchor(rounds: number, log: (s: string) => void): Promise<Record<"unc" | "cont" | "barrier", Outcome>> {
  const figures = { unc: [] as number[], cont: [] as number[], barrier: [] as number[] };
  try {
    const bin = buildAnchor("bench/anchors/pthread_sync.c", ["-O2", "-pthread"]);
    for (let r = 0; r < rounds; r++) {
      log(`pthread anchor, round ${r + 1}/${rounds}`);
      const out = await runAnchor(bin);
      const f = parseFigures(out, {
        unc: /uncontended lock\+unlock: ([\d.]+) ns/,
        cont: /contended \(2 threads\) lock\+unlock: ([\d.]+) ns/,
        barrier: /barrier \(2 threads\) round: ([\d.]+) ns/,
        counter: /counter=(\d+)/,
        expect: /\(expect (\d+)\)/,
      });
      if (f.counter !== f.expect) throw new WrongAnswer(`the pthread anchor counted ${f.counter}, expected ${f.expect}`);
      figures.unc.push(f.unc);
      figures.cont.push(f.cont);
      figures.barrier.push(f.barrier);
    }
  } catch (err) {
    const o: Outcome =
      err instanceof Skip
        ? { kind: "skipped", hint: err.hint }
        : { kind: "failed", message: err instanceof Error ? err.message : String(err) };
    return { unc: o, cont: o, barrier: o };
  }
  const ok = (xs: number[]): Outcome => ({ kind: "ok", stats: summarize(xs) });
  return { unc: ok(figures.unc), cont: ok(figures.cont), barrier: ok(figures.barrier) };
}

/** The thread counts of the scaling groups (5 and 6): 2 up to 8x the cores of this machine. */
const SCALING_THREADS = [2, 4, 8, 16] as const;
/** The shortest sample of the scaling groups, ms (also under --quick). */
const SCALING_SAMPLE_MS = 150;

interface ScalingAnchor {
  /** The core count the anchor reported (sysconf), or undefined if it did not run. */
  cores: number | undefined;
  cont: Map<number, Outcome>;
  barrier: Map<number, Outcome>;
}

/** Runs `pthread_sync T` for every scaling thread count, `rounds` times each. */
async function pthreadScaling(rounds: number, log: (s: string) => void): Promise<ScalingAnchor> {
  const result: ScalingAnchor = { cores: undefined, cont: new Map(), barrier: new Map() };
  let bin: string;
  try {
    bin = buildAnchor("bench/anchors/pthread_sync.c", ["-O2", "-pthread"]);
  } catch (err) {
    const o = failure(err);
    for (const t of SCALING_THREADS) {
      result.cont.set(t, o);
      result.barrier.set(t, o);
    }
    return result;
  }
  for (const t of SCALING_THREADS) {
    const cont: number[] = [];
    const barrier: number[] = [];
    try {
      for (let r = 0; r < rounds; r++) {
        log(`pthread anchor, ${t} threads, round ${r + 1}/${rounds}`);
        const out = await runAnchor(bin, [String(t)]);
        const f = parseFigures(out, {
          cores: /cores: (\d+)/,
          cont: /contended \(\d+ threads\) lock\+unlock: ([\d.]+) ns/,
          barrier: /barrier \(\d+ threads\) round: ([\d.]+) ns/,
          counter: /counter=(\d+)/,
          expect: /\(expect (\d+)\)/,
        });
        if (f.counter !== f.expect) throw new WrongAnswer(`the pthread anchor counted ${f.counter}, expected ${f.expect}`);
        result.cores = f.cores;
        cont.push(f.cont);
        barrier.push(f.barrier);
      }
      result.cont.set(t, { kind: "ok", stats: summarize(cont) });
      result.barrier.set(t, { kind: "ok", stats: summarize(barrier) });
    } catch (err) {
      result.cont.set(t, failure(err));
      result.barrier.set(t, failure(err));
    }
  }
  return result;
}

function failure(err: unknown): Outcome {
  return err instanceof Skip
    ? { kind: "skipped", hint: err.hint }
    : { kind: "failed", message: err instanceof Error ? err.message : String(err) };
}

// ---- the suite -----------------------------------------------------------------------------------

export default async function syncSuite(options: SuiteOptions): Promise<Report> {
  const sizes: Sizes = options.quick ? { rounds: 3, sampleMs: 30 } : { rounds: 9, sampleMs: 150 };
  const anchorRounds = options.quick ? 1 : 5;
  const log = options.log;
  const report = new Report("sync", "sabre sync primitives", machineInfo());
  const mt = await loadMultithreading().catch((err: unknown) => {
    if (err instanceof Skip) return err;
    throw err;
  });
  if (!(mt instanceof Skip)) mt.initRuntime({ maxWorkers: PARTIES });
  const progress = (group: string) => (id: string, round: number) => log(`${group}: ${id}, round ${round + 1}/${sizes.rounds}`);

  const anchor = await pthreadAnchor(anchorRounds, log);
  const scaling = await pthreadScaling(anchorRounds, log);

  try {
    const unc = await measureRounds(
      [floorUncontended(sizes), sabreUncontended(sizes), mtUncontended(sizes, mt)],
      sizes.rounds,
      progress("uncontended"),
    );
    unc.set("pthread", anchor.unc);
    report.addGroup({
      id: "unc",
      title: "1. Uncontended lock+unlock",
      unit: "ns/op",
      better: "lower",
      reference: "floor",
      method: "One thread (the main thread), lock then unlock in a loop, nothing held in between.",
      entries: [
        { id: "floor", label: "JS floor: Atomics CAS + exchange" },
        { id: "sabre", label: "sabre Mutex lock/unlock", ours: true },
        { id: "pthread", label: "C pthread_mutex (gcc -O2)" },
        { id: "mt", label: "multithreading Mutex", note: "blockingLock() + dispose()" },
      ],
      outcomes: unc,
    });

    const cont = await measureRounds(
      [sabreContended(sizes), spinContended(sizes), mtContended(sizes, mt)],
      sizes.rounds,
      progress("contended"),
    );
    cont.set("pthread", anchor.cont);
    report.addGroup({
      id: "cont",
      title: "2. Two threads contending (locked increments)",
      unit: "ns/op",
      better: "lower",
      reference: "pthread",
      method:
        "Two worker threads each do n increments of one shared cell under the lock; " +
        "figure = wall time of the slower thread / (2 n); the final count is checked exactly.",
      entries: [
        { id: "pthread", label: "C pthread_mutex (gcc -O2)" },
        { id: "sabre", label: "sabre Mutex", ours: true },
        { id: "spin", label: "JS spin lock (CAS, never parks)", note: "unfair, burns CPU: a floor, not a usable lock" },
        { id: "mt", label: "multithreading Mutex" },
      ],
      outcomes: cont,
    });

    const bar = await measureRounds(
      [sabreBarrier(sizes), spinBarrier("spin", BARRIER_SPIN_US, sizes), spinBarrier("park", 0, sizes), mtBarrier(sizes, mt)],
      sizes.rounds,
      progress("barrier"),
    );
    bar.set("pthread", anchor.barrier);
    report.addGroup({
      id: "barrier",
      title: "3. Two-party barrier round",
      unit: "ns/round",
      better: "lower",
      reference: "pthread",
      method: "Two worker threads call wait() in a loop; figure = wall time of the slower thread / rounds; exactly one leader per round is checked.",
      entries: [
        { id: "pthread", label: "C pthread_barrier (gcc -O2)" },
        { id: "sabre", label: "sabre Barrier(2).wait()", ours: true },
        { id: "spin", label: "JS barrier, spin then park", note: `spins up to ${BARRIER_SPIN_US} us, then Atomics.wait` },
        { id: "park", label: "JS barrier, park at once", note: "Atomics.wait as soon as it must wait" },
        { id: "mt", label: "multithreading Barrier", note: "blockingWait()" },
      ],
      outcomes: bar,
    });

    const q = await measureRounds([sabreQueue(sizes), mtChannel(sizes, mt), postMessageQueue(sizes)], sizes.rounds, progress("queue"));
    report.addGroup({
      id: "queue",
      title: "4. Queue hand-off, one producer thread to one consumer thread",
      unit: "items/s",
      better: "higher",
      reference: "post",
      method:
        `Producer pushes 0..n-1, consumer pops and checks each arrives in order; capacity ${QUEUE_CAPACITY}; ` +
        "figure = n / wall time of the slower side.",
      entries: [
        { id: "post", label: "postMessage, one message per item", note: "unbounded: no back-pressure" },
        { id: "sabre", label: "sabre Queue (int32 records)", ours: true },
        { id: "mt", label: "multithreading channel", note: "JSON values, blockingSend/blockingRecv" },
      ],
      outcomes: q,
    });
    // ---- 5 and 6: the same protocols with 2 to 16 threads (oversubscribed beyond the core count) ----
    const cores = scaling.cores ?? report.machine.cores;
    // Longer samples: starting 16 threads on a few cores takes a scheduler turn or two, which a
    // 30 ms sample would count as contention (the anchor runs ~100 ms per figure).
    const scaled: Sizes = { ...sizes, sampleMs: Math.max(sizes.sampleMs, SCALING_SAMPLE_MS) };
    for (const t of SCALING_THREADS) {
      const cont = await measureRounds([sabreContended(scaled, t, true)], sizes.rounds, progress(`mutex x${t}`));
      cont.set("pthread", scaling.cont.get(t)!);
      report.addGroup({
        id: `mutex${t}`,
        title: `5. Mutex, ${t} threads contending (${cores} cores)`,
        unit: "ns/op",
        better: "lower",
        reference: "pthread",
        method:
          `${t} worker threads each do n increments of one shared cell under the lock; ` +
          `figure = time from the first thread's start to the last one's end / (${t} n), as the pthread anchor ` +
          "measures it; the final count is checked exactly.",
        entries: [
          { id: "pthread", label: `C pthread_mutex, ${t} threads` },
          { id: "sabre", label: `sabre Mutex, ${t} threads`, ours: true },
        ],
        outcomes: cont,
      });
    }
    for (const t of SCALING_THREADS) {
      const bar = await measureRounds(
        [sabreBarrier(scaled, t), spinBarrier("park", 0, scaled, t)],
        sizes.rounds,
        progress(`barrier x${t}`),
      );
      bar.set("pthread", scaling.barrier.get(t)!);
      report.addGroup({
        id: `barrier${t}`,
        title: `6. Barrier, ${t} parties (${cores} cores)`,
        unit: "ns/round",
        better: "lower",
        reference: "pthread",
        method: `${t} worker threads call wait() in a loop; figure = wall time of the slowest thread / rounds; exactly one leader per round is checked.`,
        entries: [
          { id: "pthread", label: `C pthread_barrier, ${t} parties` },
          { id: "sabre", label: `sabre Barrier(${t}).wait()`, ours: true },
          { id: "park", label: "JS barrier, park at once", note: "V8's Atomics.wait/notify floor" },
        ],
        outcomes: bar,
      });
    }
  } finally {
    if (!(mt instanceof Skip)) mt.shutdown();
  }

  report.addTarget("uncontended: sabre Mutex within 1.5x of the JS floor", report.ratio("unc", "sabre"), (r) => r <= 1.5);
  report.addTarget("contended: sabre Mutex within 2x of pthreads", report.ratio("cont", "sabre"), (r) => r <= 2);
  report.addTarget("barrier: sabre round <= 1/10 of the pthread round", report.ratio("barrier", "sabre"), (r) => r <= 0.1);
  for (const [group, what] of [
    ["unc", "uncontended"],
    ["cont", "contended"],
    ["barrier", "barrier"],
  ] as const) {
    report.addTarget(
      `${what}: sabre faster than multithreading`,
      report.ratio(group, "mt", "sabre"),
      (r) => r > 1,
      (r) => `multithreading takes ${r.toFixed(1)}x sabre's time`,
    );
  }
  report.addTarget(
    "queue: sabre faster than the multithreading channel",
    report.ratio("queue", "sabre", "mt"),
    (r) => r > 1,
    (r) => `sabre moves ${r.toFixed(1)}x the items/s`,
  );
  for (const t of SCALING_THREADS) {
    report.addTarget(`mutex, ${t} threads: sabre within 2x of pthreads`, report.ratio(`mutex${t}`, "sabre"), (r) => r <= 2);
  }
  for (const t of SCALING_THREADS) {
    report.addTarget(`barrier, ${t} parties: sabre within 2x of pthreads`, report.ratio(`barrier${t}`, "sabre"), (r) => r <= 2);
  }
  report.addNote(
    "Sizes are chosen per row so one sample takes about " +
      `${sizes.sampleMs} ms (a pilot run, which is also the warm-up); ${sizes.rounds} rounds per row, interleaved across the rows of a group; ` +
      `the pthread anchor runs ${anchorRounds} times with its built-in sizes.`,
  );
  report.addNote(
    "Spin-then-park protocols are bimodal here: while both threads spin, a two-party hand-off costs about 0.5 us; " +
      "once one thread parks, its wake-up takes 10 us or more on this VM, and a spin budget shorter than that makes " +
      "the next round park too. Look at the min – max column: a low min with a high median means the row spent most " +
      "samples in the parked mode.",
  );
  report.addNote(
    "multithreading 0.3.52 needs navigator.hardwareConcurrency and Promise.withResolvers on Node 20; " +
      "the harness polyfills both before importing it. Its rows run in its own worker pool (spawn + move), timed inside the task.",
  );
  return report;
}
