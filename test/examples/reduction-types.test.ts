// A reduction's value type follows its initial value (issue 14): tsc checks
// this file with the rest of the suite (`npm test` runs tsc -p tsconfig.json),
// so a regression to `number | Float64Array` fails the build; the tests below
// check that the runtime values match the types. scripts/pack-check.mjs
// checks the same through the packed package's declarations.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { reduction, Reduction, type ReductionValue } from "../../src/engine/clauses.js";
import { shared } from "../../src/memory/shared.js";

/** true when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

test("reduction(number) is a Reduction<number>: value + 1 compiles without a cast", () => {
  const total = reduction(0, "sum");
  expectType<Equal<typeof total, Reduction<number>>>();
  expectType<Equal<typeof total.value, number>>();
  expectType<Equal<typeof total.initial, number>>();
  const next: number = total.value + 1;
  assert.is(next, 1);
  // @ts-expect-error a scalar reduction's value has no length
  assert.is(total.value.length, undefined);
});

test("an array, Float64Array or ndarray initial value gives a Reduction<Float64Array>", () => {
  const fromTyped = reduction(new Float64Array(3), "max");
  const fromArray = reduction([1, 2], "min");
  const fromNd = reduction(shared.zeros("float64", [2, 2]));
  expectType<Equal<typeof fromTyped.value, Float64Array>>();
  expectType<Equal<typeof fromArray.value, Float64Array>>();
  expectType<Equal<typeof fromNd.value, Float64Array>>();
  assert.ok(fromTyped.value instanceof Float64Array && fromArray.value instanceof Float64Array && fromNd.value instanceof Float64Array);
  assert.is(fromTyped.value.length + fromArray.value.length + fromNd.value.length, 9);
  // @ts-expect-error an elementwise reduction's value is not a number
  const notNumber: number = fromTyped.value;
  assert.instance(notNumber, Float64Array);
});

test("an initial value of a union type gives the general Reduction; every Reduction is one", () => {
  const initial: number | Float64Array = Math.random() < 2 ? 5 : new Float64Array(1);
  const r = reduction(initial);
  expectType<Equal<typeof r, Reduction>>();
  expectType<Equal<typeof r.value, ReductionValue>>();
  const all: Reduction[] = [reduction(0), reduction([0]), r];
  assert.is(all.length, 3);
  assert.is(r.value, 5);
  // The value starts as a copy of an array initial, never the same object.
  const init = new Float64Array([1, 2]);
  const copy = reduction(init);
  assert.is.not(copy.value, init);
  assert.equal(Array.from(copy.value), [1, 2]);
});

test.run();
