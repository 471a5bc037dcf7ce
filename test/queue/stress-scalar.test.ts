// Scalar queues of several dtypes (bigint ones included) under 4 producers x
// 4 consumers in real worker threads: every value delivered exactly once, FIFO
// per producer.
import { test } from "uvu";
import { Queue, type DType } from "sabre";
import { stress } from "./stress-helpers.js";

for (const dtype of ["int32", "float32", "uint16", "bigint64", "biguint64"] as DType[]) {
  test(`4 producers x 4 consumers, scalar ${dtype}, capacity 8`, async () => {
    await stress(new Queue({ capacity: 8, dtype }), 4, 4, 3000);
  });
}

test.run();
