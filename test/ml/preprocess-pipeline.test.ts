// Pipeline: transformers then a forest (fit, predict, predictProba, score
// equal to the steps run by hand), transformer-only pipelines, make_pipeline
// names, the whole saved and revived through the estimator registry, and
// corrupted JSON; bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  Engine,
  FormatError,
  OneHotEncoder,
  Pipeline,
  RandomForestClassifier,
  RandomForestRegressor,
  SabreTypeError,
  SimpleImputer,
  StandardScaler,
  checkTransformerJSON,
  registerEstimator,
  shared,
  type NdArray,
  type Transformer,
  type TransformerJSON,
} from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";

const list = (a: unknown): unknown[] => Array.from(a as ArrayLike<unknown>);

let engine: Engine;
test.before(async () => {
  engine = await Engine.start({ threads: 2 });
});
test.after(async () => {
  await engine.close();
});

/** A transformer of this test's own (x -> x * factor), registered so Pipeline.fromJSON revives it. */
class Times implements Transformer {
  constructor(readonly factor = 2) {}
  fitted = false;
  async fit(): Promise<this> {
    this.fitted = true;
    return this;
  }
  async transform(X: unknown): Promise<NdArray> {
    const x = shared.from(X as number[][]);
    for (let i = 0; i < x.data.length; i++) (x.data as Float64Array)[i]! *= this.factor;
    return x;
  }
  async fitTransform(X: unknown): Promise<NdArray> {
    await this.fit();
    return this.transform(X);
  }
  toJSON(): TransformerJSON {
    return { format: "sabre-preprocessing", version: 1, estimator: "Times", params: { factor: this.factor }, state: this.fitted ? {} : null };
  }
  static fromJSON(obj: unknown): Times {
    const j = checkTransformerJSON(obj, "Times");
    const t = new Times(j.params.factor as number);
    t.fitted = j.state !== null;
    return t;
  }
}
registerEstimator("Times", Times.fromJSON);

/** Two categorical columns deciding the class; 400 rows. */
function data(): { X: NdArray; y: Int32Array } {
  const n = 400;
  const X = shared.zeros("float64", [n, 2]);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    X.set(i, 0, i % 5);
    X.set(i, 1, (i * 3) % 7);
    y[i] = (i % 5) + ((i * 3) % 7) > 5 ? 1 : 0;
  }
  return { X, y };
}

test("onehot then a forest: the same predictions as the steps run by hand; names; JSON round trip", async () => {
  const { X, y } = data();
  const pipe = new Pipeline([new OneHotEncoder({ handleUnknown: "ignore" }), ["forest", new RandomForestClassifier({ nEstimators: 5, seed: 3, engine })]]);
  assert.equal(Object.keys(pipe.namedSteps), ["onehotencoder", "forest"]);
  await pipe.fit(X, y, { engine });
  const enc = await new OneHotEncoder({ handleUnknown: "ignore" }).fit(X);
  const rf = await new RandomForestClassifier({ nEstimators: 5, seed: 3, engine }).fit(await enc.transform(X), y);
  const Xt = await enc.transform(X);
  assert.equal(list(await pipe.predict(X)), list(await rf.predict(Xt)));
  assert.equal(list((await pipe.predictProba(X)).data), list((await rf.predictProba(Xt)).data));
  assert.is(await pipe.score(X, y), await rf.score(Xt, y));
  assert.ok((await pipe.score(X, y)) > 0.9);
  const text = JSON.stringify(pipe.toJSON());
  const back = Pipeline.fromJSON(JSON.parse(text));
  assert.equal(Object.keys(back.namedSteps), ["onehotencoder", "forest"]);
  assert.ok(back.namedSteps.forest instanceof RandomForestClassifier);
  assert.equal(list(await back.predict(X)), list(await pipe.predict(X)));
  assert.equal(list(await Pipeline.fromJSON(text).predict(X)), list(await pipe.predict(X)), "from the JSON text too");
});

