#!/usr/bin/env node
// The one command for this example:
//
//   node examples/two-hosts/run.mjs [--redis redis://HOST:PORT] [--threads N]
//
// It plays a two-machine cluster on this one: a redis-server on a free port
// (unless --redis names one), two `sabre worker` hosts (each its own
// process with its own Engine of N threads, default 1), then main.mjs, the
// program that uses them; it stops everything it started when main.mjs ends.
// Needs redis-server on the PATH (Debian/Ubuntu: apt-get install redis-server)
// or a Redis reachable at --redis.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const sabre = join(here, "..", "..", "bin", "sabre.js");
const kernels = join(here, "kernels.mjs");
const arg = (name) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const threads = arg("threads") ?? "1";

const children = [];
function start(cmd, args, name, ready) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s:\n${out}`)), 20_000);
    const seen = (d) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code}:\n${out}`));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

let code = 1;
try {
  let redis = arg("redis");
  if (redis === undefined) {
    if (spawnSync("redis-server", ["--version"]).status !== 0) {
      console.error("two-hosts: redis-server is not on the PATH (apt-get install redis-server), and no --redis URL was given");
      process.exit(2);
    }
    const port = await freePort();
    // No persistence: a scratch Redis that lives as long as this example.
    await start("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], "redis-server", /Ready to accept connections/);
    redis = `redis://127.0.0.1:${port}`;
    console.log(`redis-server on ${redis}`);
  }
  // Two hosts. On real machines each runs this same command, pointed at the shared Redis.
  await Promise.all(
    ["host-a", "host-b"].map((name) =>
      start(process.execPath, [sabre, "worker", "--redis", redis, "--threads", threads, "--name", name, "--kernels", kernels], name, /serving queue/),
    ),
  );
  console.log(`two hosts started: node bin/sabre.js worker --redis ${redis} --threads ${threads} --kernels examples/two-hosts/kernels.mjs`);
  const main = spawn(process.execPath, [join(here, "main.mjs"), "--redis", redis], { stdio: "inherit" });
  code = await new Promise((resolve) => main.on("exit", (c) => resolve(c ?? 1)));
} catch (err) {
  console.error(`two-hosts: ${err.message}`);
} finally {
  // Hosts first (they would log Redis errors if it went first), then Redis.
  for (const child of children.reverse()) {
    child.removeAllListeners("exit");
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await gone;
    }
  }
}
process.exit(code);
