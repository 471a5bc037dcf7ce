// Every example under examples/ runs as a user runs it: `node examples/<file>`
// in a child process, from the package root, importing "sabre" through the
// package's own exports. Each must exit 0 by itself (no worker left running)
// and print what its header promises.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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

function runExample(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(dir, file), ...args], {
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

/** What each example must print, beyond exiting 0; an example not listed here must at least exit 0 and print something. */
const EXPECTED: Record<string, { args: string[]; env?: Record<string, string>; check(r: Run): void }[]> = {
  "fashion-mnist-loader.mjs": [
    {
      // Whatever data this machine has (Fashion-MNIST if installed), few samples, two epochs.
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
      args: ["--digits", "--epochs", "3", "--workers", "3", "--batch", "64"],
      check(r) {
        assert.match(r.out, /^UCI digits \(embedded\): 1200 training images \(8x8\), 597 test; 3 loader worker\(s\), batch 64, 19 batches per epoch/m);
        const last = r.out.split("\n").filter((l) => l.startsWith("epoch 3/3 "))[0] ?? "";
        const acc = Number(/test accuracy (\d\.\d+)/.exec(last)?.[1]);
        assert.ok(acc > 0.6, `test accuracy ${acc} after three epochs:\n${r.out}`);
      },
    },
  ],
};

const examples = existsSync(dir) ? readdirSync(dir).filter((f) => /\.(mjs|js|cjs)$/.test(f)).sort() : [];

test("examples/ holds the runnable examples", () => {
  assert.ok(examples.includes("fashion-mnist-loader.mjs"), `found ${examples.join(", ")}`);
});

for (const file of examples) {
  for (const run of EXPECTED[file] ?? [{ args: [], check: (r: Run) => assert.ok(r.out.length > 0, "no output") }]) {
    test(`node examples/${file} ${run.args.join(" ")}`.trim(), async () => {
      const r = await runExample(file, run.args, run.env);
      assert.is(r.signal, null, `killed by ${r.signal} (hung?)\n${r.out}\n${r.err}`);
      assert.is(r.code, 0, `exit code ${r.code}\n${r.out}\n${r.err}`);
      run.check(r);
    });
  }
}

test("a bad option is one line on stderr and exit code 2", async () => {
  const r = await runExample("fashion-mnist-loader.mjs", ["--epochs", "two"]);
  assert.is(r.code, 2, r.out + r.err);
  assert.match(r.err, /--epochs must be a non-negative integer, got two/);
});

test.run();
