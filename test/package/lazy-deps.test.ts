// `import "sabre"` must not load the cluster's dependencies (bullmq, ioredis
// and their trees, ~24 MiB of RSS): only Cluster.connect and a host's start
// load them. Checked in a fresh child process, with a positive control that
// the same watcher does see them when they are imported.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Engine } from "sabre";
import { fixture } from "../helpers.js";

interface Watched {
  exports: number;
  types: { Cluster: string; ClusterHost: string };
  loaded: Record<string, { esm: boolean; cjs: boolean }>;
}

function watch(target: string): Watched {
  const r = spawnSync(process.execPath, [fileURLToPath(fixture("import-watch")), target, "bullmq", "ioredis"], { encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Watched;
}

test("import('sabre') loads neither bullmq nor ioredis, and still exports Cluster and ClusterHost", () => {
  const w = watch("sabre");
  assert.equal(w.loaded, { bullmq: { esm: false, cjs: false }, ioredis: { esm: false, cjs: false } });
  assert.is(w.types.Cluster, "function");
  assert.is(w.types.ClusterHost, "function");
  assert.ok(w.exports > 50, `sabre exports ${w.exports} names`);
});

test("import('sabre/worker') loads neither", () => {
  const w = watch("sabre/worker");
  assert.equal(w.loaded, { bullmq: { esm: false, cjs: false }, ioredis: { esm: false, cjs: false } });
});

test("the watcher sees bullmq and ioredis when they are imported (through both the ESM loader and require.cache)", () => {
  assert.equal(watch("bullmq").loaded.bullmq, { esm: true, cjs: true });
  assert.equal(watch("ioredis").loaded.ioredis, { esm: true, cjs: true });
});

test("an engine worker loads threads.js's worker side from the package's own bundle: no CommonJS package in its require.cache (ndarray is ESM-imported by the kernels, as CJS)", async () => {
  const engine = await Engine.start({ threads: 2, kernels: [fixture("kernels-modcache")] });
  try {
    const seen = (await engine.broadcast("test.cjsPackages", {})) as string[][];
    assert.is(seen.length, 2);
    for (const packages of seen) assert.equal(packages.filter((p) => p !== "ndarray" && p !== "iota-array" && p !== "is-buffer"), []);
  } finally {
    await engine.close();
  }
});

test.run();
