// sabre's DataLoader behind the benchmark's BenchLoader interface
// (bench/peers/loader-common.ts): a TensorDataset over the shared source for
// the gather, the heavy dataset module (loader-dataset.ts) otherwise.
import ndarray from "ndarray";
import { DataLoader, TensorDataset } from "sabre";
import type { BenchBatch, BenchLoader, LoaderSpec } from "../peers/loader-common.js";

export class SabreLoader implements BenchLoader {
  private constructor(private readonly loader: DataLoader) {}

  /** `datasetModule`: the URL of the built loader-dataset.js (heavy work). */
  static start(spec: LoaderSpec, datasetModule: URL): SabreLoader {
    const dataset =
      spec.kind === "gather"
        ? new TensorDataset({ x: ndarray(new Float32Array(spec.source!), [spec.n, spec.rowLen]) })
        : { module: datasetModule, params: { n: spec.n, rounds: spec.rounds } };
    const loader = new DataLoader(dataset, {
      batchSize: spec.batchSize,
      shuffle: spec.shuffle,
      seed: spec.seed,
      numWorkers: spec.numWorkers,
      prefetchFactor: spec.prefetchFactor,
      // Workers kept across epochs (PyTorch's persistent_workers), as a training loop would; there are none with 0.
      persistentWorkers: spec.numWorkers > 0,
    });
    return new SabreLoader(loader);
  }

  async *epoch(): AsyncGenerator<BenchBatch> {
    for await (const batch of this.loader) {
      const x = batch.fields["x"]!;
      yield {
        values: x.data as Float32Array,
        offset: x.offset,
        stride: x.stride[0]!,
        b: x.shape[0]!,
        release: () => batch.release(),
      };
    }
  }

  async close(): Promise<void> {
    await this.loader.close();
  }
}
