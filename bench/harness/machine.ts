import os from "node:os";

/** What a result was measured on: printed above every table and written into every results file. */
export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly node: string;
  readonly os: string;
  readonly memoryGiB: number;
  readonly date: string;
  /** 1-minute load average when the run started: above the core count, other work shared the cores. */
  readonly load: number;
  /** GLIBC_TUNABLES of this process (hugetlb=1 lets glibc back large buffers with transparent huge pages), or "" when unset. */
  readonly glibcTunables: string;
}

export function machineInfo(): Machine {
  const cpus = os.cpus();
  return {
    cores: os.availableParallelism(),
    cpu: cpus[0]?.model.trim() || "unknown CPU",
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    load: os.loadavg()[0] ?? 0,
    glibcTunables: process.env.GLIBC_TUNABLES ?? "",
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cores} cores (os.availableParallelism), ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}, ${m.date}, load ${m.load.toFixed(2)}`;
}

/** The 1-minute load average now. */
export function currentLoad(): number {
  return os.loadavg()[0] ?? 0;
}
