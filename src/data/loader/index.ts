// DataLoader, datasets, samplers and transforms (issue 12). Protocol: README.md here.
export { DataLoader, type DataLoaderOptions } from "./loader.js";
export { Batch } from "./batch.js";
export { TensorDataset } from "./dataset.js";
export { DatasetError, SampleError } from "./errors.js";
export { SequentialSampler, RandomSampler, BatchSampler, type Sampler, type BatchSamplerLike, type RandomSamplerOptions } from "./samplers.js";
export { randomCrop, randomFlip, normalize, type TransformSpec, type ImageLayout, type RandomCropSpec, type RandomFlipSpec, type NormalizeSpec, type ModuleTransformSpec } from "./transforms.js";
export { transformModule, type ModuleDatasetSpec, type DatasetInput } from "./plan-build.js";
