// A training loop fed by sabre's DataLoader, as with PyTorch's: worker
// threads run a dataset module (examples/datasets/linear-task.mjs) that
// writes samples into shared-memory batches while the main thread trains a
// logistic regression by minibatch SGD on them. The loss goes down epoch by
// epoch; a held-out split measures accuracy.
//
//   node examples/dataloader-training.mjs [--samples N] [--epochs N] [--workers N] [--batch N]
import { DataLoader } from "sabre";

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  const raw = at >= 0 ? process.argv[at + 1] : undefined;
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${name} must be a positive integer, got ${raw}`);
    process.exit(2);
  }
  return v;
}

const samples = option("samples", 8_000);
const epochs = option("epochs", 5);
const numWorkers = option("workers", 2);
const batchSize = option("batch", 64);
const dims = 16;
const module = new URL("./datasets/linear-task.mjs", import.meta.url);
const params = (split, n) => ({ samples: n, dims, seed: 7, split, noise: 0.3 });

// The loader owns the workers; persistentWorkers keeps them (and their init state) across epochs.
// (A module dataset's length is known once its workers have started: train.length is NaN until then.)
const train = new DataLoader({ module, params: params("train", samples) }, { batchSize, shuffle: true, numWorkers, seed: 1, persistentWorkers: true });
const test = new DataLoader({ module, params: params("test", 2_000) }, { batchSize: 500, numWorkers: 1 });

// The model: p(y = 1 | x) = sigmoid(w.x + b).
const w = new Float64Array(dims);
let b = 0;
const lr = 0.05;
const sigmoid = (z) => 1 / (1 + Math.exp(-z));

/** One SGD step on a batch; returns the batch's summed log loss. */
function step(x, y) {
  const [B] = x.shape;
  const gw = new Float64Array(dims);
  let gb = 0;
  let loss = 0;
  for (let i = 0; i < B; i++) {
    let z = b;
    for (let j = 0; j < dims; j++) z += w[j] * x.get(i, j);
    const p = sigmoid(z);
    const t = y.get(i, 0);
    loss -= t * Math.log(Math.max(p, 1e-12)) + (1 - t) * Math.log(Math.max(1 - p, 1e-12));
    const g = p - t; // d loss / d z
    for (let j = 0; j < dims; j++) gw[j] += g * x.get(i, j);
    gb += g;
  }
  for (let j = 0; j < dims; j++) w[j] -= (lr * gw[j]) / B;
  b -= (lr * gb) / B;
  return loss;
}

async function accuracy() {
  let right = 0;
  let n = 0;
  for await (const { fields } of test) {
    const { x, y } = fields;
    for (let i = 0; i < x.shape[0]; i++) {
      let z = b;
      for (let j = 0; j < dims; j++) z += w[j] * x.get(i, j);
      if ((z > 0 ? 1 : 0) === y.get(i, 0)) right++;
      n++;
    }
  }
  return right / n;
}

console.log(`${samples} training samples of ${dims} features, ${numWorkers} loader worker(s), batch ${batchSize}, ${Math.ceil(samples / batchSize)} batches per epoch`);
try {
  console.log(`before training: test accuracy ${(await accuracy()).toFixed(3)}`);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    let loss = 0;
    let seen = 0;
    for await (const batch of train) {
      // batch.fields.x is a [B, 16] ndarray over the batch slot: valid until the next step of this loop.
      loss += step(batch.fields.x, batch.fields.y);
      seen += batch.indices.length;
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(`epoch ${epoch}/${epochs} loss ${(loss / seen).toFixed(4)}, test accuracy ${(await accuracy()).toFixed(3)}, ${Math.round(seen / secs)} samples/s`);
  }
} finally {
  await train.close();
  await test.close();
}
