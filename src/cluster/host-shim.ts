// The one kernel a host adds to its Engine: "sabre.cluster.chunk" runs a
// named kernel of the host's own modules on one cluster chunk [start, end)
// (the Engine's parallelFor always numbers from 0, and a cluster chunk is
// one job), with private reduction accumulators it hands back. It is a
// generated module because it imports the modules named on the host's
// command line (the same instances the Engine loaded: ESM caches by URL).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const CHUNK_KERNEL = "sabre.cluster.chunk";
/** The args key the host's meta travels under (user args are its siblings, so clauses stay top-level). */
export const META_KEY = "__sabreCluster";

/** What the host asks of the shim. */
export interface ShimMeta {
  /** Just list the kernels of the modules. */
  list?: boolean;
  kernel: string;
  start: number;
  end: number;
  chunk: number;
  nChunks: number;
  /** Names of the args that are reduction accumulators, handed back with the result. */
  reductions: string[];
}

export interface ShimResult {
  value: unknown;
  partials: Record<string, unknown>;
}

function source(modules: string[]): string {
  const imports = modules.map((url, i) => `import * as m${i} from ${JSON.stringify(url)};`).join("\n");
  return `${imports}
const KERNELS = Symbol.for("sabre.kernels");
const table = new Map();
for (const mod of [${modules.map((_, i) => `m${i}`).join(", ")}]) {
  const exported = mod.default ?? mod;
  const kernels = exported && exported[KERNELS] === true ? exported.kernels : exported;
  for (const [name, fn] of Object.entries(kernels ?? {})) if (typeof fn === "function") table.set(name, fn);
}
export default {
  async ${JSON.stringify(CHUNK_KERNEL)}(ctx, args) {
    const meta = args[${JSON.stringify(META_KEY)}];
    if (meta.list) return { value: [...table.keys()], partials: {} };
    const fn = table.get(meta.kernel);
    if (!fn) throw new Error("no kernel " + JSON.stringify(meta.kernel));
    const userArgs = { ...args };
    delete userArgs[${JSON.stringify(META_KEY)}];
    const c = { start: meta.start, end: meta.end, chunk: meta.chunk, nChunks: meta.nChunks, threadId: ctx.threadId, threads: ctx.threads, kernel: meta.kernel };
    const value = await fn(c, userArgs);
    const partials = {};
    for (const name of meta.reductions) partials[name] = userArgs[name];
    return { value, partials };
  },
};
`;
}

/** Writes the shim for these module URLs into a fresh temporary folder and returns its file: URL. */
export function writeShim(modules: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "sabre-host-"));
  const file = join(dir, "cluster-shim.mjs");
  writeFileSync(file, source(modules));
  return pathToFileURL(file).href;
}
