// cluster.parallelFor over three real `sabre worker` hosts on a real redis-server.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Cluster } from "../../src/cluster/cluster.js";
import { Engine } from "../../src/engine/engine.js";
import { readOnly, reduction, rows } from "../../src/engine/clauses.js";
import { ClusterError, RemoteKernelError, SabreTypeError } from "../../src/errors.js";
import { shared } from "../../src/memory/shared.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeNpy } from "../../src/data/npy-write.js";
import { rejectsTyped, throwsTyped } from "../helpers.js";
import { cli, KERNELS, redisAvailable, startHost, startRedis, stopChild, stopHosts, type Host, type RedisServer } from "./util.js";

if (redisAvailable("test/cluster/parallel-for")) {
  let redis: RedisServer;
  let hosts: Host[] = [];
  let cluster: Cluster;
  let engine: Engine;

  test.before(async () => {
    redis = await startRedis();
    hosts = await Promise.all(["pa", "pb", "pc"].map((name) => startHost(redis.url, name, 1)));
    cluster = await Cluster.connect({ redis: redis.url });
    engine = await Engine.start({ threads: 2, kernels: [KERNELS] });
  });

  test.after(async () => {
    await cluster?.close();
    await engine?.close();
    await stopHosts(hosts);
    await redis?.stop();
  });

  test("hosts() lists every host from its heartbeat", async () => {
    const list = await cluster.hosts();
    assert.equal(list.map((h) => h.name), ["pa", "pb", "pc"]);
    for (const h of list) {
      assert.is(h.threads, 1);
      assert.ok(h.pid > 0);
      assert.ok(h.kernels.includes("cl.sumSquares"));
    }
  });

  test("a user kernel over 3 hosts equals the local Engine: results in chunk order, reductions combined in chunk order", async () => {
    const n = 10_007;
    const x = shared.zeros("float64", [n]);
    for (let i = 0; i < n; i++) x.data[i] = ((i * 7919) % 1000) / 7;
    const localTotal = reduction(0);
    const local = await engine.parallelFor(n, "cl.sumSquares", { x: readOnly(x), total: localTotal }, { chunk: 500 });
    const total = reduction(0);
    const progress: Array<[number, number]> = [];
    const remote = await cluster.parallelFor(n, "cl.sumSquares", { x: readOnly(x), total }, { chunk: 500, onProgress: (d, t) => progress.push([d, t]) });
    assert.equal(remote, local);
    assert.is(total.value, localTotal.value);
    assert.equal(progress[progress.length - 1], [21, 21]);
    // An elementwise reduction, and the default chunking with one.
    const hist = reduction(new Float64Array(10));
    const localHist = reduction(new Float64Array(10));
    const ints = shared.zeros("float64", [n]);
    for (let i = 0; i < n; i++) ints.data[i] = (i * 31) % 10;
    await cluster.parallelFor(n, "cl.hist", { x: ints, hist });
    await engine.parallelFor(n, "cl.hist", { x: readOnly(ints), hist: localHist });
    assert.equal(Array.from(hist.value as Float64Array), Array.from(localHist.value as Float64Array));
    assert.is((hist.value as Float64Array).reduce((a, b) => a + b, 0), n);
  });

  test("every host took part", async () => {
    await cluster.parallelFor(60, "cl.slow", { ms: 30 }, { chunk: 1 });
    const list = await new Promise<Awaited<ReturnType<Cluster["hosts"]>>>((resolve) => setTimeout(() => resolve(cluster.hosts()), 2_500));
    for (const h of list) assert.ok(h.jobs > 0, `${h.name} ran no job`);
  });

  test("a file every host reads (Cluster.file) instead of a blob; a missing one is a typed error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sabre-cluster-"));
    const n = 3_000;
    const x = shared.zeros("float64", [n]);
    for (let i = 0; i < n; i++) x.data[i] = (i % 97) / 3;
    await writeNpy(join(dir, "x.npy"), x);
    const total = reduction(0);
    const localTotal = reduction(0);
    const remote = await cluster.parallelFor(n, "cl.sumSquares", { x: Cluster.file(join(dir, "x.npy")), total }, { chunk: 250 });
    const local = await engine.parallelFor(n, "cl.sumSquares", { x: readOnly(x), total: localTotal }, { chunk: 250 });
    assert.equal(remote, local);
    assert.is(total.value, localTotal.value);
    const err = await rejectsTyped(cluster.parallelFor(10, "cl.sumSquares", { x: Cluster.file(join(dir, "missing.npy")), total: reduction(0) }), ClusterError, /cannot read/);
    assert.is(err.code, "ERR_SABRE_CLUSTER_FILE");
    throwsTyped(() => Cluster.file("relative.npy"), SabreTypeError, /absolute/);
    throwsTyped(() => Cluster.file("/data/x.bin"), SabreTypeError, /format/);
  });

  test("a throwing kernel rejects with the host's name and the original message", async () => {
    const err = await rejectsTyped(cluster.parallelFor(100, "cl.throw", { at: 42 }, { chunk: 10 }), RemoteKernelError, /boom at 42/);
    assert.is(err.code, "ERR_SABRE_CLUSTER_KERNEL");
    assert.ok(["pa", "pb", "pc"].includes(err.host), err.host);
    assert.ok(err.message.includes(`host ${err.host}`));
    assert.equal(err.chunk, { start: 40, end: 50 });
    assert.is(err.originalMessage, "boom at 42");
  });

  test("a job naming a kernel the hosts do not have is refused", async () => {
    const err = await rejectsTyped(cluster.parallelFor(10, "cl.nope", {}), ClusterError, /has no kernel "cl.nope"/);
    assert.is(err.code, "ERR_SABRE_CLUSTER_REFUSED");
    // A built-in that writes into shared memory cannot run as chunks either.
    await rejectsTyped(cluster.parallelFor(10, "sabre.forest.predict", {}), ClusterError, /has no kernel/);
    // sabre.noop can (the empty call the bench times).
    assert.equal(await cluster.parallelFor(3, "sabre.noop", {}, { chunk: 1 }), [null, null, null]);
  });

  test("args that are not data are refused before any job is sent", async () => {
    await rejectsTyped(cluster.parallelFor(10, "cl.throw", { at: () => 1 }), SabreTypeError, /function cannot be sent/);
    const out = shared.zeros("float64", [10]);
    await rejectsTyped(cluster.parallelFor(10, "cl.throw", { out: rows(out) }), SabreTypeError, /rows\(\)/);
    await rejectsTyped(cluster.parallelFor(10, "cl.throw", { big: "x".repeat(2 << 20) }), ClusterError, /payload/);
    await rejectsTyped(cluster.parallelFor(-1, "cl.throw", {}), SabreTypeError);
  });

  test("sabre cluster status lists the hosts and the jobs", async () => {
    const { code, stdout } = await cli(["cluster", "status", "--redis", redis.url]);
    assert.is(code, 0);
    for (const name of ["pa", "pb", "pc"]) assert.ok(stdout.includes(name), stdout);
    assert.match(stdout, /3 hosts, 3 threads; jobs: 0 waiting, 0 running, \d+ failed/);
    const json = await cli(["cluster", "status", "--redis", redis.url, "--json"]);
    const parsed = JSON.parse(json.stdout) as { hosts: Array<{ name: string }>; jobs: { waiting: number } };
    assert.is(parsed.hosts.length, 3);
  });

  test("a host SIGKILLed mid-call: its job moves to another host and the call completes with the same result", async () => {
    const extra = await startHost(redis.url, "pd", 1);
    hosts.push(extra);
    const n = 16;
    const call = cluster.parallelFor(n, "cl.slow", { ms: 700 }, { chunk: 1 });
    await new Promise((r) => setTimeout(r, 1_000));
    await stopChild(extra.process, "SIGKILL");
    const started = Date.now();
    const got = await call;
    assert.equal(got, Array.from({ length: n }, (_, i) => i));
    assert.ok(Date.now() - started < 30_000);
  });

  test("SIGTERM: the host finishes its job and exits 0, and the call completes", async () => {
    const extra = await startHost(redis.url, "pe", 1);
    const call = cluster.parallelFor(6, "cl.slow", { ms: 800 }, { chunk: 1 });
    await new Promise((r) => setTimeout(r, 400));
    const code = await stopChild(extra.process, "SIGTERM");
    assert.is(code, 0, extra.output());
    assert.match(extra.output(), /stopped/);
    assert.equal(await call, [0, 1, 2, 3, 4, 5]);
  });

  test.run();
}
