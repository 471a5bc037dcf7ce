// Every example under examples/ runs as a user runs it: the one command of
// examples/README.md (`node examples/...` or `sh examples/...`) in a child
// process, from the package root, importing "sabre" through the package's
// own exports. Each must exit 0 by itself (no worker left running) and print
// what its header promises; the checks below read that output.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { redisAvailable, startRedis, type RedisServer } from "../cluster/util.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const dir = join(root, "examples");
const FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** A generous bound so a hung example fails the test instead of hanging the suite (not a speed check). */
const HANG_LIMIT_MS = 120_000;

/** Runs `node examples/<file> ...args` (or `sh` for a .sh file) from the package root. */
function runExample(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const command = file.endsWith(".sh") ? "sh" : process.execPath;
    const child = spawn(command, [join(dir, file), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), HANG_LIMIT_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

/** The number captured by `pattern` in `text`, or a failed assertion that shows the text. */
function numberIn(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  assert.ok(m, `no match for ${pattern} in:\n${text}`);
  return Number(m[1]);
}

interface ExampleRun {
  /** The example's entry, relative to examples/. */
  file: string;
  args: string[] | (() => string[]);
  env?: Record<string, string>;
  check(r: Run): void;
  /** Runs before (e.g. a scratch folder); `after` undoes it. */
  before?(): void | Promise<void>;
  after?(): void | Promise<void>;
}

let scratch = "";
let redis: RedisServer | undefined;
const withRedis = redisAvailable("test/examples (two-hosts)");

const RUNS: ExampleRun[] = [
  {
    // Whatever data this machine has (Fashion-MNIST if installed), few samples, two epochs.
    file: "fashion-mnist-loader.mjs",
    args: ["--samples", "4096", "--epochs", "2", "--workers", "2"],
    check(r) {
      const epochs = r.out.split("\n").filter((l) => /^epoch \d\/2 /.test(l));
      assert.is(epochs.length, 2, r.out);
      for (const l of epochs) assert.match(l, /\[#{30}\] .* [\d.]+ batches\/s/);
      const acc = Number(/test accuracy (\d\.\d+)/.exec(epochs[1]!)?.[1]);
      // 10 classes: a model that learned nothing scores about 0.1.
      assert.ok(acc > 0.5, `test accuracy ${acc} after two epochs:\n${r.out}`);
      if (existsSync(FASHION)) assert.match(r.out, /^Fashion-MNIST: 4096 training images \(28x28\)/m);
    },
  },
  {
    // The embedded digits (what a machine without the dataset package uses), the loader on 3 workers.
    file: "fashion-mnist-loader.mjs",
    args: ["--digits", "--epochs", "3", "--workers", "3", "--batch", "64"],
    check(r) {
      assert.match(r.out, /^UCI digits \(embedded\): 1200 training images \(8x8\), 597 test; 3 loader worker\(s\), batch 64, 19 batches per epoch/m);
      const last = r.out.split("\n").filter((l) => l.startsWith("epoch 3/3 "))[0] ?? "";
      const acc = Number(/test accuracy (\d\.\d+)/.exec(last)?.[1]);
      assert.ok(acc > 0.6, `test accuracy ${acc} after three epochs:\n${r.out}`);
    },
  },
  {
    // tsc compiles the TypeScript module and main; 3 threads on 2 cores, a small array.
    file: "kernel-module/run.mjs",
    args: ["--n", "100000", "--threads", "3"],
    check(r) {
      assert.match(r.out, /^engine: 3 worker threads; x: 100,000 float64 in shared memory$/m);
      const [, sum, loop] = /^reduction: sum (-?[\d.]+) \(a plain loop: (-?[\d.]+)\)/m.exec(r.out) ?? [];
      assert.ok(sum !== undefined && sum === loop, r.out);
      // Every value lands in one bin.
      assert.match(r.out, /^histogram of x over \[-3, 13\), 8 bins, 100000 values:$/m);
      const [, at, value, atLoop, valueLoop] = /^mutex: max x\[(\d+)\] = ([\d.]+) \(a plain loop: x\[(\d+)\] = ([\d.]+)\)$/m.exec(r.out) ?? [];
      assert.ok(at !== undefined && at === atLoop && value === valueLoop, r.out);
      assert.match(r.out, /^barrier: 3 workers each saw mean [\d.]+, 1 leader per round; mean after centring /m);
      assert.match(r.out, /^all three agree with the main thread$/m);
    },
  },
  {
    file: "forest-csv/cli.sh",
    args: () => [join(scratch, "cli")],
    check(r) {
      assert.match(r.out, /^fitted 50 trees on 120 rows x 4 features \(target "species"\) in [\d.]+ s; out-of-bag accuracy 0\.\d+$/m);
      const acc = numberIn(r.out, /^accuracy (\d\.\d+) on 30 rows$/m);
      // Iris: a forest that learned nothing scores about 1/3.
      assert.ok(acc >= 0.8, `test accuracy ${acc}\n${r.out}`);
      const predictions = readFileSync(join(scratch, "cli", "predictions.csv"), "utf8").trim().split("\n");
      assert.is(predictions[0], "prediction");
      assert.is(predictions.length, 31);
      for (const p of predictions.slice(1)) assert.ok(["setosa", "versicolor", "virginica"].includes(p), p);
      const proba = readFileSync(join(scratch, "cli", "proba.csv"), "utf8").trim().split("\n");
      assert.is(proba[0], "setosa,versicolor,virginica");
      for (const row of proba.slice(1)) {
        const sum = row.split(",").map(Number).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, row);
      }
      const model = JSON.parse(readFileSync(join(scratch, "cli", "iris-model.json"), "utf8")) as { estimator?: string };
      assert.is(model.estimator, "RandomForestClassifier");
    },
  },
  {
    file: "forest-csv/api.mjs",
    args: () => [join(scratch, "api-model.json")],
    check(r) {
      assert.match(r.out, /^train: 120 rows x 4 features \(sepal_length, sepal_width, petal_length, petal_width\), target "species"$/m);
      assert.match(r.out, /^classes: setosa, versicolor, virginica; out-of-bag accuracy 0\.\d+$/m);
      const acc = numberIn(r.out, /^test accuracy (\d\.\d+) on 30 rows$/m);
      assert.ok(acc >= 0.8, `test accuracy ${acc}\n${r.out}`);
      // The petals separate the species; the sepals much less.
      assert.match(r.out, /^feature importances: petal_\w+ [\d.]+, petal_\w+ [\d.]+, sepal/m);
      assert.match(r.out, /the loaded model predicts the same labels$/m);
      assert.ok(existsSync(join(scratch, "api-model.json")));
    },
  },
  {
    file: "preprocess.mjs",
    args: ["--rows", "1200"],
    check(r) {
      const missing = numberIn(r.out, /^customers\.csv \(synthetic\): 1200 rows x 5 columns \(age, income, visits, plan, tenure\), (\d+) missing cells$/m);
      assert.ok(missing > 0, r.out);
      assert.match(r.out, /^classes no\/yes; train 900 rows \([\d.]+% yes\), test 300 rows$/m);
      assert.match(r.out, /^one-hot: plan categories \[0, 1, 2\] -> 3 columns$/m);
      assert.match(r.out, /^imputer medians: (-?[\d.]+, ){6}-?[\d.]+$/m);
      const acc = numberIn(r.out, /^test accuracy (\d\.\d+) /m);
      const majority = numberIn(r.out, /always predicting the majority class: (\d\.\d+)\)/);
      assert.ok(acc > majority + 0.03, `accuracy ${acc} vs the majority class ${majority}\n${r.out}`);
      assert.match(r.out, /the revived pipeline predicts the same labels: (yes|no)(, (yes|no)){5}, \.\.\.$/m);
    },
  },
  {
    file: "dataloader-training.mjs",
    args: ["--samples", "2000", "--epochs", "3", "--workers", "3", "--batch", "32"],
    check(r) {
      assert.match(r.out, /^2000 training samples of 16 features, 3 loader worker\(s\), batch 32, 63 batches per epoch$/m);
      const before = numberIn(r.out, /^before training: test accuracy (\d\.\d+)$/m);
      const epochs = [...r.out.matchAll(/^epoch (\d)\/3 loss (\d\.\d+), test accuracy (\d\.\d+), \d+ samples\/s$/gm)];
      assert.is(epochs.length, 3, r.out);
      const losses = epochs.map((m) => Number(m[2]));
      for (let i = 1; i < losses.length; i++) assert.ok(losses[i]! < losses[i - 1]!, `the loss did not go down: ${losses.join(", ")}`);
      const after = Number(epochs[2]![3]);
      assert.ok(before < 0.65 && after > 0.8, `test accuracy ${before} -> ${after}\n${r.out}`);
    },
  },
  ...(withRedis
    ? [
        {
          // The test's own redis-server on a free port; run.mjs starts the two hosts and main.mjs.
          file: "two-hosts/run.mjs",
          args: () => ["--redis", redis!.url],
          async before() {
            redis = await startRedis();
          },
          async after() {
            await redis?.stop();
          },
          check(r: Run) {
            assert.match(r.out, /^two hosts started: /m);
            assert.match(r.out, /^2 host\(s\): host-a \(1 threads, kernels: hosts\.darts\); host-b \(1 threads, kernels: hosts\.darts\)$/m);
            const pi = numberIn(r.out, /pi ~ (\d\.\d+); the same count on the local engine$/m);
            assert.ok(Math.abs(pi - Math.PI) < 0.02, r.out);
            const acc = numberIn(r.out, /^forest: 40 trees fitted on the hosts, test accuracy (\d\.\d+) on 450 digits; the same predictions as a local fit$/m);
            assert.ok(acc > 0.9, r.out);
            assert.match(r.out, /^jobs per host: host-a \d+, host-b \d+$/m);
          },
        } satisfies ExampleRun,
      ]
    : []),
];

test.before(() => {
  scratch = mkdtempSync(join(tmpdir(), "sabre-examples-"));
});

test.after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The examples: top-level scripts, and folders (each with its own entry files). */
const entries = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => /\.(mjs|js|cjs)$/.test(f) || (statSync(join(dir, f)).isDirectory() && f !== "datasets"))
      .sort()
  : [];

test("every example is run below, and examples/README.md gives each one's command", () => {
  const readme = readFileSync(join(dir, "README.md"), "utf8");
  for (const entry of entries) {
    assert.ok(
      RUNS.some((r) => r.file === entry || r.file.startsWith(`${entry}/`)) || (entry === "two-hosts" && !withRedis),
      `examples/${entry} is not run by this test`,
    );
    assert.ok(readme.includes(`examples/${entry}`), `examples/README.md does not mention examples/${entry}`);
  }
  for (const r of RUNS) {
    assert.ok(readme.includes(`${r.file.endsWith(".sh") ? "sh" : "node"} examples/${r.file}`), `examples/README.md lacks the command of ${r.file}`);
    // The command is also the first thing the file's header shows.
    const head = readFileSync(join(dir, r.file), "utf8").split("\n").slice(0, 20).join("\n");
    assert.match(head, `examples/${r.file}`, `examples/${r.file} does not give its command in its header`);
  }
});

for (const run of RUNS) {
  const label = Array.isArray(run.args) ? run.args.join(" ") : "...";
  test(`${run.file.endsWith(".sh") ? "sh" : "node"} examples/${run.file} ${label}`.trim(), async () => {
    await run.before?.();
    try {
      const r = await runExample(run.file, typeof run.args === "function" ? run.args() : run.args, run.env);
      assert.is(r.signal, null, `killed by ${r.signal} (hung?)\n${r.out}\n${r.err}`);
      assert.is(r.code, 0, `exit code ${r.code}\n${r.out}\n${r.err}`);
      run.check(r);
    } finally {
      await run.after?.();
    }
  });
}

test("a bad option is one line on stderr and exit code 2", async () => {
  const r = await runExample("fashion-mnist-loader.mjs", ["--epochs", "two"]);
  assert.is(r.code, 2, r.out + r.err);
  assert.match(r.err, /--epochs must be a non-negative integer, got two/);
});

test("the kernel-module example uses a scalar reduction's value as a number (its tsc step compiles only with Reduction<number>)", () => {
  // run.mjs type-checks main.ts before running it; against the old `number | Float64Array` value type this line did not compile.
  const main = readFileSync(join(dir, "kernel-module", "main.ts"), "utf8");
  assert.match(main, /const total = reduction\(0, "sum"\);/);
  assert.match(main, /total\.value \/ n/);
});

test.run();
