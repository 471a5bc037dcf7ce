// Shared test helpers: typed-error assertions and running real worker threads.
import * as assert from "uvu/assert";
import { Worker } from "node:worker_threads";
import * as os from "node:os";

type ErrorClass = abstract new (...args: never[]) => Error;

function check(err: unknown, cls: ErrorClass, pattern?: RegExp): void {
  if (!(err instanceof cls)) {
    assert.unreachable(`expected ${cls.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  if (pattern && !pattern.test((err as Error).message)) {
    assert.unreachable(`${cls.name} message ${JSON.stringify((err as Error).message)} does not match ${pattern}`);
  }
}

/** Asserts that fn throws an instance of cls whose message matches pattern. Returns the error. */
export function throwsTyped<E extends Error>(fn: () => unknown, cls: abstract new (...args: never[]) => E, pattern?: RegExp): E {
  try {
    fn();
  } catch (err) {
    check(err, cls, pattern);
    return err as E;
  }
  return assert.unreachable(`expected ${cls.name} to be thrown, nothing was`) as never;
}

/** Asserts that the promise (or async fn) rejects with cls whose message matches pattern. Returns the error. */
export async function rejectsTyped<E extends Error>(
  p: Promise<unknown> | (() => Promise<unknown>),
  cls: abstract new (...args: never[]) => E,
  pattern?: RegExp,
): Promise<E> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    check(err, cls, pattern);
    return err as E;
  }
  return assert.unreachable(`expected ${cls.name} rejection, it resolved`) as never;
}

/**
 * Starts `count` workers on a fixture module (a test/fixtures file, built next
 * to the tests) and resolves with each worker's posted result, in worker order.
 * A worker that errors or exits without posting rejects the whole run.
 */
export function runWorkers<R = unknown>(fixture: URL, count: number, data: (i: number) => unknown): Promise<R[]> {
  const runs: Promise<R>[] = [];
  for (let i = 0; i < count; i++) {
    runs.push(
      new Promise<R>((resolve, reject) => {
        const w = new Worker(fixture, { workerData: data(i) });
        let settled = false;
        w.once("message", (m: R) => {
          settled = true;
          resolve(m);
        });
        w.once("error", (e) => {
          settled = true;
          reject(e);
        });
        w.once("exit", (code) => {
          if (!settled) reject(new Error(`worker ${i} exited with code ${code} before posting a result`));
        });
      }),
    );
  }
  return Promise.all(runs);
}

/** The URL of a compiled fixture (test/fixtures/<name>.ts is built to build/test/fixtures/<name>.js). */
export function fixture(name: string): URL {
  const here = import.meta.url;
  const at = here.lastIndexOf("/build/test/");
  if (at < 0) throw new Error(`tests must run from build/test/, not ${here}`);
  return new URL(`fixtures/${name}.js`, here.slice(0, at + "/build/test/".length));
}

/**
 * How much slower than an idle machine this one runs now: the 1-minute load
 * average per core, at least 1. Upper bounds that only guard against a hang
 * or a lost wake-up ("returned within 1 s") scale by it, so a test run on a
 * machine shared with other builds stays a test of correctness, not of the
 * scheduler. Lower bounds (a timed wait must not return early) never scale.
 */
export function loadFactor(): number {
  return Math.max(1, os.loadavg()[0]! / os.availableParallelism());
}
