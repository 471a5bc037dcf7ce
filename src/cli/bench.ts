import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../package-root.js";

/**
 * `sabre bench [suite]`: builds and runs the benchmarks of bench/ (they need
 * a clone of the repository, its devDependencies and, for some peers,
 * Debian packages: see bench/README.md).
 */
export function bench(argv: string[]): number {
  const root = packageRoot();
  if (!existsSync(join(root, "bench", "run.ts")) || !existsSync(join(root, "scripts", "build.mjs"))) {
    process.stderr.write("sabre bench: the benchmarks run from a clone of the sabre repository (bench/ and scripts/ are not installed)\n");
    return 2;
  }
  const build = spawnSync(process.execPath, [join(root, "scripts", "build.mjs"), "--no-package", "--bench"], { stdio: "inherit", cwd: root });
  if (build.status !== 0) return build.status ?? 1;
  const run = spawnSync(process.execPath, [join(root, "build", "bench", "run.js"), ...argv], { stdio: "inherit", cwd: root });
  return run.status ?? 1;
}
