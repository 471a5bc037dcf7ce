import os from "node:os";
import { Skip } from "./measure.js";

/**
 * Optional peers: npm packages (and other tools) a benchmark compares
 * against. They are devDependencies, but a benchmark must still run, and say
 * how to get them, when one is missing: a missing peer is a skipped row with
 * a one-line install hint, never a fake figure.
 */

function isMissingModule(err: unknown, specifier: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (
    (e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "MODULE_NOT_FOUND") &&
    typeof e.message === "string" &&
    e.message.includes(specifier)
  );
}

/** Imports an npm peer, or throws Skip with `npm install --save-dev <pkg>` as the hint. */
export async function importPeer<T>(specifier: string, pkg = specifier): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (err) {
    if (isMissingModule(err, specifier)) throw new Skip(`${pkg} is not installed: npm install --save-dev ${pkg}`);
    throw err;
  }
}

/** The multithreading package's API, as far as the benchmarks use it. */
export type Multithreading = typeof import("multithreading");

/**
 * Loads `multithreading` (0.3.52), which does not load on Node 20 as
 * published: it reads navigator.hardwareConcurrency at import (Node 20 has no
 * navigator) and calls Promise.withResolvers (Node 22+) in spawn. Both are
 * polyfilled here, before the dynamic import, only if absent.
 */
export async function loadMultithreading(): Promise<Multithreading> {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number } };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, "navigator", {
      value: { hardwareConcurrency: os.availableParallelism() },
      configurable: true,
      writable: true,
    });
  } else if (!g.navigator.hardwareConcurrency) {
    Object.defineProperty(g.navigator, "hardwareConcurrency", { value: os.availableParallelism(), configurable: true });
  }
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers !== "function") {
    P.withResolvers = function withResolvers<T>() {
      let resolve!: (v: T | PromiseLike<T>) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    };
  }
  quietMoveWarning();
  return importPeer<Multithreading>("multithreading");
}

let quieted = false;

/**
 * multithreading warns on every spawn that moves a bare SharedArrayBuffer view
 * ("...without locking"); the benchmarks move start gates that way on
 * purpose. Only that one message is dropped; every other warning still prints.
 */
function quietMoveWarning(): void {
  if (quieted) return;
  quieted = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].includes("SharedArrayBuffer to a worker without locking")) return;
    warn(...args);
  };
}

