// How many rows go to train and test: scikit-learn's _validate_shuffle_split
// (a float in (0, 1) is a fraction, an integer a count; the test count
// rounds up, the train count down; the same errors for sizes that cannot be).
import { SabreTypeError } from "../../errors.js";
import { describe } from "../../validate.js";

function checkSize(name: string, v: unknown, n: number): void {
  if (v === undefined || v === null) return;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new SabreTypeError(`trainTestSplit: ${name} must be a number (a float in (0, 1) or a count), got ${describe(v)}`);
  }
  const isCount = Number.isInteger(v);
  if ((isCount && (v >= n || v <= 0)) || (!isCount && (v <= 0 || v >= 1))) {
    throw new SabreTypeError(
      `trainTestSplit: ${name}=${v} should be either positive and smaller than the number of samples ${n} or a float in the (0, 1) range`,
    );
  }
}

/** [nTrain, nTest] for n samples; testSize defaults to 0.25 when neither size is given. */
export function splitSizes(n: number, testSize: number | undefined, trainSize: number | undefined): [number, number] {
  checkSize("testSize", testSize, n);
  checkSize("trainSize", trainSize, n);
  if (testSize === undefined && trainSize === undefined) testSize = 0.25;
  const testFrac = testSize !== undefined && !Number.isInteger(testSize);
  const trainFrac = trainSize !== undefined && !Number.isInteger(trainSize);
  if (testFrac && trainFrac && testSize! + trainSize! > 1) {
    throw new SabreTypeError(
      `trainTestSplit: the sum of testSize and trainSize = ${testSize! + trainSize!}, should be in the (0, 1) range. Reduce testSize and/or trainSize.`,
    );
  }
  let nTest = testSize === undefined ? undefined : testFrac ? Math.ceil(testSize * n) : testSize;
  let nTrain = trainSize === undefined ? undefined : trainFrac ? Math.floor(trainSize * n) : trainSize;
  if (nTrain === undefined) nTrain = n - nTest!;
  else if (nTest === undefined) nTest = n - nTrain;
  if (nTrain + nTest! > n) {
    throw new SabreTypeError(
      `trainTestSplit: the sum of trainSize and testSize = ${nTrain + nTest!}, should be smaller than the number of samples ${n}. Reduce testSize and/or trainSize.`,
    );
  }
  if (nTrain === 0) {
    throw new SabreTypeError(
      `trainTestSplit: with nSamples=${n}, testSize=${testSize} and trainSize=${trainSize}, the resulting train set will be empty. Adjust any of the aforementioned parameters.`,
    );
  }
  return [nTrain, nTest!];
}
