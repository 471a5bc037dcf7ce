// Classifier label encoding: the table path for integer labels in a small
// range and the generic Set path give the same ids and classes, and the
// same errors, whatever container holds the labels.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SabreTypeError } from "../../src/errors.js";
import { shared } from "../../src/memory/shared.js";
import { encodeClasses } from "../../src/ml/labels.js";
import { throwsTyped } from "../helpers.js";

/** What the generic path gives: the labels as a plain number[] never take the table path. */
function viaSet(values: number[]): { ids: number[]; classes: unknown[] } {
  const r = encodeClasses(values, values.length);
  return { ids: [...r.ids], classes: r.classes };
}

function same(y: ArrayLike<number> | ReturnType<typeof shared.from>, plain: number[], what: string): void {
  const r = encodeClasses(y, plain.length);
  const ref = viaSet(plain);
  assert.equal(r.classes, ref.classes, `${what}: classes`);
  assert.equal([...r.ids], ref.ids, `${what}: ids`);
}

test("integer labels of every container give the generic path's ids and classes", () => {
  const plain = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 13) - 4);
  same(new Int32Array(plain), plain, "Int32Array with negatives");
  same(new Float64Array(plain), plain, "Float64Array of integers");
  same(new Int8Array(plain), plain, "Int8Array");
  const u = plain.map((v) => v + 4);
  same(new Uint8Array(u), u, "Uint8Array");
  same(new Uint16Array(u.map((v) => v * 5000)), u.map((v) => v * 5000), "range 60,000 (table)");
  same(new Int32Array(u.map((v) => v * 100_000)), u.map((v) => v * 100_000), "range 1.2M (Set)");
  // A strided ndarray view and an [n, 1] column.
  const col = shared.from(new Int16Array(u.flatMap((v) => [v, 99])), { shape: [u.length, 2] });
  same(col.pick(null, 0) as never, u, "strided ndarray");
  same(shared.from(new Int16Array(u), { shape: [u.length, 1] }), u, "[n, 1] ndarray");
});

test("labels the table path cannot take get the generic path's errors", () => {
  throwsTyped(() => encodeClasses(new Float64Array([0, 1, Number.NaN]), 3), SabreTypeError, /y\[2\] is NaN/);
  throwsTyped(() => encodeClasses(new Float32Array([0, 1.5, 1]), 3), SabreTypeError, /y\[1\] is 1\.5.*RandomForestRegressor/);
  throwsTyped(() => encodeClasses(new Uint8Array([3, 3, 3]), 3), SabreTypeError, /single class \(3\)/);
  throwsTyped(() => encodeClasses(new Uint8Array([0, 1]), 3), SabreTypeError, /X has 3 rows but y has 2 labels/);
  throwsTyped(() => encodeClasses(shared.zeros("int32", [2, 2]), 2), SabreTypeError, /1-D/);
});

test.run();
