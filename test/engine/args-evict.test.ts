// The args cache's byte budget: large argument sets are evicted once unpinned,
// workers drop them, and no call ever runs with another call's arguments.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { shared, type NdArray } from "../../src/memory/index.js";
import { readOnly, reduction, rows } from "../../src/engine/clauses.js";
import { Engine, internalEngine } from "../../src/engine/engine.js";
import { ArgsCache } from "../../src/engine/args-cache.js";
import { serialize } from "../../src/memory/serialize.js";
import { fixture } from "../helpers.js";

const setOf = (bytes: number) => serialize({ x: shared.zeros("uint8", bytes) });

test("ArgsCache: least recently used unpinned sets go once the budget is passed; pinned ones stay; evicted ones are never found or replayed", () => {
  const cache = new ArgsCache(100);
  const a = setOf(64);
  const b = setOf(64);
  const c = setOf(64);
  const small = serialize({ n: 3 });
  const ra = cache.assign(a)!;
  assert.equal(ra.evicted, []);
  assert.equal(ra.bytes, 64);
  const rs = cache.assign(small)!;
  assert.equal(rs.bytes, 0);
  const rb = cache.assign(b)!;
  // a (64) + b (64) > 100: a, the least recently used set holding bytes, goes; the plain set stays.
  assert.equal(rb.evicted, [{ slot: ra.slot, version: ra.version }]);
  assert.is(cache.find(a), undefined);
  assert.ok(cache.find(small));
  assert.equal(cache.find(b), { slot: rb.slot, version: rb.version });
  assert.ok(cache.replay().every((m) => m.slot !== ra.slot));
  cache.pin(rb.slot);
  const rc = cache.assign(c)!;
  assert.equal(rc.evicted, [], "a pinned set is never evicted, even over budget");
  assert.not.equal(rc.slot, rb.slot);
  cache.unpin(rb.slot);
  // a again: a new slot version (or a reused empty slot), and b, now the oldest unpinned, goes.
  const ra2 = cache.assign(a)!;
  assert.ok(ra2.slot !== ra.slot || ra2.version > ra.version);
  assert.ok(ra2.evicted.some((e) => e.slot === rb.slot && e.version === rb.version));
});

test("ArgsCache: a buffer shared by several sets counts once", () => {
  const cache = new ArgsCache(100);
  const x = shared.zeros("uint8", 60);
  const r1 = cache.assign(serialize({ x, k: 1 }))!;
  const r2 = cache.assign(serialize({ x, k: 2 }))!;
  assert.equal(r2.evicted, []);
  assert.ok(cache.find(serialize({ x, k: 1 })));
  assert.ok(r1.slot !== r2.slot);
});

test("engine with a tiny args budget: 300 calls with fresh outputs, interleaved with old arrays and a cached input, 8 in flight at once, on 5 workers: every result exact", async () => {
  const engine = await Engine.start(internalEngine({ threads: 5, kernels: [fixture("kernels-basic")] }, { builtins: "all", argsCacheBytes: 64 * 1024 }));
  try {
    const n = 2048; // 16 KiB per output: every new set passes the 64 KiB budget within a few calls
    const x = shared.from(Array.from({ length: n }, (_, i) => i));
    const expectSum = (n * (n - 1)) / 2;
    const kept: Array<NdArray<Float64Array>> = [];
    for (let round = 0; round < 30; round++) {
      const outs = Array.from({ length: 8 }, () => shared.zeros("float64", [n, 1]));
      const calls = outs.map((out) => engine.parallelFor(n, "fillRows", { out: rows(out) }, { chunk: 100 }));
      const total = reduction(0, "sum");
      calls.push(engine.parallelFor(n, "sumInto", { x: readOnly(x), total }));
      // An array whose set was evicted long ago comes back: its set is posted again.
      const old = kept.length > 0 ? kept[round % kept.length]! : undefined;
      if (old) {
        old.data.fill(-1);
        calls.push(engine.parallelFor(n, "fillRows", { out: rows(old) }, { chunk: 64 }));
      }
      await Promise.all(calls);
      assert.is(total.value, expectSum, `round ${round}: the cached input's sum`);
      for (const out of old ? [...outs, old] : outs) {
        for (let i = 0; i < n; i++) if (out.data[i] !== i) assert.unreachable(`round ${round}: out[${i}] = ${out.data[i]}`);
      }
      kept.push(outs[round % 8]!);
    }
  } finally {
    await engine.close();
  }
});

test.run();