test("a regressor last; transformer-only pipelines transform and fitTransform; repeated classes get -1, -2", async () => {
  const { X, y } = data();
  const reg = new Pipeline([new Times(3), new RandomForestRegressor({ nEstimators: 3, seed: 1, engine })]);
  await reg.fit(X, Float64Array.from(y));
  const preds = await reg.predict(X);
  assert.is(preds.length, 400);
  const back = Pipeline.fromJSON(JSON.parse(JSON.stringify(reg.toJSON())));
  assert.equal(list(await back.predict(X)), list(preds));
  await rejectsTyped(reg.predictProba(X), SabreTypeError, /no predictProba/);
  const chain = new Pipeline([new Times(2), new Times(5), new OneHotEncoder()]);
  assert.equal(Object.keys(chain.namedSteps), ["times-1", "times-2", "onehotencoder"]);
  const out = await chain.fitTransform([[1], [2], [1]]);
  assert.equal(list(out.data), [1, 0, 0, 1, 1, 0]);
  assert.equal(list((await chain.transform([[2]])).data), [0, 1]);
  const revived = Pipeline.fromJSON(JSON.parse(JSON.stringify(chain.toJSON())));
  assert.equal(list((await revived.transform([[2], [1]])).data), [0, 1, 1, 0]);
  await rejectsTyped(chain.predict([[1]]), SabreTypeError, /no predict/);
  await chain.fit([[1], [3]]);
  assert.equal(list((await chain.transform([[3]])).data), [0, 1]);
});

test("imputer and scaler from main then a forest: saved and revived, the same predictions", async () => {
  const { X, y } = data();
  X.set(3, 1, NaN);
  const pipe = new Pipeline([new SimpleImputer({ strategy: "median" }), new StandardScaler(), new RandomForestClassifier({ nEstimators: 4, seed: 2, engine })]);
  assert.equal(Object.keys(pipe.namedSteps), ["simpleimputer", "standardscaler", "randomforestclassifier"]);
  await pipe.fit(X, y);
  const back = Pipeline.fromJSON(JSON.parse(JSON.stringify(pipe.toJSON())));
  assert.ok(back.namedSteps.standardscaler instanceof StandardScaler);
  assert.equal(list(await back.predict(X)), list(await pipe.predict(X)));
  assert.is(await back.score(X, y), await pipe.score(X, y));
});

test("corrupted JSON: FormatError", async () => {
  const chain = new Pipeline([new Times(2), new OneHotEncoder()]);
  await chain.fit([[1], [2]]);
  const json = JSON.parse(JSON.stringify(chain.toJSON())) as { params: { steps: Array<Record<string, unknown>> } };
  const bad = (mutate: (j: typeof json) => void, pattern: RegExp): void => {
    const copy = JSON.parse(JSON.stringify(json)) as typeof json;
    mutate(copy);
    throwsTyped(() => Pipeline.fromJSON(copy), FormatError, pattern);
  };
  bad((j) => (j.params.steps = []), /non-empty/);
  bad((j) => (j.params.steps[0]!.estimator = "Nope"), /unknown estimator "Nope"/);
  bad((j) => (j.params.steps[1]!.model = { estimator: "Times" }), /must be a saved OneHotEncoder/);
  bad((j) => ((j.params.steps[1]!.model as { state: { categories: unknown } }).state.categories = [[2, 1]]), /sorted/);
  bad((j) => (j.params.steps[1]!.name = "times"), /not unique/);
  bad((j) => ((j as unknown as Record<string, unknown>).estimator = "OneHotEncoder"), /not a Pipeline/);
  throwsTyped(() => Pipeline.fromJSON("{not json"), FormatError, /not JSON/);
});

test("bad input: typed errors", async () => {
  throwsTyped(() => new Pipeline([]), SabreTypeError, /non-empty/);
  throwsTyped(() => new Pipeline([new RandomForestClassifier(), new OneHotEncoder()]), SabreTypeError, /intermediate steps must be transformers/);
  throwsTyped(() => new Pipeline([new OneHotEncoder(), {} as never]), SabreTypeError, /last step must be/);
  throwsTyped(() => new Pipeline([["a", new OneHotEncoder()], ["a", new OneHotEncoder()]]), SabreTypeError, /not unique/);
  throwsTyped(() => new Pipeline([["a__b", new OneHotEncoder()]]), SabreTypeError, /__/);
  throwsTyped(() => new Pipeline([["a", new OneHotEncoder(), 3] as never]), SabreTypeError, /pair/);
  const pipe = new Pipeline([new OneHotEncoder(), new RandomForestClassifier({ nEstimators: 2 })]);
  await rejectsTyped(pipe.fit([[1], [2]]), SabreTypeError, /needs y/);
  await rejectsTyped(pipe.transform([[1]]), SabreTypeError, /is a model, not a transformer/);
  throwsTyped(() => pipe.toJSON(), SabreTypeError, /randomforestclassifier/);
});

test("registerEstimator refuses a non-string name or a non-function fromJSON", () => {
  throwsTyped(() => registerEstimator(null as never, () => null), SabreTypeError, /registerEstimator: name must be a non-empty string, got null/);
  throwsTyped(() => registerEstimator("AuditBad", null as never), SabreTypeError, /fromJSON of "AuditBad" must be a function, got null/);
});

test.run();
