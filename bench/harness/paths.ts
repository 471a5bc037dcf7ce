import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Benchmarks run from their built copies (build/bench/...), and the harness is
 * bundled into each of them, so paths are found by walking up from the running
 * file to the package root rather than by fixed relative hops.
 */
let cachedRoot: string | undefined;

/** The sabre package root (the folder whose package.json is named "sabre"). */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === "sabre") return (cachedRoot = dir);
      } catch {
        // an unreadable package.json is not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no sabre package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** bench/results (committed figures). */
export function resultsDir(): string {
  const dir = join(repoRoot(), "bench", "results");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** bench/.cache (git-ignored: compiled anchors and other build products). */
export function cacheDir(): string {
  const dir = join(repoRoot(), "bench", ".cache");
  mkdirSync(dir, { recursive: true });
  return dir;
}
