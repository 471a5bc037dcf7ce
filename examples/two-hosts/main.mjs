// A program that uses a cluster: every `sabre worker` host that serves the
// same Redis queue takes part. It lists the hosts, runs a user kernel over
// them (cluster.parallelFor with a reduction), fits a random forest with its
// trees sharded over the hosts, and checks both against a local run.
//
//   node examples/two-hosts/main.mjs --redis redis://HOST:6379
//
// (run.mjs beside this file starts Redis and two hosts on this machine and
// runs this; examples/README.md says how to spread the hosts over real machines.)
import { Cluster, Engine, RandomForestClassifier, readCsv, reduction, trainTestSplit } from "sabre";

const at = process.argv.indexOf("--redis");
const redis = at >= 0 ? process.argv[at + 1] : process.env["SABRE_REDIS"];
if (!redis) {
  console.error("main.mjs needs --redis redis://HOST:PORT (or SABRE_REDIS)");
  process.exit(2);
}

// connect fails within seconds with a typed error (ClusterError) if Redis is not there.
const cluster = await Cluster.connect({ redis });
const engine = await Engine.start({ threads: 2, kernels: [new URL("./kernels.mjs", import.meta.url)] });
try {
  const hosts = await cluster.hosts();
  console.log(`${hosts.length} host(s): ${hosts.map((h) => `${h.name} (${h.threads} threads, kernels: ${h.kernels.join(", ") || "built-ins"})`).join("; ")}`);

  // ---- a user kernel over the hosts -------------------------------------------------------------
  const n = 1_000_000;
  const inside = reduction(0); // a Reduction<number>: inside.value is a number
  const chunks = await cluster.parallelFor(n, "hosts.darts", { seed: 42, inside }, { chunk: 50_000 });
  const local = reduction(0);
  await engine.parallelFor(n, "hosts.darts", { seed: 42, inside: local }, { chunk: 50_000 });
  console.log(
    `parallelFor: ${chunks.length} chunks over the hosts, ${inside.value} of ${n} darts inside: pi ~ ${((4 * inside.value) / n).toFixed(4)}; ` +
      `${inside.value === local.value ? "the same count" : "A DIFFERENT COUNT"} on the local engine`,
  );

  // ---- a forest with its trees sharded over the hosts -------------------------------------------
  // The UCI digits that ship with sabre: 1,797 images of 8 x 8 pixels, the digit in the last column.
  const { X, y } = await readCsv(new URL("../../data/digits.csv.gz", import.meta.url), { target: -1 });
  const [Xtrain, Xtest, ytrain, ytest] = await trainTestSplit(X, y, { testSize: 0.25, seed: 1, stratify: y });
  const options = { nEstimators: 40, seed: 3 };
  const remote = new RandomForestClassifier({ ...options, engine });
  await remote.fit(Xtrain, ytrain, { cluster });
  const near = new RandomForestClassifier({ ...options, engine });
  await near.fit(Xtrain, ytrain);
  const pr = await remote.predict(Xtest);
  const pl = await near.predict(Xtest);
  const same = pr.length === pl.length && pr.every((v, i) => v === pl[i]);
  console.log(
    `forest: ${options.nEstimators} trees fitted on the hosts, test accuracy ${(await remote.score(Xtest, ytest)).toFixed(4)} on ${Xtest.shape[0]} digits; ` +
      `${same ? "the same predictions" : "DIFFERENT PREDICTIONS"} as a local fit`,
  );
  const after = await cluster.hosts();
  console.log(`jobs per host: ${after.map((h) => `${h.name} ${h.jobs}`).join(", ")}`);
  if (inside.value !== local.value || !same) process.exitCode = 1;
} finally {
  await cluster.close();
  await engine.close();
}
