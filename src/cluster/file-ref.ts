// Data named by a path every host can read (.npy, IDX, CSV), for arrays that
// should not go through Redis: the job carries the path, each host reads the
// file once and keeps it (re-read when its size or mtime changes).
import { stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { ClusterError, SabreTypeError } from "../errors.js";
import { readCsv } from "../data/csv.js";
import { readIdx } from "../data/idx.js";
import { readNpy } from "../data/npy.js";
import { describe } from "../validate.js";

/** How a cluster file is read: by readNpy, readIdx or readCsv. */
export type FileFormat = "npy" | "idx" | "csv";

/** A file arg of cluster.parallelFor: what `Cluster.file(path)` returns. */
export class ClusterFile {
  constructor(
    /** The absolute path, the same on every host. */
    readonly path: string,
    /** How the hosts read it. */
    readonly format: FileFormat,
  ) {}
}

function formatOf(path: string): FileFormat | undefined {
  const p = path.toLowerCase().replace(/\.gz$/, "");
  if (p.endsWith(".npy")) return "npy";
  if (p.endsWith(".csv")) return "csv";
  if (p.endsWith(".idx") || /-ubyte$/.test(p) || /\.idx\d-ubyte$/.test(p)) return "idx";
  return undefined;
}

/** Checks a file reference on the calling side: an absolute path (the same on every host) or a file: URL, of a known format. */
export function clusterFile(path: string | URL, format?: FileFormat): ClusterFile {
  let p: string;
  if (path instanceof URL) p = fileURLToPath(path);
  else if (typeof path === "string" && path.startsWith("file:")) p = fileURLToPath(path);
  else if (typeof path === "string") p = path;
  else throw new SabreTypeError(`Cluster.file takes an absolute path or a file: URL, got ${describe(path)}`);
  if (!isAbsolute(p)) throw new SabreTypeError(`Cluster.file needs an absolute path (every host reads the same path), got ${JSON.stringify(p)}`);
  const f = format ?? formatOf(p);
  if (f !== "npy" && f !== "idx" && f !== "csv") throw new SabreTypeError(`Cluster.file: cannot tell the format of ${JSON.stringify(p)}; pass "npy", "idx" or "csv"`);
  return new ClusterFile(p, f);
}

/** A host's files, read once each (again when the file changed). Values are shared by the host's jobs: kernels must only read them. */
export class FileCache {
  private readonly entries = new Map<string, { key: string; value: Promise<unknown> }>();

  async get(path: string, format: FileFormat): Promise<unknown> {
    let key: string;
    try {
      const s = await stat(path);
      key = `${format}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      throw new ClusterError("ERR_SABRE_CLUSTER_FILE", `cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    const hit = this.entries.get(path);
    if (hit && hit.key === key) return hit.value;
    const value = (async (): Promise<unknown> => {
      try {
        if (format === "npy") return await readNpy(path);
        if (format === "idx") return await readIdx(path);
        const t = await readCsv(path);
        return { X: t.X, y: t.y, columns: t.columns, target: t.target };
      } catch (err) {
        throw new ClusterError("ERR_SABRE_CLUSTER_FILE", `cannot read ${path}: ${(err as Error).message}`, { cause: err });
      }
    })();
    this.entries.set(path, { key, value });
    value.catch(() => this.entries.delete(path));
    return value;
  }
}
