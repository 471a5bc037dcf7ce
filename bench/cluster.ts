// Suite `cluster`: a Fashion-MNIST forest fit sharded over `sabre worker`
// hosts through BullMQ on a local redis-server, against the one-process fit:
//  - scaling: 2 host processes of 1 thread against 1 process of 1 thread;
//  - overhead: the same 2 hosts against a local fit on 2 threads;
//  - per-job latency of an empty cluster.parallelFor (against the Engine's);
//  - data transfer: the binned codes put into Redis and fetched by a host;
//  - a model of 8 and 32 hosts from those measured parts.
// Every cluster fit is checked bit-identical to the local one.
import { Redis } from "ioredis";
import { Cluster, Engine, RandomForestClassifier, type NdArray } from "sabre";
import { putBlobs, BlobCache } from "../src/cluster/blobs.js";
import { guidedJobSizes } from "../src/cluster/guided.js";
import { BLOB_CHUNK, keyPrefix } from "../src/cluster/protocol.js";
import { hashBytes } from "../src/cluster/wire.js";
import { machineInfo, Report, Skip, WrongAnswer, measureRounds, type Contender, type Suite } from "./harness/index.js";
import { redisServerPresent, startHost, startRedis, stop } from "./workers/cluster-hosts.js";
import { FASHION_DIR, FASHION_FILES, fashionPresent, loadIdxShared } from "./workers/forest-data.js";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";

const REDIS_HINT = "redis-server is not installed: apt-get install -y redis-server";
const FASHION_HINT = `Fashion-MNIST not found in ${FASHION_DIR}: apt-get update && apt-get install dataset-fashion-mnist`;

interface Setup {
  X: NdArray;
  y: Int32Array;
  Xtest: NdArray;
  rows: number;
}

