// The JavaScript references of the sync benchmark, run in worker threads:
// what a bare Atomics spin lock, a minimal spin-then-park barrier and plain
// postMessage cost on this machine. Not sabre code and not a peer library:
// the floor the primitives are judged against.
import type { MessagePort } from "node:worker_threads";
import { passGate, serve } from "../harness/workers.js";

const UNLOCKED = 0;
const LOCKED = 1;

serve({
  /** n increments of cell[0] under a test-and-set spin lock (no parking, no owner, no fairness). */
  "spin-lock": (a) => {
    const lock = a["lock"] as Int32Array;
    const cell = a["cell"] as Int32Array;
    const n = a["n"] as number;
    passGate(a["gate"] as Int32Array, a["parties"] as number);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      while (Atomics.compareExchange(lock, 0, UNLOCKED, LOCKED) !== UNLOCKED) {
        // spin: both threads have a core, so the holder is running
      }
      cell[0]!++;
      Atomics.store(lock, 0, UNLOCKED);
    }
    return performance.now() - t0;
  },

  /**
   * `rounds` rounds of a two-phase counting barrier: the last arrival resets
   * the count and bumps the generation; the others spin on the generation for
   * up to `spinUs` microseconds, then park on it. Returns [elapsed ms, rounds led].
   */
  "spin-barrier": (a) => {
    const state = a["state"] as Int32Array; // [count, generation]
    const parties = a["parties"] as number;
    const rounds = a["rounds"] as number;
    const spinMs = (a["spinUs"] as number) / 1000;
    let led = 0;
    passGate(a["gate"] as Int32Array, parties);
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      const gen = Atomics.load(state, 1);
      if (Atomics.add(state, 0, 1) + 1 === parties) {
        Atomics.store(state, 0, 0);
        Atomics.add(state, 1, 1);
        Atomics.notify(state, 1);
        led++;
      } else {
        // Spin before parking (the other party is usually well under a microsecond
        // away), bounded by time rather than by a count: a load that misses in
        // cache costs 1 ns or 50 depending on what the other core is doing.
        if (spinMs > 0 && Atomics.load(state, 1) === gen) {
          const until = performance.now() + spinMs;
          spin: for (;;) {
            for (let k = 0; k < 64; k++) if (Atomics.load(state, 1) !== gen) break spin;
            if (performance.now() > until) break;
          }
        }
        while (Atomics.load(state, 1) === gen) Atomics.wait(state, 1, gen);
      }
    }
    return [performance.now() - t0, led];
  },

  /** Posts 0..n-1, one message each, to the consumer's port. */
  "post-produce": (a) => {
    const port = a["port"] as MessagePort;
    const n = a["n"] as number;
    passGate(a["gate"] as Int32Array, 2);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) port.postMessage(i);
    // The consumer closes the channel once it has everything: closing here could drop messages in flight.
    return performance.now() - t0;
  },

  /** Receives n messages, checking they arrive in order; resolves with the elapsed ms. */
  "post-consume": (a) =>
    new Promise<number>((resolve, reject) => {
      const port = a["port"] as MessagePort;
      const n = a["n"] as number;
      let next = 0;
      let t0 = 0;
      port.on("message", (v: number) => {
        if (v !== next) {
          port.close();
          reject(new Error(`postMessage delivered ${v} where ${next} was expected`));
          return;
        }
        if (++next === n) {
          const ms = performance.now() - t0;
          port.close();
          resolve(ms);
        }
      });
      passGate(a["gate"] as Int32Array, 2);
      t0 = performance.now();
    }),
});
