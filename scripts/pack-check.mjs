#!/usr/bin/env node
// The packed-package check (a step of `npm test`): what `npm install sabre`
// would give a user, tried in a project that has nothing to do with this
// repository.
//
//   node scripts/pack-check.mjs [--keep]
//
// 1. `npm pack` sabre. When dist/ is at least as new as src/ and kernels/
//    (as right after the test build) the package is packed in place with
//    --ignore-scripts; otherwise it is built and packed in a temporary copy,
//    so that a bench or test running from this checkout never sees dist/
//    deleted under it.
// 2. The tarball's listing: it must hold the runtime (dist/*.js), the
//    declarations (dist/types), the CLI (bin/) and the embedded data, and
//    nothing else: no tests, benchmarks or their results, build/, examples,
//    scripts, TypeScript sources. Its size and file count are printed.
// 3. A fresh project in a temporary folder installs the tarball (a real
//    install from the tarball: no link; npm's cache serves what it can), and
//    there: an ESM script runs a user kernel module (`sabre/worker`) on an
//    Engine from `sabre`, the `sabre` bin answers, and a TypeScript main
//    file plus kernel module type-check (strict, library .d.ts included)
//    with moduleResolution node16 and with bundler, using this repository's
//    tsc by absolute path.
// --keep leaves the temporary folders for a look (their path is printed).
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const keep = process.argv.includes("--keep");
const t0 = performance.now();
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const work = mkdtempSync(join(tmpdir(), "sabre-pack-check-"));

function fail(message) {
  console.error(`pack-check: ${message}`);
  if (keep) console.error(`pack-check: left ${work}`);
  else rmSync(work, { recursive: true, force: true });
  process.exit(1);
}

