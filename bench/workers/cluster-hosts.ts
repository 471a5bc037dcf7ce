// The cluster suite's processes: a redis-server on a free port and `sabre worker` hosts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** Repository root (this module is bundled into build/bench/cluster.js). */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export function redisServerPresent(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitFor(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 30_000);
    const on = (c: Buffer): void => {
      out += c.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${out}`));
    });
  });
}

export async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  await waitFor(child, /Ready to accept connections/, "redis-server");
  return { url: `redis://127.0.0.1:${port}`, child };
}

export async function startHost(url: string, name: string, threads: number, queue: string, kernels: string[] = []): Promise<ChildProcess> {
  const args = [`${ROOT}bin/sabre.js`, "worker", "--redis", url, "--threads", String(threads), "--name", name, "--queue", queue];
  if (kernels.length > 0) args.push("--kernels", ...kernels);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  await waitFor(child, /serving queue/, `host ${name}`);
  return child;
}

export function stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}
