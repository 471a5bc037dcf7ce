// The PyTorch-style peer: numWorkers worker_threads, batch k of an epoch sent
// to worker k % numWorkers (PyTorch's round robin), at most
// numWorkers x prefetchFactor batches outstanding, delivered in order through
// a reorder buffer. Each batch comes back by postMessage as a structured clone
// (serialized in the worker, deserialized on the main thread: PyTorch's
// pickle per batch).
import { Worker } from "node:worker_threads";
import { epochOrder } from "../workers/loader-work.js";
import { batchCount, batchIndices, type BenchBatch, type BenchLoader, type LoaderSpec } from "./loader-common.js";

type Reply = { epoch: number; k: number; values?: Float32Array; error?: string };

export class PostMessageLoader implements BenchLoader {
  private readonly ready = new Map<number, Float32Array>();
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private current = -1;
  private serial = 0;
  private closed = false;

  private constructor(
    private readonly spec: LoaderSpec,
    private readonly workers: Worker[],
  ) {
    for (const w of workers) {
      w.on("message", (r: Reply) => this.onReply(r));
      w.on("error", (e) => this.fail(e));
      w.on("exit", (code) => {
        if (!this.closed) this.fail(new Error(`a postMessage loader worker exited with code ${code}`));
      });
    }
  }

  static async start(spec: LoaderSpec, url: URL): Promise<PostMessageLoader> {
    const workerData = { kind: spec.kind, rowLen: spec.rowLen, rounds: spec.rounds, source: spec.source };
    const workers = Array.from({ length: spec.numWorkers }, () => new Worker(url, { workerData }));
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once("online", resolve);
            w.once("error", reject);
          }),
      ),
    );
    return new PostMessageLoader(spec, workers);
  }

  private onReply(r: Reply): void {
    if (r.epoch !== this.current) return; // a batch of an epoch the consumer broke out of
    if (r.error !== undefined) return this.fail(new Error(r.error));
    this.ready.set(r.k, r.values!);
    this.wake?.();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake?.();
  }

  async *epoch(e: number): AsyncGenerator<BenchBatch> {
    const { n, batchSize, numWorkers, prefetchFactor } = this.spec;
    const token = ++this.serial;
    this.current = token;
    this.ready.clear();
    const order = epochOrder(n, this.spec.seed, e, this.spec.shuffle);
    const total = batchCount(n, batchSize);
    const window = numWorkers * prefetchFactor;
    let sent = 0;
    const sendMore = (consumed: number) => {
      for (; sent < total && sent < consumed + window; sent++) {
        this.workers[sent % numWorkers]!.postMessage({ epoch: token, k: sent, indices: batchIndices(order, sent, batchSize) });
      }
    };
    sendMore(0);
    for (let k = 0; k < total; k++) {
      let values: Float32Array | undefined;
      while ((values = this.ready.get(k)) === undefined) {
        if (this.failure) throw this.failure;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
      this.ready.delete(k);
      sendMore(k + 1);
      yield { values, offset: 0, stride: this.spec.rowLen, b: values.length / this.spec.rowLen };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
