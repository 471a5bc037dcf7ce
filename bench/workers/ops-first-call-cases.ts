// The first-call cases of the ops suite, shared by the suite and its child script.
export const FIRST_CALL_CASES = {
  sum1k: { op: "sum", dtype: "float64", shape: [1000], label: "sum of 1,000 float64" },
  sum10M: { op: "sum", dtype: "float64", shape: [10_000_000], label: "sum of 10M float64" },
  mean0: { op: "mean", dtype: "float32", shape: [100_000, 32], label: "mean along axis 0 of 100k x 32 float32" },
} as const;

export type FirstCallCase = keyof typeof FIRST_CALL_CASES;

/** The same case in a fresh Python: numpy imported first (not timed), data built, first and second call timed. */
export function pythonFirstCall(c: FirstCallCase): string {
  const k = FIRST_CALL_CASES[c];
  const dt = k.dtype === "float64" ? "np.float64" : "np.float32";
  const call = k.op === "sum" ? "x.sum()" : "x.mean(axis=0)";
  return [
    "import json, time",
    "import numpy as np",
    `x = ((np.arange(${k.shape.reduce((a: number, b: number) => a * b, 1)}, dtype=np.int64) * 7919 % 1000) / 1000).astype(${dt}).reshape(${JSON.stringify(k.shape)})`,
    `t0 = time.perf_counter(); r = ${call}; t1 = time.perf_counter(); r = ${call}; t2 = time.perf_counter()`,
    "print(json.dumps({'first': (t1 - t0) * 1e3, 'second': (t2 - t1) * 1e3}))",
  ].join("\n");
}
