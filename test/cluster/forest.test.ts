// Forests over a cluster: bit-identical to the local fit (1 and 2 threads per
// host), and still identical with a host SIGKILLed mid-fit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Cluster } from "../../src/cluster/cluster.js";
import { Engine } from "../../src/engine/engine.js";
import { SabreTypeError } from "../../src/errors.js";
import { RandomForestClassifier } from "../../src/ml/forest/classifier.js";
import { RandomForestRegressor } from "../../src/ml/forest/regressor.js";
import { shared } from "../../src/memory/shared.js";
import type { NdArray } from "../../src/memory/ndarray-type.js";
import { rejectsTyped } from "../helpers.js";
import { redisAvailable, startHost, startRedis, stopChild, stopHosts, type Host, type RedisServer } from "./util.js";

function dataset(n: number, d: number, seed: number): { X: NdArray<Float64Array>; y: Int32Array; yr: Float64Array; pixels: NdArray<Uint8Array> } {
  let s = seed;
  const rnd = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  const X = shared.zeros("float64", [n, d]);
  const pixels = shared.zeros("uint8", [n, d]);
  const y = new Int32Array(n);
  const yr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      X.data[i * d + j] = Math.round(rnd() * 1000) / 100;
      pixels.data[i * d + j] = Math.floor(rnd() * 256);
    }
    const a = X.data[i * d]!;
    const b = X.data[i * d + 1]!;
    y[i] = (a + b > 10 ? 1 : 0) + (X.data[i * d + 2]! > 5 ? 2 : 0) + (rnd() < 0.1 ? 1 : 0);
    yr[i] = a * b + rnd();
  }
  return { X, y, yr, pixels };
}

function same(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

if (redisAvailable("test/cluster/forest")) {
  let redis: RedisServer;
  let hosts: Host[] = [];
  let cluster: Cluster;
  let engine: Engine;
  const data = dataset(3_000, 16, 11);

  const useHosts = async (threads: number): Promise<void> => {
    await Promise.all(hosts.map((h) => stopChild(h.process, "SIGTERM")));
    // A new set of names: the old heartbeats are gone with their hosts (stop() deletes them).
    hosts = await Promise.all(["a", "b", "c"].map((x) => startHost(redis.url, `f${x}${threads}`, threads, false)));
  };

  test.before(async () => {
    redis = await startRedis();
    cluster = await Cluster.connect({ redis: redis.url });
    engine = await Engine.start({ threads: 2 });
  });

  test.after(async () => {
    await cluster?.close();
    await engine?.close();
    await stopHosts(hosts);
    await redis?.stop();
  });

  for (const threads of [1, 2]) {
    test(`3 hosts x ${threads} thread(s): the cluster fit equals the local fit bit for bit (predictProba)`, async () => {
      await useHosts(threads);
      assert.is((await cluster.hosts()).length, 3);
      const local = await new RandomForestClassifier({ nEstimators: 24, seed: 5, engine }).fit(data.X, data.y);
      const progress: number[] = [];
      const remote = await new RandomForestClassifier({ nEstimators: 24, seed: 5, engine }).fit(data.X, data.y, { cluster, onProgress: (done) => progress.push(done) });
      const pl = await local.predictProba(data.X);
      assert.ok(same(pl.data, (await remote.predictProba(data.X)).data), "cluster fit differs");
      assert.ok(same(pl.data, (await local.predictProba(data.X, { cluster })).data), "cluster predict differs");
      assert.equal(JSON.stringify(remote.toJSON()), JSON.stringify(local.toJSON()));
      assert.is(progress[progress.length - 1], 24);
      // 8-bit pixels take the identity-bins path, and a regressor with sample weights.
      const w = Float64Array.from({ length: 3_000 }, (_, i) => 1 + (i % 3));
      const lr = await new RandomForestRegressor({ nEstimators: 9, seed: 2, engine, maxFeatures: 0.5 }).fit(data.pixels, data.yr, { sampleWeight: w });
      const rr = await new RandomForestRegressor({ nEstimators: 9, seed: 2, engine, maxFeatures: 0.5 }).fit(data.pixels, data.yr, { sampleWeight: w, cluster });
      assert.ok(same(await lr.predict(data.pixels), await rr.predict(data.pixels, { cluster })));
    });
  }

  test("a host SIGKILLed mid-fit: the fit completes, identical", async () => {
    const big = dataset(20_000, 24, 3);
    const local = await new RandomForestClassifier({ nEstimators: 36, seed: 9, engine }).fit(big.X, big.y);
    const victim = hosts[0]!;
    let killed = false;
    const remote = await new RandomForestClassifier({ nEstimators: 36, seed: 9, engine }).fit(big.X, big.y, {
      cluster,
      onProgress: (done) => {
        if (done > 0 && !killed) {
          killed = true;
          victim.process.kill("SIGKILL");
        }
      },
    });
    assert.ok(killed);
    assert.ok(same((await local.predictProba(big.X)).data, (await remote.predictProba(big.X)).data));
  });

  test("oobScore with a cluster, and a cluster that is not one, are refused", async () => {
    await rejectsTyped(new RandomForestClassifier({ nEstimators: 3, oobScore: true, engine }).fit(data.X, data.y, { cluster }), SabreTypeError, /oobScore/);
    await rejectsTyped(new RandomForestClassifier({ nEstimators: 3, engine }).fit(data.X, data.y, { cluster: {} as never }), SabreTypeError, /Cluster/);
  });

  test.run();
}