/** Runs a command; on failure, stops the check with its output. */
function run(cmd, args, cwd, what) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" } });
  if (r.status !== 0) fail(`${what} failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

// ---- 1. pack ----------------------------------------------------------------------------------

const builtFiles = ["dist/index.js", "dist/worker.js", "dist/worker-entry.js", "dist/cli.js", "dist/types/src/index.d.ts", "dist/types/src/worker.d.ts"];
const distTime = Math.min(...builtFiles.map((f) => (existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : 0)));
const fresh = distTime > 0 && distTime >= Math.max(newest(join(root, "src")), newest(join(root, "kernels")), statSync(join(root, "package.json")).mtimeMs);

let packDir = root;
if (!fresh) {
  // A copy holding what the build reads; node_modules is linked for esbuild and tsc.
  packDir = join(work, "package");
  mkdirSync(packDir);
  for (const f of ["package.json", "README.md", "LICENSE", "tsconfig.json", "tsconfig.types.json", "src", "kernels", "bin", "data", "scripts"]) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(packDir, f), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(packDir, "node_modules"), "dir");
  run(process.execPath, [join(packDir, "scripts", "build.mjs")], packDir, "building sabre in a temporary copy");
}
const packed = JSON.parse(run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", work], packDir, "npm pack"));
const info = packed[0];
const tarball = join(work, info.filename);
const files = info.files.map((f) => f.path);

// ---- 2. what the tarball holds ------------------------------------------------------------------

const unwanted = [
  [/^(test|bench|build|examples|scripts|docs|node_modules|\.ci)\//, "tests, benchmarks, build output, examples, scripts or docs"],
  [/^(src|kernels)\//, "TypeScript sources (dist/ has the JS, its source maps embed the sources, dist/types the declarations)"],
  [/(^|\/)results\//, "benchmark results"],
  [/\.(test|spec)\.[cm]?[jt]s$/, "a test file"],
  [/\.tsbuildinfo$|(^|\/)\.DS_Store$|\.log$|\.tgz$/, "a build or editor leftover"],
];
const bad = [];
for (const f of files) for (const [pattern, why] of unwanted) if (pattern.test(f)) bad.push(`${f} (${why})`);
if (bad.length > 0) fail(`the tarball holds what a user does not need:\n  ${bad.slice(0, 20).join("\n  ")}${bad.length > 20 ? `\n  ... ${bad.length - 20} more` : ""}`);
const needed = [...builtFiles, "package.json", "README.md", "bin/sabre.js", "data/digits.csv.gz"];
const missing = needed.filter((f) => !files.includes(f));
if (missing.length > 0) fail(`the tarball lacks ${missing.join(", ")}`);
const byTop = new Map();
for (const f of info.files) {
  const top = f.path.startsWith("dist/types/") ? "dist/types" : f.path.endsWith(".map") ? "dist/*.map" : f.path.includes("/") ? f.path.split("/")[0] : f.path;
  const e = byTop.get(top) ?? { n: 0, bytes: 0 };
  e.n++;
  e.bytes += f.size;
  byTop.set(top, e);
}
const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
console.log(
  `pack-check: ${info.filename}: ${kib(info.size)} packed, ${kib(info.unpackedSize)} unpacked, ${info.entryCount} files ` +
    `(${[...byTop].sort((a, b) => b[1].bytes - a[1].bytes).map(([k, e]) => `${k} ${e.n} / ${kib(e.bytes)}`).join(", ")})` +
    (fresh ? "" : "; built in a temporary copy (dist/ here was older than src/)"),
);

// ---- 3. a fresh project that installs it -------------------------------------------------------

const app = join(work, "app");
mkdirSync(join(app, "ts"), { recursive: true });
const nodeTypes = (() => {
  try {
    const v = JSON.parse(execFileSync(process.execPath, ["-p", "JSON.stringify(require('@types/node/package.json').version)"], { cwd: root, encoding: "utf8" }));
    return `^${v.split(".")[0]}`;
  } catch {
    return "^20";
  }
})();
writeFileSync(
  join(app, "package.json"),
  JSON.stringify({ name: "sabre-pack-check-app", private: true, type: "module", dependencies: { sabre: `file:${tarball}` }, devDependencies: { "@types/node": nodeTypes } }, null, 2),
);

// An ESM user: a kernel module and a main script.
writeFileSync(
  join(app, "kernels.mjs"),
  `import { defineKernels } from "sabre/worker";
export default defineKernels({
  "app.sumSquares"({ start, end }, { x, total, lock, hits }) {
    let s = 0;
    for (let i = start; i < end; i++) s += x.data[i] * x.data[i];
    total.value += s;
    lock.withLock(() => { hits[0] += end - start; });
  },
});
`,
);
writeFileSync(
  join(app, "main.mjs"),
  `import { Engine, Mutex, reduction, readOnly, shared, ops } from "sabre";
const n = 10_000;
const x = shared.zeros("float64", [n]);
for (let i = 0; i < n; i++) x.data[i] = i % 7;
const engine = await Engine.start({ threads: 3, kernels: [new URL("./kernels.mjs", import.meta.url)] });
try {
  const total = reduction(0, "sum");
  const hits = shared.zeros("int32", [1]).data;
  await engine.parallelFor(n, "app.sumSquares", { x: readOnly(x), total, lock: new Mutex(), hits }, { chunk: 100 });
  let expect = 0;
  let plain = 0;
  for (let i = 0; i < n; i++) (expect += (i % 7) ** 2), (plain += i % 7);
  const sum = await ops.sum(x, { engine });
  if (total.value !== expect || hits[0] !== n || sum !== plain) throw new Error(\`wrong: \${total.value} \${expect} \${hits[0]} \${sum}\`);
  console.log(\`ok \${total.value} \${hits[0]} \${sum}\`);
} finally {
  await engine.close();
}
`,
);

// A TypeScript user: the same kernel module and main, typed.
writeFileSync(
  join(app, "ts", "kernels.ts"),
  `import { defineKernels, type Mutex, type NdArray } from "sabre/worker";
export interface SumArgs { x: NdArray<Float64Array>; total: { value: number }; lock: Mutex; hits: Int32Array }
export default defineKernels({
  "app.sumSquares"({ start, end }, { x, total, lock, hits }: SumArgs) {
    let s = 0;
    for (let i = start; i < end; i++) s += x.get(i) ** 2;
    total.value += s;
    lock.withLock(() => { hits[0] = (hits[0] ?? 0) + end - start; });
  },
});
`,
);
writeFileSync(
  join(app, "ts", "main.ts"),
  `import { Engine, Mutex, Reduction, reduction, readOnly, shared, RandomForestClassifier, type ReductionValue } from "sabre";
import { rng, Barrier, defineDataset } from "sabre/worker";

const x = shared.zeros("float64", [100]);
rng(1).fillFloat(x.data);
const engine = await Engine.start({ threads: 2, kernels: [new URL("./kernels.js", import.meta.url)] });
const total = reduction(0, "sum");
const hist = reduction(new Float64Array(4));
const fromArray = reduction([0, 0], "max");
const fromNd = reduction(shared.zeros("float64", [3]), "min");
await engine.parallelFor(100, "app.sumSquares", { x: readOnly(x), total, lock: new Mutex(), hits: new Int32Array(new SharedArrayBuffer(4)) });
// The value's type follows the initial value: no cast.
const next: number = total.value + 1;
const width: number = hist.value.length + fromArray.value.length + fromNd.value.length;
const first: number | undefined = hist.value[0];
// @ts-expect-error an elementwise reduction's value is a Float64Array, not a number
hist.value satisfies number;
// @ts-expect-error a scalar reduction's value is a number, not an array
total.value.length;
const general: Reduction = total; // Reduction<number> is a Reduction
const v: ReductionValue = general.value;
const rf = new RandomForestClassifier({ nEstimators: 5, seed: 1 });
const b = new Barrier(2);
const ds = defineDataset({ fields: { a: { dtype: "float32", shape: [2] } }, length: () => 1, getItem: () => ({ a: [1, 1] }) });
console.log(next, width, first, v, rf.nEstimators, b, ds);
await engine.close();
`,
);
const tsBase = { target: "ES2022", lib: ["ES2024", "ESNext.Disposable"], types: ["node"], strict: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: false };
writeFileSync(join(app, "tsconfig.node16.json"), JSON.stringify({ compilerOptions: { ...tsBase, module: "node16", moduleResolution: "node16" }, include: ["ts"] }, null, 2));
writeFileSync(join(app, "tsconfig.bundler.json"), JSON.stringify({ compilerOptions: { ...tsBase, module: "esnext", moduleResolution: "bundler" }, include: ["ts"] }, null, 2));

run(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], app, "npm install of the tarball");
const installed = join(app, "node_modules", "sabre");
if (lstatSync(installed).isSymbolicLink() || !existsSync(join(installed, "dist", "index.js"))) fail("sabre was not installed from the tarball");

const ran = run(process.execPath, ["main.mjs"], app, "the ESM script");
if (!/^ok /m.test(ran)) fail(`the ESM script printed:\n${ran}`);
const bin = run(join(app, "node_modules", ".bin", "sabre"), ["info"], app, "the sabre bin (sabre info)");
for (const config of ["tsconfig.node16.json", "tsconfig.bundler.json"]) run(process.execPath, [tsc, "-p", config], app, `tsc -p ${config} (moduleResolution ${config.split(".")[1]})`);

console.log(
  `pack-check: installed into a fresh project: the ESM script ran a sabre/worker kernel module (${ran.trim()}), ` +
    `sabre info answered (${bin.split("\n").length} lines), the TypeScript files type-check with moduleResolution node16 and bundler; ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
if (keep) console.log(`pack-check: left ${work}`);
else rmSync(work, { recursive: true, force: true });
