// `sabre cluster status`: a cluster's hosts and jobs.
import { parseArgs } from "node:util";
import { SabreTypeError } from "../errors.js";
import { Cluster } from "../cluster/cluster.js";

export const CLUSTER_USAGE = `usage:
  sabre cluster status --redis <url> [--queue Q] [--json]

lists the hosts serving the queue (name, threads, pid, jobs done, running,
kernels) from their heartbeats, and the jobs waiting, running and failed.
`;

export async function clusterCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(CLUSTER_USAGE);
    return 0;
  }
  if (sub !== "status") throw new SabreTypeError(`sabre cluster: unknown subcommand ${JSON.stringify(sub ?? "")} (known: status)`);
  const { values } = parseArgs({
    args: rest,
    options: { redis: { type: "string" }, queue: { type: "string" }, password: { type: "string" }, json: { type: "boolean", default: false } },
  });
  if (values.redis === undefined) throw new SabreTypeError("sabre cluster status needs --redis <url>");
  const cluster = await Cluster.connect({
    redis: values.redis,
    ...(values.queue !== undefined ? { queue: values.queue } : {}),
    ...(values.password !== undefined ? { password: values.password } : {}),
  });
  try {
    const [hosts, jobs] = await Promise.all([cluster.hosts(), cluster.jobCounts()]);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ queue: cluster.queue, hosts, jobs })}\n`);
      return 0;
    }
    const threads = hosts.reduce((s, h) => s + h.threads, 0);
    process.stdout.write(`queue "${cluster.queue}": ${hosts.length} hosts, ${threads} threads; jobs: ${jobs.waiting} waiting, ${jobs.running} running, ${jobs.failed} failed, ${jobs.completed} completed (kept 10 min)\n`);
    if (hosts.length > 0) {
      const rows = [["host", "threads", "pid", "jobs", "running", "started", "kernels"], ...hosts.map((h) => [h.name, String(h.threads), String(h.pid), String(h.jobs), String(h.running), h.startedAt, h.kernels.join(",") || "-"])];
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      for (const r of rows) process.stdout.write(`  ${r.map((v, c) => v.padEnd(widths[c]!)).join("  ").trimEnd()}\n`);
    }
    return 0;
  } finally {
    await cluster.close();
  }
}
