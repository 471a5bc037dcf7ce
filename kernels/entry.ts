// The one worker entry: loads the built-in and user kernel modules, answers
// threads.js's init call with the kernel names, then serves jobs from shared
// memory until the engine closes.
import { threadId, workerData } from "node:worker_threads";
import { expose } from "threads/worker";
import { SabreTypeError } from "../src/errors.js";
import { kernelsOf, type Kernel } from "../src/engine/define.js";
import type { WorkerBoot } from "../src/engine/boot.js";
import { Runner } from "./runner.js";

const boot = workerData as WorkerBoot;

/**
 * Every primitive registers its wire form when its module loads. A user's
 * kernel module need not import the class of each primitive it is handed
 * (a Barrier in the args, say), so the entry loads them all before any job:
 * otherwise such args could not be revived in the worker. A DataLoader
 * whose plan holds no primitive starts its workers without them
 * (boot.primitives false): ~0.2-0.3 MiB less per worker.
 */
async function registerPrimitives(): Promise<void> {
  if (boot.primitives) await Promise.all([import("../src/sync/index.js"), import("../src/queue/index.js")]);
}

/**
 * The built-in kernels, imported on demand: a DataLoader's worker loads only
 * the loader's (kernels/loader/builtin.ts), not forest, ops, preprocess and
 * csv, so each of its workers holds less code and heap.
 */
async function builtinKernels(): Promise<Record<string, Kernel>> {
  const mod = boot.builtins === "loader" ? await import("./loader/builtin.js") : await import("./builtin.js");
  return mod.default.kernels;
}

async function loadKernels(): Promise<{ names: string[]; kernels: Kernel<unknown>[]; builtins: number }> {
  const table = new Map<string, { fn: Kernel<unknown>; from: string }>();
  const add = (kernels: Record<string, Kernel>, from: string): void => {
    for (const [name, fn] of Object.entries(kernels)) {
      const prior = table.get(name);
      if (prior) {
        throw new SabreTypeError(`kernel "${name}" is defined twice: in ${prior.from} and in ${from}`);
      }
      table.set(name, { fn: fn as Kernel<unknown>, from });
    }
  };
  const [builtin] = await Promise.all([builtinKernels(), registerPrimitives()]);
  add(builtin, "sabre's built-in kernels");
  for (const spec of boot.modules) {
    let mod: unknown;
    try {
      mod = await import(spec);
    } catch (err) {
      throw new SabreTypeError(`cannot load kernel module ${spec}: ${(err as Error).message}`, { cause: err });
    }
    add(kernelsOf(mod, spec), spec);
  }
  const names = [...table.keys()];
  return { names, kernels: names.map((n) => table.get(n)!.fn), builtins: Object.keys(builtin).length };
}

const loaded = loadKernels();
// An import error surfaces through init(); do not let it also crash the worker as unhandled.
loaded.catch(() => {});

let started = false;

expose({
  async init(): Promise<{ names: string[]; threadId: number }> {
    const { names, kernels, builtins } = await loaded;
    if (!started) {
      started = true;
      const runner = new Runner({ ...boot, kernels, names, builtins });
      // The loop runs for the life of the worker; an exception escaping it is a
      // bug in sabre and must kill the worker (the engine then reports a crash).
      runner.loop().catch((err: unknown) => {
        setImmediate(() => {
          throw err;
        });
      });
    }
    return { names, threadId };
  },
});
