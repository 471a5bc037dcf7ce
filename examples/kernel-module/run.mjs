#!/usr/bin/env node
// The one command for this example:
//
//   node examples/kernel-module/run.mjs [--n N] [--threads N]
//
// TypeScript does not run in Node 20 as it is, and a kernel module is loaded
// by worker threads, so both files are compiled first: tsc (the project's
// devDependency) type-checks kernels.ts and main.ts against sabre's
// declarations and writes build/kernels.js and build/main.js beside them;
// then build/main.js runs with the arguments given here. In your own project
// the same two steps are `npx tsc -p .` and `node build/main.js`.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");

const compiled = spawnSync(process.execPath, [tsc, "-p", join(here, "tsconfig.json")], { stdio: "inherit" });
if (compiled.status !== 0) {
  console.error("kernel-module: tsc failed (run `npm install` at the repository root first: it builds sabre's declarations)");
  process.exit(compiled.status ?? 1);
}
const ran = spawnSync(process.execPath, [join(here, "build", "main.js"), ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(ran.status ?? 1);
