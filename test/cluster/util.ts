// Cluster test helpers: a real redis-server on a free port, real `sabre worker` processes.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** Repository root (this file is built to build/test/cluster/<name>.test.js). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const KERNELS = fileURLToPath(new URL("./fixtures/cluster-kernels.js", import.meta.url));

/**
 * Whether the cluster tests can run: redis-server on the PATH. Without it
 * they print one line and are skipped, unless SABRE_REQUIRE_REDIS=1 (CI),
 * where the skip is a failure.
 */
export function redisAvailable(file: string): boolean {
  const found = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (found.status === 0) return true;
  if (process.env["SABRE_REQUIRE_REDIS"] === "1") {
    throw new Error(`${file}: redis-server is not on the PATH and SABRE_REQUIRE_REDIS=1: install it (apt-get install -y redis-server)`);
  }
  console.log(`${file}: skipped, redis-server is not on the PATH (install it: apt-get install -y redis-server)`);
  return false;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms: ${out}`)), ms);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve(m[0]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${out}`));
    });
  });
}

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  await waitForLine(child, /Ready to accept connections/, "redis-server", 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: async () => void (await stopChild(child, "SIGKILL")),
  };
}

export interface Host {
  name: string;
  process: ChildProcess;
  /** Everything it printed (stdout and stderr). */
  output(): string;
}

export async function startHost(url: string, name: string, threads: number, kernels = true): Promise<Host> {
  const args = [`${ROOT}bin/sabre.js`, "worker", "--redis", url, "--threads", String(threads), "--name", name];
  if (kernels) args.push("--kernels", KERNELS);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  await waitForLine(child, /serving queue/, `host ${name}`, 20_000);
  return { name, process: child, output: () => out };
}

/** Sends `signal` and resolves with the exit code once the process is gone. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill(signal);
  });
}

export async function stopHosts(hosts: Host[]): Promise<void> {
  await Promise.all(hosts.map((h) => stopChild(h.process, "SIGKILL")));
}

/** Runs the CLI and returns its exit code and output. */
export function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${ROOT}bin/sabre.js`, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
