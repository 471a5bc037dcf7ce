// Builds the package (dist/) and, with --tests / --bench, the test and benchmark
// files (build/). Everything is bundled by esbuild as ESM with code splitting,
// so the main-thread API, the `sabre/worker` API and the worker entry share
// one copy of each module (one Mutex class, one serialize registry per thread).
// Declarations for TypeScript consumers come from tsc (tsconfig.types.json).
import { build } from "esbuild";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = new Set(process.argv.slice(2));

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  // Dependencies stay in node_modules: threads.js must not be bundled into ESM
  // (its CJS requires break there), and users get one copy of ndarray.
  packages: "external",
  sourcemap: "linked",
  // Classes keep their names (StandardScaler.name is "StandardScaler", not "_StandardScaler"):
  // users see them in messages, logs and the REPL.
  keepNames: true,
  logLevel: "warning",
};

/**
 * Bundles the worker side of threads.js (`threads/worker`, what the worker
 * entry imports) into the package instead of leaving it in node_modules:
 * every engine worker then loads one ESM chunk rather than a dozen CommonJS
 * files through the CJS loader (~0.5 MiB of RSS less per worker, measured
 * with 8 workers). Its one runtime require, `eval("require")("worker_threads")`
 * (hidden from webpack), is replaced by an import; it requires one package,
 * is-observable, bundled too. The main side (`threads`) stays external: see
 * `packages` below.
 */
const threadsWorkerInside = {
  name: "threads-worker-inside",
  setup(b) {
    const req = createRequire(join(root, "package.json"));
    const threadsDir = dirname(req.resolve("threads/worker"));
    const threadsReq = createRequire(join(threadsDir, "package.json"));
    b.onResolve({ filter: /^threads\/worker$/ }, () => ({ path: join(threadsDir, "worker.mjs") }));
    b.onResolve({ filter: /^is-observable$/ }, (args) =>
      args.importer.startsWith(threadsDir) ? { path: threadsReq.resolve("is-observable") } : undefined,
    );
    b.onLoad({ filter: /[\\/]threads[\\/]dist[\\/]worker_threads\.js$/ }, () => ({
      contents: 'import * as implementation from "node:worker_threads";\nexport default function getImplementation() { return implementation; }\n',
      loader: "js",
    }));
  },
};

function findFiles(dir, pattern) {
  const out = [];
  if (!existsSync(join(root, dir))) return out;
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) out.push(...findFiles(rel, pattern));
    else if (pattern.test(name)) out.push(rel);
  }
  return out;
}

async function buildPackage() {
  rmSync(join(root, "dist"), { recursive: true, force: true });
  const entries = {
    index: "src/index.ts",
    worker: "src/worker.ts",
    cli: "src/cli/main.ts",
    "worker-entry": "kernels/entry.ts",
  };
  for (const [name, file] of Object.entries(entries)) if (!existsSync(join(root, file))) delete entries[name];
  await build({ ...common, entryPoints: entries, outdir: "dist", splitting: true, chunkNames: "chunks/[name]-[hash]", plugins: [threadsWorkerInside] });
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.types.json"], {
    cwd: root,
    stdio: "inherit",
  });
  if (tsc.status !== 0) throw new Error("tsc could not emit the type declarations");
}

async function buildDir(dir, pattern) {
  const files = findFiles(dir, pattern);
  if (files.length === 0) return;
  const entryPoints = Object.fromEntries(files.map((f) => [relative(dir, f).replace(/\.ts$/, ""), f]));
  // No splitting: each test or bench file is self-contained, so import.meta.url is its own.
  await build({ ...common, entryPoints, outdir: join("build", dir) });
}

if (!args.has("--no-package")) await buildPackage();
if (args.has("--tests")) {
  rmSync(join(root, "build/test"), { recursive: true, force: true });
  await buildDir("test", /\.ts$/);
}
if (args.has("--bench")) {
  rmSync(join(root, "build/bench"), { recursive: true, force: true });
  await buildDir("bench", /\.ts$/);
}
