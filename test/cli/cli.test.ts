// The sabre command, run as a user runs it: a child process on real files.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../../bin/sabre.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sabre-cli-"));

function sabre(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("sabre info names the machine's threads and Atomics support", () => {
  const r = sabre("info");
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /availableParallelism\s+\d+/);
  assert.match(r.out, /atomicsWaitAsync\s+true/);
});

test("sabre info refuses an unknown flag or argument like the other commands (it ignored them and exited 0)", () => {
  let r = sabre("info", "--x");
  assert.is(r.code, 2);
  assert.match(r.err, /^sabre: Unknown option '--x'/);
  assert.is(r.out, "");
  assert.not.match(r.err, /\n\s+at /, "no stack trace");
  r = sabre("info", "extra");
  assert.is(r.code, 2);
  assert.match(r.err, /^sabre: .*Unexpected argument 'extra'/);
  r = sabre("info", "--help");
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /usage: sabre info/);
});

test("sabre demo trains on the embedded digits and reports accuracy", () => {
  const r = sabre("demo", "--trees", "20", "--threads", "3");
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /engine\s+3 worker threads/);
  const acc = Number(/accuracy (\d+\.\d+)%/.exec(r.out)?.[1]);
  assert.ok(acc > 85, r.out);
});

test("forest fit then predict on a CSV with string labels", () => {
  const lines = ["x1,x2,label"];
  for (let i = 0; i < 200; i++) {
    const a = (i * 37) % 100;
    const b = (i * 53) % 100;
    lines.push(`${a},${b},${a > b ? "up" : "down"}`);
  }
  const csv = join(dir, "train.csv");
  writeFileSync(csv, lines.join("\n") + "\n");
  const model = join(dir, "model.json");
  const fit = sabre("forest", "fit", csv, "--target", "label", "--out", model, "--trees", "15", "--seed", "3", "--oob");
  assert.is(fit.code, 0, fit.err);
  assert.match(fit.out, /fitted 15 trees on 200 rows x 2 features/);
  assert.match(fit.out, /out-of-bag accuracy/);
  const preds = join(dir, "preds.csv");
  const pred = sabre("forest", "predict", model, csv, "--target", "label", "--out", preds);
  assert.is(pred.code, 0, pred.err);
  const acc = Number(/accuracy (\d\.\d+)/.exec(pred.out)?.[1]);
  assert.ok(acc > 0.95, pred.out);
  const written = readFileSync(preds, "utf8").trim().split("\n");
  assert.is(written.length, 201);
  assert.ok(["up", "down"].includes(written[1]!));
});

test("regression from the command line", () => {
  const lines = ["a,b,y"];
  for (let i = 0; i < 300; i++) lines.push(`${i % 17},${(i * 7) % 13},${(i % 17) * 2 + ((i * 7) % 13)}`);
  const csv = join(dir, "reg.csv");
  writeFileSync(csv, lines.join("\n"));
  const model = join(dir, "reg.json");
  assert.is(sabre("forest", "fit", csv, "--target=-1", "--out", model, "--regression", "--trees", "10").code, 0);
  const r = sabre("forest", "predict", model, csv, "--target", "y");
  assert.is(r.code, 0, r.err);
  assert.ok(Number(/R\^2 (\d\.\d+)/.exec(r.out)?.[1]) > 0.9, r.out);
});

test("bad input: a clear message and exit code 2, never a stack trace", () => {
  const csv = join(dir, "bad.csv");
  writeFileSync(csv, "a,b\n1,2\n3\n");
  const ragged = sabre("forest", "fit", csv, "--target", "b", "--out", join(dir, "x.json"));
  assert.is(ragged.code, 2);
  assert.match(ragged.err, /^sabre: .*(column|record)/i);
  const model = join(dir, "tampered.json");
  writeFileSync(model, JSON.stringify({ format: "sabre-random-forest", version: 1, estimator: "RandomForestClassifier" }));
  const bad = sabre("forest", "predict", model, join(dir, "train.csv"), "--target", "label");
  assert.is(bad.code, 2);
  assert.match(bad.err, /^sabre: /);
  assert.not.match(bad.err, /\n\s+at /, "no stack trace");
  assert.is(sabre("demo", "--dataset", "nope").code, 2);
  assert.is(sabre("nope").code, 2);
  assert.is(sabre("forest", "fit").code, 2);
  const dash = sabre("forest", "fit", join(dir, "train.csv"), "--target", "-1", "--out", join(dir, "z.json"));
  assert.is(dash.code, 2);
  assert.match(dash.err, /^sabre: [\s\S]*--target=-XYZ/);
  const trees = sabre("forest", "fit", join(dir, "train.csv"), "--target", "label", "--out", join(dir, "y.json"), "--trees", "0");
  assert.is(trees.code, 2);
  assert.match(trees.err, /nEstimators/);
});

test("forest: an unwritable --out or a model file that is not JSON is one line on stderr and exit 2, not a crash", () => {
  const csv = join(dir, "small.csv");
  writeFileSync(csv, "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
  // Both used to end in an uncaught ENOENT / SyntaxError with a stack trace and exit code 1 (the fit's work lost).
  const fit = sabre("forest", "fit", csv, "--target", "y", "--out", join(dir, "no-such-dir", "m.json"), "--trees", "3");
  assert.is(fit.code, 2, fit.err);
  assert.match(fit.err, /^sabre: cannot write .*no-such-dir.*m\.json: ENOENT/);
  assert.is(fit.err.trim().split("\n").length, 1, fit.err);
  const notJson = join(dir, "model.txt");
  writeFileSync(notJson, "not json at all");
  const pred = sabre("forest", "predict", notJson, csv);
  assert.is(pred.code, 2, pred.err);
  assert.match(pred.err, /^sabre: .*model\.txt is not a sabre forest: not JSON/);
  assert.is(pred.err.trim().split("\n").length, 1, pred.err);
});

test("forest fit on a CSV that is not UTF-8 says so in one line, exit 2 (it reported csv-parse's \"Invalid Opening Quote\" with garbage bytes)", () => {
  const csv = join(dir, "latin1.csv");
  writeFileSync(csv, Buffer.from("a,b,y\n1,2,\"caf\u00e9\"\n3,4,na\u00efve\n", "latin1"));
  const r = sabre("forest", "fit", csv, "--target", "y", "--out", join(dir, "latin1.json"), "--trees", "3");
  assert.is(r.code, 2, r.err);
  assert.match(r.err, /^sabre: .*latin1\.csv is not UTF-8 text: byte 0xe9 at offset 14 \(line 2\)/);
  assert.is(r.err.trim().split("\n").length, 1, r.err);
});

test.run();
