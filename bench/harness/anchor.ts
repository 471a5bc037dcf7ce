import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { Skip, WrongAnswer } from "./measure.js";
import { cacheDir, repoRoot } from "./paths.js";

/**
 * Native anchors: small C programs that measure what the machine itself does
 * (pthread mutexes, barriers, memory bandwidth), so a sabre figure can be put
 * against the hardware rather than only against other JavaScript.
 *
 * The binary is cached in bench/.cache/ under a hash of the source, the flags
 * and the compiler's version, so a changed source or compiler rebuilds it and
 * an unchanged one is not rebuilt on every run.
 *
 *   const bin = buildAnchor("bench/anchors/pthread_sync.c", ["-O2", "-pthread"]);
 *   const out = await runAnchor(bin);
 *   const { unc } = parseFigures(out, { unc: /uncontended lock\+unlock: ([\d.]+) ns/ });
 */

const GCC_HINT = "gcc not found: install it with `apt-get install gcc` (Debian/Ubuntu)";

let gccVersion: string | null | undefined;

/** The first line of `gcc --version`, or null when gcc is missing. */
export function gcc(): string | null {
  if (gccVersion !== undefined) return gccVersion;
  const r = spawnSync("gcc", ["--version"], { encoding: "utf8" });
  gccVersion = r.status === 0 ? (r.stdout.split("\n")[0] ?? "gcc") : null;
  return gccVersion;
}

/**
 * Compiles `source` (a path relative to the package root, or absolute) with
 * gcc and returns the cached binary's path. Throws Skip with an install hint
 * when gcc is missing; a compile error is thrown as is (the source is ours).
 */
export function buildAnchor(source: string, flags: readonly string[] = ["-O2"]): string {
  const version = gcc();
  if (version === null) throw new Skip(GCC_HINT);
  const path = source.startsWith("/") ? source : join(repoRoot(), source);
  const text = readFileSync(path);
  const hash = createHash("sha256").update(text).update("\0").update(flags.join(" ")).update("\0").update(version).digest("hex");
  const binary = join(cacheDir(), `${basename(path, ".c")}-${hash.slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  // Compile to a private name, then rename: two runs at once never execute a half-written binary.
  const tmp = `${binary}.${process.pid}.tmp`;
  const r = spawnSync("gcc", [...flags, "-o", tmp, path], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`gcc failed on ${path}:\n${r.stderr}`);
  }
  renameSync(tmp, binary);
  return binary;
}

/** Runs an anchor binary and resolves with its stdout; a non-zero exit or a timeout rejects. */
export function runAnchor(binary: string, args: readonly string[] = [], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${basename(binary)} failed: ${err.message}${stderr ? `\n${stderr}` : ""}`));
      else resolve(stdout);
    });
  });
}

/**
 * Pulls numbers out of an anchor's output: each pattern's first capture
 * group. A pattern that does not match means the anchor's output changed,
 * which must not pass silently.
 */
export function parseFigures<K extends string>(output: string, patterns: Record<K, RegExp>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(patterns) as K[]) {
    const m = patterns[key].exec(output);
    const v = m?.[1] === undefined ? NaN : Number(m[1]);
    if (!Number.isFinite(v)) throw new WrongAnswer(`anchor output has no figure for ${key} (${patterns[key]}):\n${output}`);
    out[key] = v;
  }
  return out;
}
