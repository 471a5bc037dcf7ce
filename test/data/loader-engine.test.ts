// The DataLoader's private engine: its workers load only the loader's built-in kernels.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, internalEngine } from "../../src/engine/engine.js";

test("a loader engine's workers load sabre.noop and the loader loop only; a plain engine loads every built-in", async () => {
  const light = await Engine.start(internalEngine({ threads: 2 }, { builtins: "loader", youngGenerationMB: 2 }));
  try {
    assert.equal(light.kernels, ["sabre.noop", "sabre.loader.loop"]);
    await light.broadcast("sabre.noop", {});
  } finally {
    await light.close();
  }
  const full = await Engine.start({ threads: 1 });
  try {
    assert.ok(full.kernels.includes("sabre.loader.loop"));
    assert.ok(full.kernels.length > 10, full.kernels.join(", "));
  } finally {
    await full.close();
  }
});

test.run();
