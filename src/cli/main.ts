import { parseArgs } from "node:util";
import { SabreError } from "../errors.js";
import { bench } from "./bench.js";
import { demo, DEMO_USAGE } from "./demo.js";
import { forest, FOREST_USAGE } from "./forest.js";
import { info } from "./info.js";
import { clusterCommand, CLUSTER_USAGE } from "./cluster.js";
import { preprocessCommand, PREPROCESS_USAGE } from "./preprocess.js";
import { workerCommand, WORKER_USAGE } from "./worker.js";

const USAGE = `usage: sabre <command> [options]

commands:
  demo            train a random forest on an embedded data set, on every core (what npm start runs)
  forest fit      train a forest on a CSV file and save it as JSON
  forest predict  predict (and score) a CSV file with a saved forest
  preprocess      impute, scale, encode, bin and split a CSV or .npy table into .npy files
  bench [suite]   run the benchmarks (from a clone of the repository)
  worker          serve jobs from a Redis queue as one host of a cluster
  cluster status  list a cluster's hosts and jobs
  info            what this machine offers: threads, shared memory, Atomics, versions

${DEMO_USAGE}
${FOREST_USAGE}${PREPROCESS_USAGE}${WORKER_USAGE}${CLUSTER_USAGE}`;

const INFO_USAGE = "usage: sabre info\n  prints what this machine offers sabre (threads, shared memory, Atomics, versions); takes no flags\n";

/** Each command's own usage, printed for `sabre <command> --help`. */
const COMMAND_USAGE: Record<string, string> = {
  info: INFO_USAGE,
  demo: DEMO_USAGE,
  forest: FOREST_USAGE,
  preprocess: PREPROCESS_USAGE,
  worker: WORKER_USAGE,
  cluster: CLUSTER_USAGE,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const own = command === undefined ? undefined : COMMAND_USAGE[command];
  if (own && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(own.endsWith("\n") ? own : `${own}\n`);
    return 0;
  }
  switch (command) {
    case "demo":
      return demo(rest);
    case "forest":
      return forest(rest);
    case "preprocess":
      return preprocessCommand(rest);
    case "worker":
      return workerCommand(rest);
    case "cluster":
      return clusterCommand(rest);
    case "bench":
      return bench(rest);
    case "info": {
      // Strict like the other commands' flags: `sabre info --json` printed the table and exited 0, as if understood.
      parseArgs({ args: rest, options: {}, strict: true, allowPositionals: false });
      const facts = info();
      const width = Math.max(...Object.keys(facts).map((k) => k.length));
      for (const [k, v] of Object.entries(facts)) console.log(`${k.padEnd(width)}  ${v}`);
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`sabre: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // Bad input and bad files are the user's to fix: say what was wrong, without a stack.
  if (err instanceof SabreError || String((err as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`sabre: ${(err as Error).message}\n`);
    process.exitCode = 2;
  } else throw err;
}
