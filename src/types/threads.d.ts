// threads.js 1.7.0 ships types that its own package.json "exports" map hides
// from `moduleResolution: nodenext` (fixed upstream, unreleased). These are the
// few names sabre uses, as threads.js documents them.
declare module "threads" {
  import type { Worker as NodeWorker, WorkerOptions } from "node:worker_threads";

  /** threads.js's worker: a worker_threads Worker whose path is resolved against the calling file's folder. */
  export class Worker extends NodeWorker {
    constructor(scriptPath: string, options?: WorkerOptions);
  }
  export type ModuleThread<Api> = {
    [K in keyof Api]: Api[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
  };
  export function spawn<Api>(worker: Worker, options?: { timeout?: number }): Promise<ModuleThread<Api>>;
  export const Thread: {
    terminate(thread: unknown): Promise<void>;
  };
}

declare module "threads/worker" {
  export function expose(api: Record<string, (...args: never[]) => unknown>): void;
}
