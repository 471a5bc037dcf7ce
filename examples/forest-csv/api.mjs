// A random forest on a CSV through the API: readCsv into shared memory,
// RandomForestClassifier fit / score / feature importances, the model saved
// as JSON and loaded back, and the loaded model predicting the same labels.
//
//   node examples/forest-csv/api.mjs [model.json]
//
// The data: Fisher's iris (4 measurements in cm, the species as strings),
// split 120 / 30 into iris-train.csv and iris-test.csv beside this file.
// cli.sh does the same through the `sabre forest` command.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine, RandomForestClassifier, readCsv } from "sabre";

const scratch = process.argv[2] === undefined ? mkdtempSync(join(tmpdir(), "sabre-forest-")) : undefined;
const modelFile = process.argv[2] ?? join(scratch, "iris-model.json");

// Two workers are plenty for 120 rows; without `engine` sabre uses one per core.
const engine = await Engine.start({ threads: 2 });
try {
  // The header names the columns; `target` splits the species off as y (strings here).
  const train = await readCsv(new URL("./iris-train.csv", import.meta.url), { target: "species" });
  const test = await readCsv(new URL("./iris-test.csv", import.meta.url), { target: "species" });
  console.log(`train: ${train.X.shape[0]} rows x ${train.X.shape[1]} features (${train.columns.join(", ")}), target "${train.target}"`);

  const rf = new RandomForestClassifier({ nEstimators: 50, seed: 1, oobScore: true, engine });
  await rf.fit(train.X, train.y);
  console.log(`classes: ${rf.classes.join(", ")}; out-of-bag accuracy ${rf.oobScore.toFixed(4)}`);
  console.log(`test accuracy ${(await rf.score(test.X, test.y)).toFixed(4)} on ${test.X.shape[0]} rows`);
  const importances = Array.from(rf.featureImportances, (v, j) => [train.columns[j], v]).sort((a, b) => b[1] - a[1]);
  console.log(`feature importances: ${importances.map(([name, v]) => `${name} ${v.toFixed(3)}`).join(", ")}`);

  // Save: plain JSON. Load: validated (a damaged file is a typed error, not a wrong model).
  writeFileSync(modelFile, JSON.stringify(rf.toJSON()));
  const loaded = RandomForestClassifier.fromJSON(JSON.parse(readFileSync(modelFile, "utf8")), { engine });
  const before = await rf.predict(test.X);
  const after = await loaded.predict(test.X);
  const same = before.length === after.length && Array.from(before).every((v, i) => v === after[i]);
  console.log(`model saved to ${scratch ? "a temporary file" : modelFile} (${readFileSync(modelFile).length} bytes); the loaded model predicts ${same ? "the same" : "DIFFERENT"} labels`);
  console.log(`first predictions: ${Array.from(after).slice(0, 5).join(", ")}`);
  if (!same) process.exitCode = 1;
} finally {
  await engine.close();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
}