function same(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const suite: Suite = async ({ quick, log }) => {
  const trees = quick ? 12 : 100;
  const rounds = quick ? 1 : 3;
  const report = new Report("cluster", "Forest fit over sabre worker hosts (BullMQ on a local redis-server)", machineInfo());
  const children: ChildProcess[] = [];
  let redisUrl = "";
  let data: Setup | undefined;
  const engines: Engine[] = [];
  const clusters: Cluster[] = [];
  // An interrupted run must not leave redis-server and hosts behind.
  const kill = (): void => {
    for (const c of children) c.kill("SIGKILL");
    process.exit(130);
  };
  process.once("SIGINT", kill);
  process.once("SIGTERM", kill);
  const skip = !redisServerPresent() ? REDIS_HINT : !fashionPresent() ? FASHION_HINT : undefined;
  try {
    if (!skip) {
      log("loading Fashion-MNIST");
      const X = await loadIdxShared(join(FASHION_DIR, FASHION_FILES.trainX));
      const yAll = await loadIdxShared(join(FASHION_DIR, FASHION_FILES.trainY));
      const rows = quick ? 10_000 : X.shape[0]!;
      const Xs = X.hi(rows, X.shape[1]!) as NdArray;
      const y = Int32Array.from((yAll.data as Uint8Array).subarray(0, rows));
      const XtestAll = await loadIdxShared(join(FASHION_DIR, FASHION_FILES.testX));
      data = { X: Xs, y, Xtest: XtestAll.hi(2_000, XtestAll.shape[1]!) as NdArray, rows };
      const redis = await startRedis();
      children.push(redis.child);
      redisUrl = redis.url;
      log("starting hosts: 1 of 1 thread on queue one, 2 of 1 thread on queue two");
      children.push(await startHost(redisUrl, "one-a", 1, "one"));
      children.push(...(await Promise.all([startHost(redisUrl, "two-a", 1, "two"), startHost(redisUrl, "two-b", 1, "two")])));
    }
    const engine1 = skip ? undefined : await Engine.start({ threads: 1 });
    const engine2 = skip ? undefined : await Engine.start({ threads: 2 });
    if (engine1) engines.push(engine1, engine2!);
    const one = skip ? undefined : await Cluster.connect({ redis: redisUrl, queue: "one" });
    const two = skip ? undefined : await Cluster.connect({ redis: redisUrl, queue: "two" });
    if (one) clusters.push(one, two!);

    let reference: Float64Array | undefined;
    const check = async (rf: RandomForestClassifier, what: string): Promise<void> => {
      const p = (await rf.predictProba(data!.Xtest)).data;
      if (!reference) reference = p;
      else if (!same(reference, p)) throw new WrongAnswer(`${what}: the model differs from the local fit`);
    };
    const fit = (id: string, engine: () => Engine | undefined, cluster: () => Cluster | undefined): Contender => ({
      id,
      setup() {
        if (skip) throw new Skip(skip);
      },
      async sample() {
        const rf = new RandomForestClassifier({ nEstimators: trees, seed: 1, engine: engine()! });
        const c = cluster();
        const t0 = performance.now();
        await rf.fit(data!.X, data!.y, c ? { cluster: c } : {});
        const s = (performance.now() - t0) / 1000;
        await check(rf, id);
        return s;
      },
    });
    // Warm: each cluster's hosts hold the codes after one fit (data transfer is measured on its own below).
    if (!skip) {
      log("warm-up fits (hosts fetch and cache the codes)");
      for (const c of [one!, two!]) await new RandomForestClassifier({ nEstimators: 2, seed: 1, engine: engine1! }).fit(data!.X, data!.y, { cluster: c });
    }
    log(`fits of ${trees} trees, ${rounds} rounds interleaved`);
    const fits = await measureRounds(
      [
        fit("local1", () => engine1, () => undefined),
        fit("cluster1", () => engine1, () => one),
        fit("cluster2", () => engine1, () => two),
        fit("local2", () => engine2, () => undefined),
      ],
      rounds,
      (id, r) => log(`${id} round ${r + 1}`),
    );
    const rowsText = data ? `${data.rows} x 784 uint8` : "Fashion-MNIST";
    report.addGroup({
      id: "scale",
      title: `Fashion-MNIST ${trees}-tree fit (${rowsText}): host processes against one process`,
      unit: "s",
      better: "lower",
      reference: "local1",
      entries: [
        { id: "local1", label: "local fit, 1 process x 1 thread" },
        { id: "cluster1", label: "cluster, 1 host x 1 thread", ours: true },
        { id: "cluster2", label: "cluster, 2 hosts x 1 thread", ours: true },
      ],
      outcomes: fits,
      method: `median of ${rounds} fits, rounds interleaved; hosts warm (codes cached); each cluster model checked bit-identical to the local one (predictProba of 2,000 test rows)`,
    });
    report.addGroup({
      id: "overhead",
      title: `the cluster path against a local fit with the same total threads (2)`,
      unit: "s",
      better: "lower",
      reference: "local2",
      entries: [
        { id: "local2", label: "local fit, 1 process x 2 threads" },
        { id: "cluster2", label: "cluster, 2 hosts x 1 thread", ours: true },
      ],
      outcomes: fits,
      method: "the same fits as above",
    });
    const speedup = report.ratio("scale", "local1", "cluster2");
    report.addTarget("2 hosts x 1 thread at least 1.7x faster than 1 process x 1 thread", speedup, (v) => v >= 1.7, (v) => `${v.toFixed(2)}x`);
    const overhead = report.ratio("overhead", "cluster2");
    report.addTarget("cluster (2 x 1 thread) at most 10% slower than a local fit on 2 threads", overhead, (v) => v <= 1.1, (v) => `${((v - 1) * 100).toFixed(1)}% ${v >= 1 ? "slower" : "faster"}`);

    // Per-job latency of an empty call, against the Engine's own empty call.
    const calls = quick ? 20 : 100;
    const latency = await measureRounds(
      [
        {
          id: "engine",
          setup() {
            if (skip) throw new Skip(skip);
          },
          async sample() {
            const t0 = performance.now();
            for (let i = 0; i < calls; i++) await engine2!.parallelFor(1, "sabre.noop", {});
            return (performance.now() - t0) / calls;
          },
        },
        {
          id: "one",
          setup() {
            if (skip) throw new Skip(skip);
          },
          async sample() {
            const t0 = performance.now();
            for (let i = 0; i < calls; i++) await two!.parallelFor(1, "sabre.noop", {}, { chunk: 1 });
            return (performance.now() - t0) / calls;
          },
        },
        {
          id: "batch",
          setup() {
            if (skip) throw new Skip(skip);
          },
          async sample() {
            const t0 = performance.now();
            await two!.parallelFor(256, "sabre.noop", {}, { chunk: 1 });
            return (performance.now() - t0) / 256;
          },
        },
      ],
      rounds * 3,
    );
    report.addGroup({
      id: "latency",
      title: "an empty call: per-job latency",
      unit: "ms",
      better: "lower",
      reference: "engine",
      entries: [
        { id: "engine", label: "Engine.parallelFor(1, sabre.noop), 2 threads" },
        { id: "one", label: "cluster.parallelFor(1, sabre.noop): one job, round trip", ours: true },
        { id: "batch", label: "cluster.parallelFor(256, sabre.noop, chunk 1): per job, 2 hosts", ours: true },
      ],
      outcomes: latency,
      method: `mean of ${calls} sequential calls per sample (one job each), and one call of 256 jobs divided by 256`,
    });

    // Data transfer of the binned codes: put into Redis, fetched (and hash-checked) by a host's cache.
    let redis: Redis | undefined;
    const transfer = await measureRounds(
      [
        {
          id: "put",
          async setup() {
            if (skip) throw new Skip(skip);
            redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
          },
          async sample() {
            const bytes = new Uint8Array(data!.X.data.buffer, data!.X.data.byteOffset, data!.rows * 784);
            const salted = new Uint8Array(bytes.byteLength + 8);
            salted.set(bytes);
            new DataView(salted.buffer).setFloat64(bytes.byteLength, Math.random());
            const t0 = performance.now();
            const hash = hashBytes(salted);
            await putBlobs(redis!, keyPrefix("bench"), [{ hash, bytes: salted }]);
            const put = performance.now() - t0;
            const t1 = performance.now();
            await new BlobCache(redis!, keyPrefix("bench"), 2 ** 31).get(hash);
            fetchMs.push(performance.now() - t1);
            await redis!.del(...(await redis!.keys(`${keyPrefix("bench")}:blob:${hash}*`)));
            return put;
          },
          async teardown() {
            redis?.disconnect();
          },
        },
      ],
      rounds * 2,
    );
    const fetchTimes = new Map(transfer);
    report.addGroup({
      id: "transfer",
      title: `the binned codes (${data ? ((data.rows * 784) / 2 ** 20).toFixed(1) : "?"} MiB) through Redis`,
      unit: "ms",
      better: "lower",
      reference: "put",
      entries: [{ id: "put", label: `hash + put in ${BLOB_CHUNK / 2 ** 20} MiB pieces (calling side, once per fit's data)`, ours: true }],
      outcomes: fetchTimes,
      method: `fetch + hash check by one host, median ${fetchMs.length ? median(fetchMs).toFixed(0) : "?"} ms (once per host per data set)`,
    });

    // The model: every part measured above.
    const tLocal1 = report.median("scale", "local1");
    const tCluster1 = report.median("scale", "cluster1");
    const tJob = report.median("latency", "one");
    const tPut = report.median("transfer", "put");
    if (tLocal1 !== undefined && tCluster1 !== undefined && tJob !== undefined && tPut !== undefined && fetchMs.length > 0) {
      const tTree = tLocal1 / trees;
      const tFetch = median(fetchMs) / 1000;
      // Per-fit fixed cost of the cluster path: what the 1-host cluster fit takes beyond its trees and jobs.
      const jobs1 = guidedJobSizes(trees, 1).length;
      const fixed = Math.max(0, tCluster1 - trees * tTree - jobs1 * (tJob / 1000));
      const lines: string[] = [];
      for (const H of [1, 2, 8, 32]) {
        // Guided jobs in queue order, each taken by the host that frees up first (as BullMQ hands them out).
        const sizes = guidedJobSizes(trees, H);
        const free = new Array<number>(H).fill(0);
        for (const size of sizes) {
          let h = 0;
          for (let k = 1; k < H; k++) if (free[k]! < free[h]!) h = k;
          free[h]! += size * tTree + tJob / 1000;
        }
        const grow = Math.max(...free);
        // Cold: every host fetches the codes; one Redis serves them one after another (pessimistic).
        const cold = tPut / 1000 + H * tFetch;
        const warm = fixed + grow;
        lines.push(
          `| ${H} | ${sizes[0]} .. ${sizes[sizes.length - 1]} | ${sizes.length} | ${warm.toFixed(2)} | ${(tLocal1 / warm).toFixed(2)}x | ${((tLocal1 / warm / H) * 100).toFixed(0)}% | ${(warm + cold).toFixed(2)} | ${(tLocal1 / (warm + cold)).toFixed(2)}x |`,
        );
      }
      report.addNote(
        [
          `Model of H hosts x 1 thread (${trees} trees), from the parts measured in this run: per-tree time ${(tTree * 1000).toFixed(0)} ms (local 1-thread fit / trees),`,
          `per-job round trip ${tJob.toFixed(1)} ms, fixed per-fit cost of the cluster path ${fixed.toFixed(2)} s (1-host cluster fit minus its trees and jobs: hashing, payloads, the last job's trees decoded and checked),`,
          `data put ${(tPut / 1000).toFixed(2)} s once and fetched ${tFetch.toFixed(2)} s per host (served one host after another: pessimistic for one Redis; a 10 GbE link moves 47 MB in ~0.04 s more per host).`,
          `Jobs are guided: each takes about 1/(2H) of the trees left, down to one tree (src/cluster/guided.ts), so the last wave, where hosts idle, is about one tree long; the model hands the jobs in order to the host that frees up first. Warm: hosts already hold the codes; cold: the first fit on that data.`,
          "",
          "| hosts | trees per job | jobs | warm fit (s) | speed-up vs 1 thread | efficiency | cold fit (s) | cold speed-up |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|",
          ...lines,
        ].join("\n"),
      );
    }
    return report;
  } finally {
    for (const c of clusters) await c.close();
    for (const e of engines) await e.close();
    for (const c of children.slice(1)) await stop(c);
    if (children[0]) await stop(children[0], "SIGKILL");
    process.off("SIGINT", kill);
    process.off("SIGTERM", kill);
  }
};

const fetchMs: number[] = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export default suite;
