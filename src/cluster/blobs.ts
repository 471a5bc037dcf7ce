// Arrays as content-addressed blobs in Redis: put once per hash by the
// calling side, fetched once per host and kept in its shared memory.
import type { Redis } from "ioredis";
import { ClusterError } from "../errors.js";
import { allocShared } from "../memory/shared.js";
import { BLOB_CHUNK, BLOB_TTL_S, MAX_BLOB_BYTES } from "./protocol.js";
import { COMMAND_TIMEOUT_MS, within } from "./redis.js";
import { hashBytes, type Blob } from "./wire.js";

function metaKey(prefix: string, hash: string): string {
  return `${prefix}:blob:${hash}`;
}

function chunkKey(prefix: string, hash: string, i: number): string {
  return `${prefix}:blob:${hash}:${i}`;
}

/** Refuses a blob over MAX_BLOB_BYTES before anything is written. */
export function checkBlobSize(blob: Blob, what: string): void {
  if (blob.bytes.byteLength > MAX_BLOB_BYTES) {
    throw new ClusterError(
      "ERR_SABRE_CLUSTER_LIMIT",
      `${what}: an array of ${blob.bytes.byteLength} bytes is over the cluster's limit of ${MAX_BLOB_BYTES} bytes per array; name a file every host can read instead`,
    );
  }
}

/** Pieces written or read per round trip: a pipeline of this many BLOB_CHUNK pieces. */
const PIECES_PER_TRIP = 8;

/**
 * Puts blobs that Redis does not hold yet (their meta key is written last,
 * so a blob whose meta exists is whole); refreshes the TTL of the others.
 * Pieces go BLOB_CHUNK at a time, PIECES_PER_TRIP per pipeline.
 */
export async function putBlobs(redis: Redis, prefix: string, blobs: Iterable<Blob>): Promise<void> {
  for (const blob of blobs) {
    checkBlobSize(blob, "args");
    const meta = metaKey(prefix, blob.hash);
    const n = Math.max(1, Math.ceil(blob.bytes.byteLength / BLOB_CHUNK));
    const exists = await within(redis.exists(meta), COMMAND_TIMEOUT_MS, "checking a blob");
    if (exists === 1) {
      const p = redis.pipeline();
      p.expire(meta, BLOB_TTL_S);
      for (let i = 0; i < n; i++) p.expire(chunkKey(prefix, blob.hash, i), BLOB_TTL_S);
      await within(p.exec(), COMMAND_TIMEOUT_MS, "refreshing a blob");
      continue;
    }
    for (let i0 = 0; i0 < n; i0 += PIECES_PER_TRIP) {
      const p = redis.pipeline();
      for (let i = i0; i < Math.min(n, i0 + PIECES_PER_TRIP); i++) {
        const part = blob.bytes.subarray(i * BLOB_CHUNK, Math.min(blob.bytes.byteLength, (i + 1) * BLOB_CHUNK));
        p.set(chunkKey(prefix, blob.hash, i), Buffer.from(part.buffer, part.byteOffset, part.byteLength), "EX", BLOB_TTL_S);
      }
      failedPipeline(await within(p.exec(), COMMAND_TIMEOUT_MS, "putting a blob"), "putting a blob");
    }
    await within(redis.set(meta, JSON.stringify({ bytes: blob.bytes.byteLength, chunks: n }), "EX", BLOB_TTL_S), COMMAND_TIMEOUT_MS, "putting a blob");
  }
}

/** A pipeline's first error, thrown (exec resolves even when its commands failed). */
function failedPipeline(results: Array<[Error | null, unknown]> | null, what: string): Array<[Error | null, unknown]> {
  if (results === null) throw new ClusterError("ERR_SABRE_CLUSTER_REDIS", `${what}: the pipeline was discarded`);
  for (const [err] of results) if (err) throw new ClusterError("ERR_SABRE_CLUSTER_REDIS", `${what}: ${err.message}`, { cause: err });
  return results;
}

/**
 * Reads a blob from Redis into shared memory and checks it against its
 * hash: a torn, missing or tampered blob is a ClusterError, never used.
 */
