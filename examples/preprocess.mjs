// Preprocessing a table for a model, as scikit-learn users do it: readCsv
// (missing cells become NaN), LabelEncoder on the string target,
// trainTestSplit (stratified), OneHotEncoder on a categorical column, and a
// Pipeline of SimpleImputer -> StandardScaler -> RandomForestClassifier,
// saved as JSON and revived. Every step runs over shared memory on sabre's
// worker threads.
//
//   node examples/preprocess.mjs [--rows N] [--csv file.csv]
//
// Without --csv the example writes a synthetic customer table first (seeded:
// the same file every run): age, income, visits, tenure (months) with
// missing cells, a `plan` column coded 0/1/2, and the target `churn`
// ("yes"/"no"). A CSV of your own needs a `churn` target column and numeric
// cells (the fourth column, `plan`, is the one one-hot encoded).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Engine,
  LabelEncoder,
  OneHotEncoder,
  Pipeline,
  RandomForestClassifier,
  SimpleImputer,
  StandardScaler,
  readCsv,
  rng,
  shared,
  trainTestSplit,
} from "sabre";

const flag = (name) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const rows = Number(flag("rows") ?? 3000);
if (!Number.isInteger(rows) || rows < 100) {
  console.error(`--rows must be an integer >= 100, got ${flag("rows")}`);
  process.exit(2);
}

// ---- the data ----------------------------------------------------------------------------------

/** A synthetic churn table: churn is likelier on the basic plan, with short tenure and many support visits. */
function writeTable(file, n) {
  const r = rng(2024);
  const cell = (v, pMissing, digits = 0) => (r.float() < pMissing ? "" : v.toFixed(digits));
  const lines = ["age,income,visits,plan,tenure,churn"];
  for (let i = 0; i < n; i++) {
    const age = 18 + r.float() * 60;
    const income = Math.exp(r.normal(10.5, 0.5));
    const visits = Math.floor(r.float() * r.float() * 12);
    const plan = r.int(0, 3);
    const tenure = Math.floor(r.float() * 72);
    const z = 0.6 + (plan === 0 ? 1.5 : plan === 1 ? 0 : -1.5) - 0.09 * tenure + 0.5 * visits - 0.02 * (age - 40) + r.normal(0, 0.3);
    const churn = r.float() < 1 / (1 + Math.exp(-z)) ? "yes" : "no";
    lines.push([cell(age, 0.05), cell(income, 0.1), cell(visits, 0.03), plan, cell(tenure, 0.05), churn].join(","));
  }
  writeFileSync(file, lines.join("\n") + "\n");
}

let file = flag("csv");
const scratch = file === undefined ? mkdtempSync(join(tmpdir(), "sabre-preprocess-")) : undefined;
if (scratch !== undefined) {
  file = join(scratch, "customers.csv");
  writeTable(file, rows);
}

/** Columns [from, to) of a 2-D array as a shared copy (sabre's estimators take whole arrays). */
function columns(X, from, to) {
  const [n] = X.shape;
  const out = shared.zeros("float64", [n, to - from]);
  for (let i = 0; i < n; i++) for (let j = from; j < to; j++) out.set(i, j - from, X.get(i, j));
  return out;
}

/** The columns of a and b side by side. */
function hstack(a, b) {
  const [n, p] = a.shape;
  const q = b.shape[1];
  const out = shared.zeros("float64", [n, p + q]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) out.set(i, j, a.get(i, j));
    for (let j = 0; j < q; j++) out.set(i, p + j, b.get(i, j));
  }
  return out;
}

const engine = await Engine.start({ threads: 2 });
try {
  // ---- read, encode the target, split --------------------------------------------------------
  const { X, y, columns: names } = await readCsv(file, { target: "churn" });
  let missing = 0;
  for (let i = 0; i < X.data.length; i++) if (Number.isNaN(X.data[i])) missing++;
  console.log(`${scratch ? "customers.csv (synthetic)" : file}: ${X.shape[0]} rows x ${X.shape[1]} columns (${names.join(", ")}), ${missing} missing cells`);

  const labels = new LabelEncoder();
  const codes = await labels.fitTransform(y); // "no"/"yes" -> 0/1
  const [Xtrain, Xtest, ytrain, ytest] = await trainTestSplit(X, codes, { testSize: 0.25, seed: 1, stratify: codes });
  const positives = Array.from(ytrain.data).filter((c) => c === 1).length;
  console.log(`classes ${labels.classes.join("/")}; train ${Xtrain.shape[0]} rows (${((100 * positives) / Xtrain.shape[0]).toFixed(1)}% ${labels.classes[1]}), test ${Xtest.shape[0]} rows`);

  // ---- one-hot: the `plan` column is a category, not a quantity ------------------------------
  const onehot = new OneHotEncoder({ handleUnknown: "ignore" });
  const planTrain = await onehot.fitTransform(columns(Xtrain, 3, 4), { engine });
  const planTest = await onehot.transform(columns(Xtest, 3, 4), { engine });
  console.log(`one-hot: plan categories [${onehot.categories[0].join(", ")}] -> ${planTrain.shape[1]} columns`);
  const numericTrain = hstack(columns(Xtrain, 0, 3), columns(Xtrain, 4, 5));
  const numericTest = hstack(columns(Xtest, 0, 3), columns(Xtest, 4, 5));
  const featuresTrain = hstack(numericTrain, planTrain);
  const featuresTest = hstack(numericTest, planTest);

  // ---- the pipeline: impute, scale, forest ---------------------------------------------------
  const model = new Pipeline([
    new SimpleImputer({ strategy: "median" }),
    new StandardScaler(),
    new RandomForestClassifier({ nEstimators: 100, minSamplesLeaf: 5, seed: 1, engine }),
  ]);
  await model.fit(featuresTrain, ytrain, { engine });
  const [imputer, scaler] = model.steps.map(([, step]) => step);
  console.log(`imputer medians: ${Array.from(imputer.statistics, (v) => v.toFixed(1)).join(", ")}`);
  console.log(`scaler means: ${Array.from(scaler.mean, (v) => v.toFixed(2)).join(", ")}`);
  const accuracy = await model.score(featuresTest, ytest, { engine });
  const majority = Math.max(positives, Xtrain.shape[0] - positives) / Xtrain.shape[0];
  console.log(`test accuracy ${accuracy.toFixed(4)} (always predicting the majority class: ${majority.toFixed(4)})`);

  // ---- save and revive -----------------------------------------------------------------------
  const saved = JSON.stringify({ onehot: onehot.toJSON(), model: model.toJSON(), labels: labels.toJSON() });
  const back = JSON.parse(saved);
  const revived = Pipeline.fromJSON(back.model);
  const revivedOnehot = OneHotEncoder.fromJSON(back.onehot);
  const again = hstack(numericTest, await revivedOnehot.transform(columns(Xtest, 3, 4), { engine }));
  const p1 = await model.predict(featuresTest, { engine });
  const p2 = await revived.predict(again, { engine });
  const same = Array.from(p1).every((v, i) => v === p2[i]);
  const words = await LabelEncoder.fromJSON(back.labels).inverseTransform(p2.slice(0, 6));
  console.log(`saved as ${saved.length} bytes of JSON; the revived pipeline predicts ${same ? "the same" : "DIFFERENT"} labels: ${words.join(", ")}, ...`);
  if (!same) process.exitCode = 1;
} finally {
  await engine.close();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
}
