// LabelEncoder against scikit-learn 1.2 (fixture): classes and codes for
// integers, floats, strings and a single class; inverse round trip; JSON
// round trip and corrupted JSON; bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FormatError, LabelEncoder, SabreTypeError, shared } from "sabre";
import { rejectsTyped, throwsTyped } from "../helpers.js";
import { FIXTURE } from "./preprocess-encoders-fixture.js";

test("classes and codes match scikit-learn's; inverse round trip; JSON round trip", async () => {
  for (const c of FIXTURE.labels) {
    const enc = await new LabelEncoder().fit(c.y as never);
    assert.equal(enc.classes, c.classes, `${c.name}: classes`);
    const codes = await enc.transform(c.y as never);
    assert.is(codes.dtype, "int32");
    assert.equal(Array.from(codes.data), c.codes, `${c.name}: codes`);
    const back = await enc.inverseTransform(codes);
    assert.equal(Array.isArray(back) ? back : Array.from(back.data), c.y, `${c.name}: inverse`);
    const revived = LabelEncoder.fromJSON(JSON.parse(JSON.stringify(enc.toJSON())));
    assert.equal(revived.classes, c.classes, `${c.name}: classes after JSON`);
    assert.equal(Array.from((await revived.fitTransform(c.y as never)).data), c.codes);
  }
});

test("typed arrays and ndarrays in; NaN is one class, last", async () => {
  const enc = new LabelEncoder();
  const codes = await enc.fitTransform(shared.from(new Float32Array([2, NaN, -1, NaN, 2])));
  assert.equal(enc.classes, [-1, 2, NaN]);
  assert.equal(Array.from(codes.data), [1, 2, 0, 2, 1]);
  const back = LabelEncoder.fromJSON(JSON.parse(JSON.stringify(enc.toJSON())));
  assert.equal(back.classes, [-1, 2, NaN]);
  assert.equal(Array.from((await enc.transform(new Int8Array([2, -1]))).data), [1, 0]);
});

test("bad input and corrupted JSON: typed errors", async () => {
  const enc = new LabelEncoder();
  await rejectsTyped(enc.transform([1]), SabreTypeError, /not fitted/);
  await rejectsTyped(enc.fit([1, "a"] as never), SabreTypeError, /mixes strings and numbers/);
  await rejectsTyped(enc.fit([[1, 2]] as never), SabreTypeError, /1-D/);
  await rejectsTyped(enc.fit({} as never), SabreTypeError, /1-D array/);
  await enc.fit(["b", "a"]);
  await rejectsTyped(enc.transform(["a", "z", "y"]), SabreTypeError, /previously unseen labels: \["y","z"\]/);
  await rejectsTyped(enc.inverseTransform([0, 2]), SabreTypeError, /unseen labels: \[2\]/);
  const json = enc.toJSON();
  throwsTyped(() => LabelEncoder.fromJSON({ ...json, estimator: "OneHotEncoder" }), FormatError, /not a LabelEncoder/);
  throwsTyped(() => LabelEncoder.fromJSON({ ...json, state: { classes: ["b", "a"], numeric: false } }), FormatError, /sorted/);
  throwsTyped(() => LabelEncoder.fromJSON({ ...json, state: { classes: [1, "a"], numeric: false } }), FormatError, /must be a string/);
  throwsTyped(() => LabelEncoder.fromJSON({ ...json, state: { classes: "ab", numeric: false } }), FormatError, /must be an array/);
  throwsTyped(() => LabelEncoder.fromJSON(null), FormatError);
});

test.run();
