import type { MessagePort } from "node:worker_threads";
import type { ControlBlock } from "./control.js";

/** The workerData every engine worker starts with. */
export interface WorkerBoot {
  workerId: number;
  threads: number;
  control: ControlBlock;
  /** main -> worker: argument sets (read synchronously with receiveMessageOnPort). */
  argsPort: MessagePort;
  /** worker -> main: job reports. */
  resultsPort: MessagePort;
  /** File URLs of the user's kernel modules, in load order. */
  modules: string[];
  checked: boolean;
  startSeq: number;
  spinMicros: number;
  /** Which built-in kernel set to load: "loader" skips forest, ops, preprocess and csv (engine.ts, InternalEngineSettings). */
  builtins: "all" | "loader";
  /** Whether the worker registers sabre's sync and queue primitives (their wire forms) before its first job: false only for a DataLoader whose args hold none. */
  primitives: boolean;
}
