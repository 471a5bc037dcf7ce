import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, shared } from "sabre";
import { fixture } from "../helpers.js";

test("parallelFor visits every index once", async () => {
  const engine = await Engine.start({ threads: 3, kernels: [fixture("kernels-basic")] });
  try {
    const hits = shared.zeros("int32", 1000);
    await engine.parallelFor(1000, "visit", { hits });
    assert.ok(hits.data.every((v) => v === 1));
    const r = await engine.parallelFor(10, "describeChunk", {}, { schedule: "static" });
    console.log(r);
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) await engine.parallelFor(2, "sabre.noop", {});
    console.log("us/call", ((performance.now() - t0) / 1000) * 1000);
  } finally {
    await engine.close();
  }
});

test.run();
