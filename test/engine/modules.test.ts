// Kernel modules in the forms users write them: ESM (the other tests), CommonJS, plain objects.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Barrier, Engine, KernelError, Mutex, Queue, SabreTypeError, Semaphore, shared } from "sabre";
import { fixture, rejectsTyped } from "../helpers.js";

// Written next to the built fixtures so that `require("sabre/worker")` resolves to this package.
const dir = fileURLToPath(new URL(".", fixture("generated/x")));
mkdirSync(dir, { recursive: true });

test("a CommonJS kernel module that requires sabre/worker", async () => {
  const file = `${dir}kernels-cjs.cjs`;
  writeFileSync(
    file,
    `const { defineKernels } = require("sabre/worker");
module.exports = defineKernels({
  cjsDouble({ start, end }, { x }) { for (let i = start; i < end; i++) x.data[i] *= 2; },
});
`,
  );
  const engine = await Engine.start({ threads: 2, kernels: [file] });
  try {
    const x = shared.from([1, 2, 3, 4]);
    await engine.parallelFor(4, "cjsDouble", { x });
    assert.equal([...x.data], [2, 4, 6, 8]);
  } finally {
    await engine.close();
  }
});

test("a module whose default export is a plain object of functions", async () => {
  const file = `${dir}kernels-plain.mjs`;
  writeFileSync(file, `export default { plainAdd({ start, end }, { x }) { for (let i = start; i < end; i++) x.data[i] += 1; } };\n`);
  const engine = await Engine.start({ threads: 1, kernels: [new URL(`file://${file}`)] });
  try {
    const x = shared.from([1, 2]);
    await engine.parallelFor(2, "plainAdd", { x });
    assert.equal([...x.data], [2, 3]);
  } finally {
    await engine.close();
  }
});

test("a module without kernels, or one that throws on import, fails Engine.start with the reason", async () => {
  const empty = `${dir}kernels-empty.mjs`;
  writeFileSync(empty, `export const answer = 42;\n`);
  await rejectsTyped(Engine.start({ threads: 1, kernels: [empty] }), SabreTypeError, /has no kernels/);
  const broken = `${dir}kernels-broken.mjs`;
  writeFileSync(broken, `throw new Error("boom at import");\n`);
  await rejectsTyped(Engine.start({ threads: 1, kernels: [broken] }), SabreTypeError, /boom at import/);
});


test("a kernel module that imports nothing from sabre still gets live primitives (more parties than cores)", async () => {
  const threads = 6;
  const engine = await Engine.start({ threads, kernels: [fixture("kernels-plain")] });
  try {
    const counts = shared.zeros("int32", [2]);
    const queue = new Queue({ capacity: 64, dtype: "int32" });
    const rounds = 20;
    for (let r = 0; r < rounds; r++) {
      await engine.parallelFor(threads, "usePrimitives", {
        mutex: new Mutex(),
        semaphore: new Semaphore(2),
        barrier: new Barrier(threads),
        queue,
        counts,
      }, { chunk: 1, schedule: "static" });
      const starts: number[] = [];
      for (let i = 0; i < threads; i++) starts.push(queue.tryPop() as number);
      assert.equal(starts.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
    }
    assert.equal(Array.from(counts.data), [rounds * threads, rounds * threads]);
  } finally {
    await engine.close();
  }
});

test("a chunk that fails breaks the barriers in its args: the parties waiting there do not hang", async () => {
  const threads = 4;
  const engine = await Engine.start({ threads, kernels: [fixture("kernels-plain")] });
  try {
    for (let round = 0; round < 5; round++) {
      const barrier = new Barrier(threads);
      const err = await rejectsTyped(engine.parallelFor(threads, "meetOrThrow", { barrier }, { chunk: 1, schedule: "static" }), KernelError, /chunk 0 gives up/);
      assert.equal(err.chunk, { start: 0, end: 1 });
      assert.ok(barrier.isBroken);
    }
    assert.equal(await engine.parallelFor(2, "sabre.noop"), [undefined, undefined]);
  } finally {
    await engine.close();
  }
});

test.run();
