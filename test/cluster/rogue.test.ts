// Trees coming back from a host are checked before use: a rogue host (a
// BullMQ worker on the cluster's queue that answers grow jobs with trees it
// made up) gets every corruption refused with an error naming it, and the
// cluster keeps working for the next fit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import { Worker, type Job } from "bullmq";
import { Cluster } from "../../src/cluster/cluster.js";
import { putBlobs } from "../../src/cluster/blobs.js";
import { keyPrefix, queueNames, type GrowJob } from "../../src/cluster/protocol.js";
import { hashBytes } from "../../src/cluster/wire.js";
import { Engine } from "../../src/engine/engine.js";
import { ClusterError, FormatError } from "../../src/errors.js";
import { RandomForestClassifier } from "../../src/ml/forest/classifier.js";
import { treesToBinary } from "../../src/ml/forest/model-json.js";
import type { FlatTree } from "../../kernels/forest/tree.js";
import { digits, rows } from "../forest/util.js";
import { rejectsTyped } from "../helpers.js";
import { redisAvailable, startRedis, type RedisServer } from "./util.js";

type Mode = "honest" | "nan" | "truncate" | "backwards" | "no-blob" | "torn";

if (redisAvailable("test/cluster/rogue")) {
  const QUEUE = "rogue";
  const HOST = "rogue-host";
  let redis: RedisServer;
  let engine: Engine;
  let cluster: Cluster;
  let conn: Redis;
  let blobs: Redis;
  let worker: Worker;
  let local: RandomForestClassifier;
  let mode: Mode = "honest";
  const { X, y } = digits();
  const Xs = rows(X, 0, 600);
  const ys = y.slice(0, 600);
  const N = 12;

  /** What the rogue host sends back for trees [first, first + count): the local fit's, corrupted as `mode` says in the job of tree 0. */
  const answer = async (job: Job<GrowJob>): Promise<unknown> => {
    const { first, count } = job.data;
    const bytes = treesToBinary((local.trees as FlatTree[]).slice(first, first + count));
    const target = first === 0 ? mode : "honest";
    if (target === "no-blob") return { host: HOST, count };
    let sent = bytes;
    const n = new Uint32Array(bytes.buffer, 32, 1)[0]!;
    if (target === "nan") new Float64Array(bytes.buffer, 48, 1)[0] = NaN;
    if (target === "truncate") sent = bytes.subarray(0, bytes.byteLength - 12);
    if (target === "backwards") {
      const u = new Uint32Array(bytes.buffer, 32, 4);
      const stored = u[2] === 0xffffffff ? n * 10 : u[2]!;
      new Int32Array(bytes.buffer, 48 + 8 * (3 * n + stored), 2 * n)[n] = 0;
    }
    const hash = hashBytes(sent);
    if (target === "torn") sent = sent.subarray(0, sent.byteLength - 1);
    await putBlobs(blobs, keyPrefix(QUEUE), [{ hash, bytes: sent }]);
    return { host: HOST, treesBlob: hash, count };
  };

  test.before(async () => {
    redis = await startRedis();
    engine = await Engine.start({ threads: 2 });
    local = await new RandomForestClassifier({ nEstimators: N, seed: 8, engine }).fit(Xs, ys);
    conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    blobs = new Redis(redis.url);
    worker = new Worker<GrowJob>(queueNames(QUEUE).engine, answer, { connection: conn, concurrency: 4 });
    worker.on("error", () => {});
    cluster = await Cluster.connect({ redis: redis.url, queue: QUEUE });
  });

  test.after(async () => {
    await cluster?.close();
    await worker?.close();
    conn?.disconnect();
    blobs?.disconnect();
    await engine?.close();
    await redis?.stop();
  });

  const fit = (): Promise<RandomForestClassifier> => new RandomForestClassifier({ nEstimators: N, seed: 8, engine }).fit(Xs, ys, { cluster });

  test("honest trees from the host make the local model, bit for bit", async () => {
    mode = "honest";
    assert.equal(JSON.stringify((await fit()).toJSON()), JSON.stringify(local.toJSON()));
  });

  const refusals: Array<[Mode, typeof FormatError | typeof ClusterError, RegExp]> = [
    ["nan", FormatError, /^trees \[0, \d+\) from host rogue-host, tree 0: threshold\[0\] must be a finite number, got NaN/],
    ["truncate", FormatError, /^trees \[0, \d+\) from host rogue-host: the binary trees end inside .*truncated or tampered/],
    ["backwards", FormatError, /^trees \[0, \d+\) from host rogue-host, tree 0: node 0: left child 0 must be an integer in \(0, \d+\)/],
    ["no-blob", ClusterError, /^host rogue-host: trees \[0, \d+\) came back malformed/],
    ["torn", ClusterError, /^host rogue-host: trees \[0, \d+\): blob \w+: content does not match its hash/],
  ];
  for (const [m, cls, re] of refusals) {
    test(`a host's ${m} trees are refused (${cls.name}, naming the host), and the next fit still works`, async () => {
      mode = m;
      const started = Date.now();
      await rejectsTyped(fit(), cls as typeof FormatError, re);
      assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
      mode = "honest";
      assert.equal(JSON.stringify((await fit()).toJSON()), JSON.stringify(local.toJSON()));
    });
  }

  test.run();
}
