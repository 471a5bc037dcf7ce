import { access, readFile, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { FormatError, SabreTypeError } from "../errors.js";
import { Engine } from "../engine/engine.js";
import { readCsv } from "../data/csv.js";
import { RandomForestClassifier } from "../ml/forest/classifier.js";
import { RandomForestRegressor } from "../ml/forest/regressor.js";
import type { ForestOptions } from "../ml/forest/options.js";
import { ProgressBar } from "./progress.js";

export const FOREST_USAGE = `usage:
  sabre forest fit <train.csv> --target <column> --out <model.json>
        [--regression] [--trees N] [--max-depth N] [--max-features sqrt|log2|N|fraction]
        [--min-samples-leaf N] [--max-bins N] [--seed N] [--threads N] [--oob]
  sabre forest predict <model.json> <data.csv> [--target <column>] [--out <predictions.csv>] [--proba]

fit trains a RandomForestClassifier (or, with --regression, a Regressor) on a
CSV of numeric columns plus a target column (labels may be strings) and saves
the model as JSON. predict writes one prediction per row (or class
probabilities with --proba) and, given --target, prints the score.
`;

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || Number.isNaN(n)) throw new SabreTypeError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

async function fit(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      target: { type: "string" },
      out: { type: "string" },
      regression: { type: "boolean", default: false },
      trees: { type: "string" },
      "max-depth": { type: "string" },
      "max-features": { type: "string" },
      "min-samples-leaf": { type: "string" },
      "max-bins": { type: "string" },
      seed: { type: "string" },
      threads: { type: "string" },
      oob: { type: "boolean", default: false },
    },
  });
  const [file] = positionals;
  if (!file || values.target === undefined || values.out === undefined) {
    process.stderr.write(FOREST_USAGE);
    return 2;
  }
  const { X, y, target } = await readCsv(file, { target: /^-?\d+$/.test(values.target) ? Number(values.target) : values.target });
  const mf = values["max-features"];
  const options: ForestOptions = {};
  const set = (k: keyof ForestOptions, v: unknown): void => {
    if (v !== undefined) (options as Record<string, unknown>)[k] = v;
  };
  set("nEstimators", num("trees", values.trees));
  set("maxDepth", num("max-depth", values["max-depth"]));
  set("maxFeatures", mf === undefined || mf === "sqrt" || mf === "log2" ? mf : num("max-features", mf));
  set("minSamplesLeaf", num("min-samples-leaf", values["min-samples-leaf"]));
  set("maxBins", num("max-bins", values["max-bins"]));
  set("seed", num("seed", values.seed));
  if (values.oob) options.oobScore = true;
  const threads = num("threads", values.threads);
  // Before the fit, so a missing folder does not cost the whole fit.
  await checkWritable(values.out);
  const engine = await Engine.start(threads === undefined ? {} : { threads });
  try {
    options.engine = engine;
    const rf = values.regression ? new RandomForestRegressor(options) : new RandomForestClassifier(options);
    const bar = new ProgressBar("fitting", rf.nEstimators);
    await rf.fit(X, y as number[], { onProgress: (d) => bar.update(d) });
    const secs = bar.done();
    await writeOut(values.out, JSON.stringify(rf.toJSON()));
    console.log(
      `fitted ${rf.nEstimators} trees on ${X.shape[0]} rows x ${X.shape[1]} features (target "${target}") in ${secs.toFixed(2)} s` +
        (rf.oobScore !== undefined ? `; out-of-bag ${values.regression ? "R^2" : "accuracy"} ${rf.oobScore.toFixed(4)}` : ""),
    );
    console.log(`model written to ${values.out}`);
    return 0;
  } finally {
    await engine.close();
  }
}

async function predict(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      target: { type: "string" },
      out: { type: "string" },
      proba: { type: "boolean", default: false },
      threads: { type: "string" },
    },
  });
  const [modelFile, dataFile] = positionals;
  if (!modelFile || !dataFile) {
    process.stderr.write(FOREST_USAGE);
    return 2;
  }
  if (values.out !== undefined) await checkWritable(values.out);
  const text = await readFile(modelFile, "utf8").catch((err: Error) => {
    throw new SabreTypeError(`cannot read ${modelFile}: ${err.message}`);
  });
  const threads = num("threads", values.threads);
  const engine = await Engine.start(threads === undefined ? {} : { threads });
  try {
    let model: unknown;
    try {
      model = JSON.parse(text);
    } catch (err) {
      // A model file that is not JSON used to crash the command with a SyntaxError and a stack trace.
      throw new FormatError(`${modelFile} is not a sabre forest: not JSON (${(err as Error).message})`, { cause: err });
    }
    const isRegressor = (model as { estimator?: unknown } | null)?.estimator === "RandomForestRegressor";
    const rf = isRegressor ? RandomForestRegressor.fromJSON(model, { engine }) : RandomForestClassifier.fromJSON(model, { engine });
    const target = values.target === undefined ? undefined : /^-?\d+$/.test(values.target) ? Number(values.target) : values.target;
    const { X, y } = await readCsv(dataFile, target === undefined ? {} : { target });
    let lines: string[];
    if (values.proba && rf instanceof RandomForestClassifier) {
      const p = await rf.predictProba(X);
      const C = p.shape[1]!;
      lines = [rf.classes.join(",")];
      for (let r = 0; r < p.shape[0]!; r++) lines.push(Array.from(p.data.subarray(r * C, (r + 1) * C), (v) => v.toFixed(6)).join(","));
    } else {
      const pred = await rf.predict(X);
      lines = ["prediction", ...Array.from(pred as ArrayLike<number | string>, String)];
    }
    if (values.out) {
      await writeOut(values.out, lines.join("\n") + "\n");
      console.log(`${X.shape[0]} predictions written to ${values.out}`);
    } else if (!y) process.stdout.write(lines.join("\n") + "\n");
    if (y) {
      const score = await rf.score(X, y as number[]);
      console.log(`${isRegressor ? "R^2" : "accuracy"} ${score.toFixed(4)} on ${X.shape[0]} rows`);
    }
    return 0;
  } finally {
    await engine.close();
  }
}

/** `sabre forest fit|predict`. */
export async function forest(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "fit") return fit(rest);
  if (sub === "predict") return predict(rest);
  process.stderr.write(FOREST_USAGE);
  return sub === undefined || sub === "help" ? 0 : 2;
}

/** Fails early, as a one-line error, when `path` cannot be created or written (its folder is missing or read-only). */
async function checkWritable(path: string): Promise<void> {
  try {
    await access(dirname(path), constants.W_OK);
  } catch (err) {
    throw new SabreTypeError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** writeFile whose failure is a one-line error (exit 2) rather than a crash with a stack trace. */
async function writeOut(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (err) {
    throw new SabreTypeError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}
