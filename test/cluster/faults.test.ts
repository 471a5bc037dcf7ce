// Redis faults: nothing listening at connect, and Redis gone mid-call.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Cluster } from "../../src/cluster/cluster.js";
import { ClosedError, ClusterError, SabreTypeError } from "../../src/errors.js";
import { rejectsTyped } from "../helpers.js";
import { freePort, redisAvailable, startHost, startRedis, stopChild, stopHosts, type Host } from "./util.js";

if (redisAvailable("test/cluster/faults")) {
  test("connect to a port where nothing listens rejects within 5 s with a ClusterError", async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await rejectsTyped(Cluster.connect({ redis: `redis://127.0.0.1:${port}` }), ClusterError);
    assert.is(err.code, "ERR_SABRE_CLUSTER_REDIS");
    assert.ok(Date.now() - started < 5_500, `took ${Date.now() - started} ms`);
  });

  test("connect to an address that drops packets rejects within connectTimeout", async () => {
    // 192.0.2.0/24 is TEST-NET-1: never routed, so the connect just hangs.
    const started = Date.now();
    await rejectsTyped(Cluster.connect({ redis: "redis://192.0.2.1:6379", connectTimeout: 1_500 }), ClusterError);
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  test("bad connect options are a SabreTypeError", async () => {
    await rejectsTyped(Cluster.connect({ redis: "http://x" }), SabreTypeError, /redis:\/\//);
    await rejectsTyped(Cluster.connect({ redis: "redis://127.0.0.1:1", queue: "a:b" }), SabreTypeError, /queue/);
    await rejectsTyped(Cluster.connect(null as never), SabreTypeError);
  });

  test("Redis stopped mid-call: the call rejects with a typed error within 30 s and close() returns", async () => {
    const redis = await startRedis();
    let hosts: Host[] = [];
    try {
      hosts = [await startHost(redis.url, "fa", 1)];
      const cluster = await Cluster.connect({ redis: redis.url });
      const call = cluster.parallelFor(20, "cl.slow", { ms: 1_000 }, { chunk: 1 });
      await new Promise((r) => setTimeout(r, 1_500));
      const stopped = Date.now();
      await redis.stop();
      const err = await rejectsTyped(call, ClusterError);
      assert.is(err.code, "ERR_SABRE_CLUSTER_REDIS");
      assert.ok(Date.now() - stopped < 30_000, `took ${Date.now() - stopped} ms`);
      // New calls fail at once, never wait.
      const t = Date.now();
      await rejectsTyped(cluster.parallelFor(2, "cl.slow", { ms: 1 }), ClusterError);
      assert.ok(Date.now() - t < 15_000);
      const closing = Date.now();
      await cluster.close();
      assert.ok(Date.now() - closing < 10_000, `close took ${Date.now() - closing} ms`);
      await rejectsTyped(cluster.parallelFor(2, "cl.slow", {}), ClosedError);
      // The host outlives its Redis (it reconnects), and still stops on SIGTERM.
      assert.is(await stopChild(hosts[0]!.process, "SIGTERM"), 0, hosts[0]!.output());
    } finally {
      await stopHosts(hosts);
      await redis.stop();
    }
  });

  test.run();
}
