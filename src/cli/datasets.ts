import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { SabreTypeError } from "../errors.js";
import { ndarray, type NdArray } from "../memory/ndarray-type.js";
import { sharedTypedArray } from "../memory/shared.js";
import { packageRoot } from "../package-root.js";
import { readIdx } from "../data/idx.js";

export interface Split {
  name: string;
  trainX: NdArray;
  trainY: ArrayLike<number>;
  testX: NdArray;
  testY: ArrayLike<number>;
}

/** The UCI digits shipped in data/ (1,797 8x8 images): the first 1,200 to train, the rest to test. */
export function digitsSplit(): Split {
  const text = gunzipSync(readFileSync(join(packageRoot(), "data", "digits.csv.gz"))).toString("utf8").trim();
  const lines = text.split("\n");
  const n = lines.length;
  const X = sharedTypedArray("float64", n * 64);
  const y = new Int32Array(n);
  lines.forEach((line, i) => {
    const v = line.split(",").map(Number);
    X.set(v.slice(0, 64), i * 64);
    y[i] = v[64]!;
  });
  const all = ndarray(X, [n, 64]);
  return {
    name: "UCI digits (embedded, 1,200 train / 597 test, 64 features)",
    trainX: all.hi(1200, 64),
    trainY: y.subarray(0, 1200),
    testX: all.lo(1200, 0),
    testY: y.subarray(1200),
  };
}

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";

/** Fashion-MNIST from Debian's dataset-fashion-mnist package (60,000 train / 10,000 test, 784 uint8 pixels). */
export async function fashionSplit(dir = FASHION_DIR): Promise<Split> {
  const file = (name: string): string => join(dir, name);
  if (!existsSync(file("train-images-idx3-ubyte.gz"))) {
    throw new SabreTypeError(`Fashion-MNIST not found in ${dir}: apt-get install dataset-fashion-mnist`);
  }
  const flat = (a: NdArray): NdArray => ndarray(a.data, [a.shape[0]!, a.shape[1]! * a.shape[2]!]);
  const [trainX, trainY, testX, testY] = await Promise.all([
    readIdx(file("train-images-idx3-ubyte.gz")),
    readIdx(file("train-labels-idx1-ubyte.gz")),
    readIdx(file("t10k-images-idx3-ubyte.gz")),
    readIdx(file("t10k-labels-idx1-ubyte.gz")),
  ]);
  return {
    name: "Fashion-MNIST (60,000 train / 10,000 test, 784 pixels)",
    trainX: flat(trainX),
    trainY: trainY.data as Uint8Array,
    testX: flat(testX),
    testY: testY.data as Uint8Array,
  };
}