export async function fetchBlob(redis: Redis, prefix: string, hash: string): Promise<Uint8Array> {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `malformed blob hash ${JSON.stringify(hash)}`);
  const metaText = await within(redis.get(metaKey(prefix, hash)), COMMAND_TIMEOUT_MS, "reading a blob");
  if (metaText === null) {
    throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `blob ${hash.slice(0, 12)} is not in Redis (expired after ${BLOB_TTL_S} s unused, or evicted); call again`);
  }
  let meta: { bytes: number; chunks: number };
  try {
    meta = JSON.parse(metaText) as { bytes: number; chunks: number };
  } catch {
    throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `blob ${hash.slice(0, 12)}: malformed meta ${metaText}`);
  }
  if (!(Number.isInteger(meta.bytes) && meta.bytes >= 0 && meta.bytes <= MAX_BLOB_BYTES && Number.isInteger(meta.chunks) && meta.chunks >= 1 && meta.chunks <= Math.max(1, meta.bytes))) {
    throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `blob ${hash.slice(0, 12)}: malformed meta ${metaText}`);
  }
  const out = new Uint8Array(allocShared(meta.bytes), 0, meta.bytes);
  let at = 0;
  for (let i0 = 0; i0 < meta.chunks; i0 += PIECES_PER_TRIP) {
    const p = redis.pipeline();
    const last = Math.min(meta.chunks, i0 + PIECES_PER_TRIP);
    for (let i = i0; i < last; i++) p.getBuffer(chunkKey(prefix, hash, i));
    const parts = failedPipeline(await within(p.exec(), COMMAND_TIMEOUT_MS, "reading a blob"), "reading a blob");
    parts.forEach(([, part], k) => {
      if (!(part instanceof Uint8Array) || at + part.byteLength > meta.bytes) throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `blob ${hash.slice(0, 12)}: piece ${i0 + k} missing or too long`);
      out.set(part, at);
      at += part.byteLength;
    });
  }
  // The hash names the content: a torn or tampered blob is refused, never used.
  if (at !== meta.bytes || hashBytes(out) !== hash) throw new ClusterError("ERR_SABRE_CLUSTER_PROTOCOL", `blob ${hash.slice(0, 12)}: content does not match its hash`);
  return out;
}

/** Deletes a blob that served its one purpose (a job's trees), best effort. */
export async function dropBlob(redis: Redis, prefix: string, hash: string): Promise<void> {
  try {
    const meta = await within(redis.get(metaKey(prefix, hash)), COMMAND_TIMEOUT_MS, "dropping a blob");
    const chunks = meta ? (JSON.parse(meta) as { chunks: number }).chunks : 0;
    const keys = [metaKey(prefix, hash), ...Array.from({ length: chunks }, (_, i) => chunkKey(prefix, hash, i))];
    await within(redis.del(...keys), COMMAND_TIMEOUT_MS, "dropping a blob");
  } catch {
    // it expires with its TTL
  }
}

/** A host's blobs, in shared memory, least recently used dropped first past `capacity` bytes. */
export class BlobCache {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;
  private readonly loading = new Map<string, Promise<Uint8Array>>();
  /** Blobs fetched from Redis and bytes moved (for the bench and status). */
  fetched = 0;
  fetchedBytes = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly capacity: number,
  ) {}

  /** A blob already here (refreshing its place), or undefined. */
  peek(hash: string): Uint8Array | undefined {
    const hit = this.entries.get(hash);
    if (hit) {
      this.entries.delete(hash);
      this.entries.set(hash, hit);
    }
    return hit;
  }

  /** Makes sure every hash is here, fetching what is not (one fetch per hash even when jobs ask at once). */
  async ensure(hashes: Iterable<string>): Promise<void> {
    await Promise.all([...hashes].map((h) => this.get(h)));
  }

  get(hash: string): Promise<Uint8Array> {
    const hit = this.peek(hash);
    if (hit) return Promise.resolve(hit);
    let p = this.loading.get(hash);
    if (!p) {
      p = this.fetch(hash).finally(() => this.loading.delete(hash));
      this.loading.set(hash, p);
    }
    return p;
  }

  private async fetch(hash: string): Promise<Uint8Array> {
    const out = await fetchBlob(this.redis, this.prefix, hash);
    this.fetched++;
    this.fetchedBytes += out.byteLength;
    this.entries.set(hash, out);
    this.bytes += out.byteLength;
    for (const [h, b] of this.entries) {
      if (this.bytes <= this.capacity || h === hash) break;
      this.entries.delete(h);
      this.bytes -= b.byteLength;
    }
    return out;
  }
}
