// Redis connections whose every wait is bounded (NOTES.md § BullMQ: with the
// defaults a lost Redis makes calls wait forever, and an unheard 'error'
// event crashes Node).
// ioredis is loaded by the first connection, not by `import "sabre"`: only a
// cluster needs it (with bullmq it is most of what importing sabre cost).
import type { Redis, RedisOptions } from "ioredis";
import { ClusterError, SabreError } from "../errors.js";

export interface RedisTarget {
  /** redis://[user:pass@]host:port[/db] or rediss:// (TLS). */
  url: string;
  password?: string | undefined;
  /** TLS options passed through to ioredis (true: TLS with the defaults). */
  tls?: RedisOptions["tls"] | boolean | undefined;
  /** Milliseconds to wait for the first connection (default 5000). */
  connectTimeout?: number | undefined;
}

/** Any Redis command: failing for longer than this means Redis is gone. */
export const COMMAND_TIMEOUT_MS = 10_000;

/** A connection. `blocking` ones (BullMQ workers, queue events) retry forever by BullMQ's rule, so callers watch them. */
export async function connection(target: RedisTarget, blocking: boolean, onError: (err: Error) => void): Promise<Redis> {
  const { Redis } = await import("ioredis");
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: target.connectTimeout ?? 5_000,
    // Reconnect quickly; whoever waits on this connection bounds the wait.
    retryStrategy: (times) => Math.min(200 * times, 1_000),
    maxRetriesPerRequest: blocking ? null : 1,
    enableOfflineQueue: blocking,
  };
  if (target.password !== undefined) options.password = target.password;
  if (target.tls === true) options.tls = {};
  else if (target.tls && typeof target.tls === "object") options.tls = target.tls;
  const redis = new Redis(target.url, options);
  redis.on("error", onError);
  return redis;
}

/** Rejects with a ClusterError when `work` has not settled after `ms`. */
export function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClusterError("ERR_SABRE_CLUSTER_REDIS", `${what}: no answer from Redis within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([work.catch((err: unknown) => Promise.reject(redisError(err, what))), limit]).finally(() => clearTimeout(timer));
}

/** Turns ioredis's errors (MaxRetriesPerRequestError has no code; "Connection is closed") into a ClusterError. */
export function redisError(err: unknown, what: string): SabreError {
  if (err instanceof SabreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ClusterError("ERR_SABRE_CLUSTER_REDIS", `${what}: Redis failed: ${message}`, { cause: err });
}

/** Closes a connection without waiting on a Redis that may be gone: quit() for a bounded time, then disconnect(). */
export async function closeConnection(redis: Redis, ms = 1_000): Promise<void> {
  if (redis.status === "end") return;
  try {
    await within(redis.quit(), ms, "quit");
  } catch {
    // Redis is gone or slow: drop the socket.
  }
  redis.disconnect();
}

/** Connects `redis`, rejecting within `ms` (nothing listening, wrong password, TLS mismatch). */
export async function connectWithin(redis: Redis, ms: number, url: string): Promise<void> {
  try {
    await within(redis.connect(), ms, `connecting to ${redactUrl(url)}`);
    await within(redis.ping(), ms, `connecting to ${redactUrl(url)}`);
  } catch (err) {
    redis.disconnect();
    const e = err instanceof ClusterError ? err : redisError(err, `connecting to ${redactUrl(url)}`);
    throw new ClusterError("ERR_SABRE_CLUSTER_REDIS", e.message.includes("no answer") ? `cannot connect to Redis at ${redactUrl(url)} within ${ms} ms` : e.message, { cause: err });
  }
}

/** A URL safe to print: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}
