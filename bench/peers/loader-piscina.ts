// The piscina peer: a pool of numWorkers threads, one task per batch
// returning its values as a transferred ArrayBuffer, numWorkers x
// prefetchFactor tasks in flight, awaited in order.
import { importPeer } from "../harness/index.js";
import { epochOrder } from "../workers/loader-work.js";
import { batchCount, batchIndices, type BenchBatch, type BenchLoader, type LoaderSpec } from "./loader-common.js";

type Pool = InstanceType<typeof import("piscina").Piscina>;

export class PiscinaLoader implements BenchLoader {
  private constructor(
    private readonly spec: LoaderSpec,
    private readonly pool: Pool,
  ) {}

  /** Throws Skip (with the install hint) when piscina is not installed. */
  static async start(spec: LoaderSpec, url: URL): Promise<PiscinaLoader> {
    const { Piscina } = await importPeer<typeof import("piscina")>("piscina");
    const workerData = { kind: spec.kind, rowLen: spec.rowLen, rounds: spec.rounds, source: spec.source };
    const pool = new Piscina({ filename: url.href, minThreads: spec.numWorkers, maxThreads: spec.numWorkers, workerData });
    // minThreads start in the background: wait until every thread has answered once.
    const none = new Int32Array(0);
    await Promise.all(Array.from({ length: spec.numWorkers * 2 }, () => pool.run({ indices: none })));
    return new PiscinaLoader(spec, pool);
  }

  async *epoch(e: number): AsyncGenerator<BenchBatch> {
    const { n, batchSize, numWorkers, prefetchFactor, rowLen } = this.spec;
    const order = epochOrder(n, this.spec.seed, e, this.spec.shuffle);
    const total = batchCount(n, batchSize);
    const inFlight: Promise<Float32Array>[] = [];
    let sent = 0;
    const sendMore = () => {
      for (; sent < total && inFlight.length < numWorkers * prefetchFactor; sent++) {
        inFlight.push(this.pool.run({ indices: batchIndices(order, sent, batchSize) }) as Promise<Float32Array>);
      }
    };
    try {
      sendMore();
      for (let k = 0; k < total; k++) {
        const values = await inFlight.shift()!;
        sendMore();
        yield { values, offset: 0, stride: rowLen, b: values.length / rowLen };
      }
    } finally {
      // A consumer that broke out leaves tasks running: let them settle so none outlives the epoch unobserved.
      await Promise.allSettled(inFlight);
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
