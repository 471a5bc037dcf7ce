import { test } from "uvu";
import * as assert from "uvu/assert";
import { shared, SabreTypeError, DTYPES } from "sabre";
import { throwsTyped } from "../helpers.js";

test("zeros/full/from create shared ndarrays of every dtype", () => {
  for (const dtype of DTYPES) {
    const z = shared.zeros(dtype, [2, 3]);
    assert.ok(shared.isShared(z), dtype);
    assert.equal(z.shape, [2, 3]);
    assert.is(z.data.length, 6);
    const big = dtype === "bigint64" || dtype === "biguint64";
    const f = shared.full(dtype, 4, big ? 7n : 7);
    assert.is(f.get(3), big ? 7n : 7);
  }
});

test("from copies nested arrays and refuses ragged ones", () => {
  const a = shared.from([[1, 2, 3], [4, 5, 6]]);
  assert.equal(a.shape, [2, 3]);
  assert.is(a.get(1, 2), 6);
  throwsTyped(() => shared.from([[1, 2], [3]]), SabreTypeError, /ragged/);
});

test("bad shapes are typed errors", () => {
  throwsTyped(() => shared.zeros("float64", -1), SabreTypeError, /non-negative integer/);
  throwsTyped(() => shared.zeros("float64", [2 ** 20, 2 ** 20]), SabreTypeError, /2\^31/);
  // @ts-expect-error: not a dtype
  throwsTyped(() => shared.zeros("float128", 3), SabreTypeError, /dtype must be one of/);
});

test.run();
