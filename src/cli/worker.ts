// `sabre worker`: one host of a cluster (src/cluster/host.ts does the work).
import { parseArgs } from "node:util";
import { SabreTypeError } from "../errors.js";
import { ClusterHost } from "../cluster/host.js";
import { redactUrl } from "../cluster/redis.js";

export const WORKER_USAGE = `usage:
  sabre worker --redis <url> [--threads N] [--kernels mod.js ...] [--name NAME] [--queue Q]

serves jobs from a Redis queue (BullMQ) as one host of a cluster, on its own
engine of N threads (default: every core). Only the built-in kernels and the
modules named after --kernels ever run: a job names a kernel, never carries
code. NAME defaults to hostname:pid. SIGTERM finishes the running jobs, then
exits 0.
`;

/** --kernels takes every following argument up to the next option (and may be repeated). */
function splitKernels(args: string[]): { rest: string[]; kernels: string[] } {
  const rest: string[] = [];
  const kernels: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--kernels") {
      while (i + 1 < args.length && !args[i + 1]!.startsWith("--")) kernels.push(args[++i]!);
    } else if (a.startsWith("--kernels=")) kernels.push(...a.slice("--kernels=".length).split(",").filter(Boolean));
    else rest.push(a);
  }
  return { rest, kernels };
}

export async function workerCommand(args: string[]): Promise<number> {
  const { rest, kernels } = splitKernels(args);
  const { values } = parseArgs({
    args: rest,
    options: {
      redis: { type: "string" },
      threads: { type: "string" },
      name: { type: "string" },
      queue: { type: "string" },
      password: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(WORKER_USAGE);
    return 0;
  }
  if (values.redis === undefined) throw new SabreTypeError("sabre worker needs --redis <url> (e.g. redis://127.0.0.1:6379)");
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1) throw new SabreTypeError(`--threads must be an integer >= 1, got ${JSON.stringify(values.threads)}`);
  }
  const log = (line: string): void => void process.stderr.write(`sabre worker: ${line}\n`);
  const host = await ClusterHost.start({
    redis: values.redis,
    ...(values.password !== undefined ? { password: values.password } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.queue !== undefined ? { queue: values.queue } : {}),
    kernels,
    log,
  });
  const served = host.kernels.length > 0 ? host.kernels.join(", ") : "built-ins only";
  process.stdout.write(`sabre worker ${host.name}: serving queue "${host.queue}" on ${redactUrl(values.redis)} with ${host.threads} threads (kernels: ${served})\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.stdout.write(`sabre worker ${host.name}: ${signal}, finishing running jobs\n`);
      void host.stop().then(resolve, (err: unknown) => {
        log(`stop: ${(err as Error).message}`);
        resolve();
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  // BullMQ's own connections may still be retrying a Redis that is gone: they must not keep a stopped host alive.
  await new Promise<void>((resolve) => process.stdout.write(`sabre worker ${host.name}: stopped\n`, () => resolve()));
  process.exit(0);
}
