// The @tensorflow/tfjs-data peer, what a Node user picks today:
// generator -> map(getItem into a tensor) -> batch -> prefetch. tfjs-data
// has no worker threads: the map runs on the main thread, between the
// training loop's steps, and batch() stacks the samples' tensors.
import { importPeer } from "../harness/index.js";
import { epochOrder, fillBatch } from "../workers/loader-work.js";
import type { BenchBatch, BenchLoader, LoaderSpec } from "./loader-common.js";

type Tf = typeof import("@tensorflow/tfjs-core");
type Tfd = typeof import("@tensorflow/tfjs-data");
type Tensor = import("@tensorflow/tfjs-core").Tensor;

let loaded: Promise<{ tf: Tf; tfd: Tfd }> | undefined;

/** tfjs-core on its CPU backend (pure JS, no native binding) and tfjs-data; Skip with a hint if missing. */
function tfjs(): Promise<{ tf: Tf; tfd: Tfd }> {
  loaded ??= (async () => {
    const tf = await importPeer<Tf>("@tensorflow/tfjs-core");
    await importPeer("@tensorflow/tfjs-backend-cpu");
    await tf.setBackend("cpu");
    await tf.ready();
    const tfd = await importPeer<Tfd>("@tensorflow/tfjs-data");
    return { tf, tfd };
  })();
  return loaded;
}

export class TfjsDataLoader implements BenchLoader {
  private constructor(
    private readonly spec: LoaderSpec,
    private readonly tf: Tf,
    private readonly tfd: Tfd,
  ) {}

  static async start(spec: LoaderSpec): Promise<TfjsDataLoader> {
    const { tf, tfd } = await tfjs();
    return new TfjsDataLoader(spec, tf, tfd);
  }

  async *epoch(e: number): AsyncGenerator<BenchBatch> {
    const { tf, tfd, spec } = this;
    const order = epochOrder(spec.n, spec.seed, e, spec.shuffle);
    const source = spec.source ? new Float32Array(spec.source) : undefined;
    const one = new Int32Array(1);
    const ds = tfd
      .generator(function* () {
        for (let i = 0; i < order.length; i++) yield order[i]!;
      })
      .map((index) => {
        const row = new Float32Array(spec.rowLen);
        one[0] = index as number;
        fillBatch(spec, source, one, row);
        return { x: tf.tensor1d(row) };
      })
      .batch(spec.batchSize)
      .prefetch(Math.max(1, spec.numWorkers * spec.prefetchFactor));
    const it = await ds.iterator();
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      const x = (r.value as { x: Tensor }).x;
      const values = x.dataSync() as Float32Array;
      yield { values, offset: 0, stride: spec.rowLen, b: x.shape[0]!, release: () => x.dispose() };
    }
  }

  async close(): Promise<void> {}
}
