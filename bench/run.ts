// `npm run bench [-- suite... [--quick]]`: builds, then runs each named suite
// (all of them when none is named), prints its table and writes
// bench/results/<suite>.md (+ .svg). Each suite is its own built file
// (build/bench/<suite>.js) whose default export is a Suite.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Suite } from "./harness/suite.js";

const SUITES: Record<string, string> = {
  sync: "Mutex, Barrier and Queue against the JS floor, C pthreads and the multithreading package",
  dispatch: "Engine round trip and throughput against threads.js, piscina and postMessage; kernel scaling over 1, 2, 4 threads",
  forest: "RandomForestClassifier against scikit-learn and ml-random-forest: Fashion-MNIST, a continuous table",
  "forest-scaling": "Forest fit over 1-8 threads with few trees per thread against scikit-learn; one Fashion-MNIST tree on 1 vs 2 threads",
  ops: "Numeric ops (reductions, matmul, argsort, histogram, k-means) against numpy, scikit-learn, JS libraries and the memory bandwidth",
  preprocess: "Scalers, imputer, KBins, one-hot, stratified split and readCsv against scikit-learn, numpy and pandas",
  loader: "DataLoader samples/s over 0-4 workers and per-batch overhead against postMessage, piscina and tfjs-data loaders",
  cluster: "Forest fit sharded over sabre worker hosts through BullMQ on a local redis-server against the one-host fit",
};

function usage(): string {
  const lines = Object.entries(SUITES).map(([name, what]) => `  ${name.padEnd(10)} ${what}`);
  return [
    "usage: npm run bench [-- suite... [--quick] [--only part,part]]",
    "  --only: run only these parts of a suite (forest: fm10, binning, fm100, float, table, reg, friedman, sub; ops: bandwidth, sum, mean, mean0, mean1, var0, var1, sum1000, sum1m, sum100k, matmul64, matmul32, argsort, histogram, kmeans, first; loader: heavy, cold, light, ovh1, ovh16, memory; preprocess: scaler, imputer, kbins, onehot, split, csv, cold)",
    "suites:",
    ...lines,
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  // `--only a,b` (or `--only=a,b`): the parts of a suite to run, e.g. `npm run bench -- forest --only float,friedman`.
  let only: string[] | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--only" || a.startsWith("--only=")) {
      const list = a === "--only" ? argv[++i] : a.slice("--only=".length);
      if (!list || list.startsWith("-")) {
        console.error(`--only needs a comma-separated list of parts\n${usage()}`);
        return 2;
      }
      only = [...(only ?? []), ...list.split(",").filter((x) => x !== "")];
    } else rest.push(a);
  }
  argv = rest;
  const quick = argv.includes("--quick");
  const unknownFlags = argv.filter((a) => a.startsWith("-") && a !== "--quick");
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage());
    return 0;
  }
  if (unknownFlags.length > 0) {
    console.error(`unknown option ${unknownFlags.join(" ")}\n${usage()}`);
    return 2;
  }
  const names = argv.filter((a) => !a.startsWith("-"));
  const chosen = names.length > 0 ? names : Object.keys(SUITES);
  const unknown = chosen.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    console.error(`no benchmark suite named ${unknown.join(", ")}\n${usage()}`);
    return 2;
  }
  for (const name of chosen) {
    const url = new URL(`./${name}.js`, import.meta.url);
    if (!existsSync(fileURLToPath(url))) {
      console.error(`${fileURLToPath(url)} is missing: run through \`npm run bench\`, which builds it first`);
      return 2;
    }
    const started = performance.now();
    const mod = (await import(url.href)) as { default: Suite };
    const report = await mod.default({ quick, log: (line) => console.error(`[${name}] ${line}`), ...(only ? { only } : {}) });
    console.log(`\n${report.terminal()}\n`);
    if (quick) {
      console.error(`[${name}] --quick: results not written (reduced sizes must not replace the full results)`);
    } else if (only) {
      // Some parts at full size: their own file beside the full run's, e.g. forest-friedman.md.
      const written = report.write({ chart: true, name: `${name}-${only.join("-")}`, command: `npm run bench -- ${name} --only ${only.join(",")}` });
      for (const path of written) console.error(`[${name}] wrote ${path}`);
    } else {
      for (const path of report.write({ chart: true })) console.error(`[${name}] wrote ${path}`);
    }
    console.error(`[${name}] took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return 0;
}

// Exit explicitly: some peers (multithreading's worker pool) keep the process alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
