import { parseArgs } from "node:util";
import { Engine } from "../engine/engine.js";
import { RandomForestClassifier } from "../ml/forest/classifier.js";
import { digitsSplit, fashionSplit, type Split } from "./datasets.js";
import { ProgressBar } from "./progress.js";

export const DEMO_USAGE = `usage: sabre demo [--dataset digits|fashion-mnist] [--trees N] [--threads N] [--seed N]

Trains a random forest on an embedded data set (default: the UCI digits that
ship with sabre) on every core, then reports accuracy and timings.
`;

/** `sabre demo`: the main job on an embedded default. */
export async function demo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: "string", default: "digits" },
      trees: { type: "string", default: "100" },
      threads: { type: "string" },
      seed: { type: "string", default: "1" },
    },
  });
  const trees = Number(values.trees);
  const seed = Number(values.seed);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  let split: Split;
  if (values.dataset === "digits") split = digitsSplit();
  else if (values.dataset === "fashion-mnist") split = await fashionSplit();
  else {
    process.stderr.write(`sabre demo: unknown dataset "${values.dataset}"\n\n${DEMO_USAGE}`);
    return 2;
  }
  const engine = await Engine.start(threads === undefined ? {} : { threads });
  try {
    console.log(`data     ${split.name}`);
    console.log(`engine   ${engine.threads} worker threads`);
    const rf = new RandomForestClassifier({ nEstimators: trees, seed, engine, oobScore: true });
    const bar = new ProgressBar("fitting", trees);
    await rf.fit(split.trainX, split.trainY, { onProgress: (done) => bar.update(done) });
    const fitSeconds = bar.done();
    const t0 = performance.now();
    const accuracy = await rf.score(split.testX, split.testY);
    const predictSeconds = (performance.now() - t0) / 1000;
    const top = Array.from(rf.featureImportances, (v, f) => [f, v] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([f, v]) => `#${f} ${(v * 100).toFixed(1)}%`);
    console.log(`forest   ${trees} trees, seed ${seed}`);
    console.log(`fit      ${fitSeconds.toFixed(2)} s`);
    console.log(`predict  ${predictSeconds.toFixed(3)} s for ${split.testX.shape[0]} rows`);
    console.log(`accuracy ${(accuracy * 100).toFixed(2)}% on the test split (out-of-bag ${((rf.oobScore ?? 0) * 100).toFixed(2)}%)`);
    console.log(`features most used: ${top.join(", ")}`);
    return 0;
  } finally {
    await engine.close();
  }
}
