// `sabre preprocess` end to end, as a user runs it: a child process on small
// CSV and .npy files; the written .npy files and saved pipeline read back;
// bad paths, bad columns, non-numeric cells and bad options exit 2 with one line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pipeline, readCsv, readNpySync, writeNpySync, shared } from "sabre";

const bin = fileURLToPath(new URL("../../../bin/sabre.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sabre-preprocess-"));

function sabre(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, "preprocess", ...args], { encoding: "utf8", timeout: 120_000, cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** 40 rows: x (0..39), z (a float with a gap), colour (1..3), label (cat every 4th row). */
function csv(name: string): string {
  const lines = ["x,z,colour,label"];
  for (let i = 0; i < 40; i++) lines.push(`${i},${i % 7 === 0 ? "" : (i * 0.5).toFixed(1)},${(i % 3) + 1},${i % 4 === 0 ? "cat" : "dog"}`);
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

const rows = (a: { shape: number[]; get(i: number, j: number): number | bigint }): number[][] =>
  Array.from({ length: a.shape[0]! }, (_, i) => Array.from({ length: a.shape[1]! }, (_, j) => Number(a.get(i, j))));

test("--one-hot and --target: X with the encoded column last, y as codes; the saved pipeline gives the same rows", async () => {
  const file = csv("t1.csv");
  const r = sabre(file, "--out", "o1.npy", "--one-hot", "colour", "--target", "label", "--save", "p1.json");
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /target classes \(codes 0\.\.1\): \["cat","dog"\]/);
  const X = readNpySync(join(dir, "o1.npy"));
  assert.equal(X.shape, [40, 5]);
  assert.equal(rows(X)[1], [1, 0.5, 0, 1, 0]);
  assert.ok(Number.isNaN(X.get(0, 1) as number), "the empty cell stays NaN without --impute");
  const y = readNpySync(join(dir, "o1-y.npy"));
  assert.is(y.dtype, "int32");
  assert.equal(Array.from(y.data as Int32Array).slice(0, 5), [0, 1, 1, 1, 0]);
  const pipe = Pipeline.fromJSON(JSON.parse(readFileSync(join(dir, "p1.json"), "utf8")));
  const { X: raw } = await readCsv(file, { target: "label" });
  const again = rows(await pipe.transform(raw));
  rows(X).forEach((row, i) => row.forEach((v, j) => assert.ok(v === again[i]![j] || (Number.isNaN(v) && Number.isNaN(again[i]![j]!)), `row ${i} col ${j}`)));
});

test("--split with --seed: train/test files, stratified on string labels, the same files for the same seed", () => {
  const file = csv("t2.csv");
  const r = sabre(file, "--out", "o2.npy", "--one-hot", "2", "--target=-1", "--split", "0.25", "--seed", "7", "--threads", "3");
  assert.is(r.code, 0, r.err);
  const tr = readNpySync(join(dir, "o2-train.npy"));
  const te = readNpySync(join(dir, "o2-test.npy"));
  const yTr = readNpySync(join(dir, "o2-y-train.npy"));
  const yTe = readNpySync(join(dir, "o2-y-test.npy"));
  assert.equal(tr.shape, [30, 5]);
  assert.equal(te.shape, [10, 5]);
  // 10 cats (code 0) of 40: a quarter of them held out, as scikit-learn's stratified split.
  const cats = (a: { data: unknown }): number => Array.from(a.data as Int32Array).filter((v) => v === 0).length;
  assert.ok(cats(yTe) === 2 || cats(yTe) === 3, `cats in test: ${cats(yTe)}`);
  assert.is(cats(yTr) + cats(yTe), 10);
  const ids = [...rows(tr), ...rows(te)].map((row) => row[0]!).sort((a, b) => a - b);
  assert.equal(ids, Array.from({ length: 40 }, (_, i) => i));
  const r2 = sabre(file, "--out", "o2b.npy", "--one-hot", "2", "--target=-1", "--split", "0.25", "--seed", "7");
  assert.is(r2.code, 0, r2.err);
  assert.equal(rows(readNpySync(join(dir, "o2b-test.npy"))), rows(te), "same seed, same split (1 vs 3 threads too)");
});

test(".npy input with a target column index; no steps writes the table as is", () => {
  const path = join(dir, "in.npy");
  writeNpySync(path, shared.from([[1, 10, 0], [2, 20, 1], [3, 30, 0], [4, 40, 1]], { dtype: "float32" }));
  const r = sabre(path, "--out", "o3.npy", "--target", "2", "--one-hot", "0");
  assert.is(r.code, 0, r.err);
  assert.equal(rows(readNpySync(join(dir, "o3.npy"))), [[10, 1, 0, 0, 0], [20, 0, 1, 0, 0], [30, 0, 0, 1, 0], [40, 0, 0, 0, 1]]);
  assert.equal(Array.from(readNpySync(join(dir, "o3-y.npy")).data as Float64Array), [0, 1, 0, 1]);
  const plain = sabre(path, "--out", "o4.npy");
  assert.is(plain.code, 0, plain.err);
  assert.equal(rows(readNpySync(join(dir, "o4.npy"))), [[1, 10, 0], [2, 20, 1], [3, 30, 0], [4, 40, 1]]);
});

test("--impute, --scale, --bins: imputed, scaled and binned columns; saved pipelines revive", () => {
  const file = csv("t5.csv");
  const r = sabre(file, "--out", "o5.npy", "--target", "label", "--impute", "mean", "--scale", "standard");
  assert.is(r.code, 0, r.err);
  const X = rows(readNpySync(join(dir, "o5.npy")));
  for (let j = 0; j < 3; j++) {
    const mean = X.reduce((s, row) => s + row[j]!, 0) / X.length;
    const sd = Math.sqrt(X.reduce((s, row) => s + row[j]! ** 2, 0) / X.length);
    assert.ok(Math.abs(mean) < 1e-9 && Math.abs(sd - 1) < 1e-9, `column ${j}: mean ${mean}, sd ${sd}`);
  }
  const m = sabre(file, "--out", "o5m.npy", "--target", "label", "--impute", "median", "--scale", "minmax", "--one-hot", "colour", "--split", "0.25", "--seed", "1", "--save", "p5.json");
  assert.is(m.code, 0, m.err);
  const tr = rows(readNpySync(join(dir, "o5m-train.npy")));
  assert.equal(tr[0]!.length, 5);
  for (let j = 0; j < 2; j++) {
    assert.ok(Math.abs(Math.min(...tr.map((row) => row[j]!))) < 1e-12, `train column ${j} min`);
    assert.ok(Math.abs(Math.max(...tr.map((row) => row[j]!)) - 1) < 1e-12, `train column ${j} max`);
  }
  const saved = JSON.parse(readFileSync(join(dir, "p5.json"), "utf8")) as { targetClasses: string[] };
  assert.equal(saved.targetClasses, ["cat", "dog"]);
  assert.ok(Pipeline.fromJSON(saved) instanceof Pipeline);
  const b = sabre(file, "--out", "o6.npy", "--target", "label", "--impute", "mean", "--bins", "4", "--one-hot", "colour");
  assert.is(b.code, 0, b.err);
  const binned = rows(readNpySync(join(dir, "o6.npy")));
  assert.equal(binned[0]!.length, 5);
  for (let j = 0; j < 2; j++) {
    const codes = new Set(binned.map((row) => row[j]!));
    assert.equal([...codes].sort(), [0, 1, 2, 3], `column ${j}: quantile bins 0..3`);
  }
  // KBinsDiscretizer refuses NaN, as scikit-learn does: --bins on the CSV with missing cells needs --impute
  const nan = sabre(file, "--out", "o6n.npy", "--target", "label", "--bins", "4");
  assert.is(nan.code, 2);
  assert.match(nan.err, /contains NaN/);
});

test("bad input: one line on stderr, exit code 2", () => {
  const file = csv("t7.csv");
  const bad = (args: string[], pattern: RegExp): void => {
    const r = sabre(...args);
    assert.is(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, pattern);
    assert.is(r.err.trim().split("\n").length, 1, `one line: ${r.err}`);
  };
  bad(["missing.csv", "--out", "o.npy"], /cannot read missing\.csv/);
  bad([file, "--out", "o.npy", "--target", "label", "--one-hot", "nope"], /--one-hot: no column "nope"/);
  bad([file, "--out", "o.npy", "--target", "nope"], /nope/);
  bad([file, "--out", "o.npy"], /row 2, column "label": "cat" is not a number/);
  bad([file, "--out", "o.npy", "--target", "label", "--scale", "huge"], /--scale must be one of standard, minmax, robust/);
  bad([file, "--out", "o.npy", "--target", "label", "--split", "abc"], /--split must be/);
  bad([file, "--out", "o.npy", "--target", "label", "--split", "1.5"], /testSize=1\.5/);
  bad([file, "--out", "o.npy", "--target", "label", "--seed", "3"], /--seed is for --split/);
  bad([file, "--out", "o.npy", "--target", "label", "--save", "p.json"], /no pipeline to save/);
  bad([file, "--out", "o.npy", "--target", "label", "--colour"], /colour/);
  const npy = join(dir, "cube.npy");
  writeNpySync(npy, shared.zeros("float64", [2, 2, 2]));
  bad([npy, "--out", "o.npy"], /2-D table/);
  bad([join(dir, "in.npy"), "--out", "o.npy", "--target", "x"], /give a column index/);
  const usage = sabre(file);
  assert.is(usage.code, 2);
  assert.match(usage.err, /usage:/);
  assert.not.ok(existsSync(join(dir, "o.npy")));
});

test.run();
