// A tampered forest file (impossible oobScore or importances) is a FormatError naming the field.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FormatError, RandomForestClassifier, RandomForestRegressor } from "sabre";
import { throwsTyped } from "../helpers.js";

const X = [[0, 0], [1, 1], [0, 1], [1, 0], [2, 2], [3, 3], [2, 3], [3, 2]];
const y = [0, 0, 0, 0, 1, 1, 1, 1];
type Saved = ReturnType<RandomForestClassifier["toJSON"]>;

test("forest fromJSON refuses an oobScore no fit can give and importances that are negative or do not sum to 1", async () => {
  const rf = new RandomForestClassifier({ nEstimators: 4, seed: 1, oobScore: true });
  await rf.fit(X, y);
  const saved = JSON.stringify(rf.toJSON());
  const bad = (edit: (m: Saved) => void): Saved => {
    const m = JSON.parse(saved) as Saved;
    edit(m);
    return m;
  };
  // Before: oobScore 2 and -0.5 loaded as the model's score; importances [-1, 2] and [5, 5] loaded as its importances.
  let err = throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.oobScore = 2))), FormatError, /oobScore must be null or an accuracy in \[0, 1\], got 2/);
  assert.is(err.code, "ERR_SABRE_FORMAT");
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.oobScore = -0.5))), FormatError, /oobScore .* got -0\.5/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.oobScore = Number.NaN))), FormatError, /oobScore .* got NaN/);
  err = throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.featureImportances = [-1, 2]))), FormatError, /featureImportances\[0\] must be a finite number >= 0, got -1/);
  assert.is(err.code, "ERR_SABRE_FORMAT");
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.featureImportances = [5, 5]))), FormatError, /featureImportances must sum to 1 .* got a sum of 10/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.featureImportances = [1]))), FormatError, /featureImportances must be 2 finite numbers \(one per feature\), got an array of length 1/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.featureImportances = [Number.NaN, 1]))), FormatError, /featureImportances\[0\] must be a finite number >= 0, got NaN/);
  throwsTyped(() => RandomForestClassifier.fromJSON(bad((m) => (m.featureImportances = [null, 1] as never))), FormatError, /featureImportances\[0\] .* got null/);
  // The saved file itself, and a forest without splits (all-zero importances), still load.
  assert.is(RandomForestClassifier.fromJSON(saved).oobScore, rf.oobScore);
  assert.equal(Array.from(RandomForestClassifier.fromJSON(bad((m) => (m.featureImportances = [0, 0]))).featureImportances), [0, 0]);

  // A regressor's oob score is an R^2: negative is possible, above 1 is not.
  const rr = new RandomForestRegressor({ nEstimators: 4, seed: 1, oobScore: true });
  await rr.fit(X, y.map((v) => v * 2.5));
  const r = rr.toJSON();
  throwsTyped(() => RandomForestRegressor.fromJSON({ ...r, oobScore: 1.5 }), FormatError, /oobScore must be null or an R\^2 \(a finite number <= 1\), got 1\.5/);
  throwsTyped(() => RandomForestRegressor.fromJSON({ ...r, oobScore: -Infinity }), FormatError, /oobScore .* got -Infinity/);
  assert.is(RandomForestRegressor.fromJSON({ ...r, oobScore: -3 }).oobScore, -3);
});

test.run();
