// Parallel data loading with sabre's DataLoader: worker threads augment
// Fashion-MNIST images (random crop with padding, random horizontal flip,
// normalisation: the loader's built-in transforms, each drawing from the
// sample's own random stream) straight into shared-memory batches, while the
// main thread trains a softmax regression on them.
//
//   node examples/fashion-mnist-loader.mjs [--samples N] [--epochs N] [--workers N] [--batch N] [--digits]
//
// (or SABRE_EXAMPLE_SAMPLES / _EPOCHS / _WORKERS / _BATCH in the environment).
// Fashion-MNIST comes from /usr/share/datasets/fashion-mnist (Debian's
// dataset-fashion-mnist package); without it (or with --digits) the example
// uses the UCI digits shipped in sabre's data/ folder (8 x 8 images).
import { existsSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DataLoader, TensorDataset, normalize, randomCrop, randomFlip, readIdx, shared } from "sabre";

// ---- options -----------------------------------------------------------------------------------

function option(name, fallback) {
  const flag = process.argv.indexOf(`--${name}`);
  const raw = flag >= 0 ? process.argv[flag + 1] : process.env[`SABRE_EXAMPLE_${name.toUpperCase()}`];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`--${name} must be a non-negative integer, got ${raw}`);
    process.exit(2);
  }
  return v;
}

const epochs = option("epochs", 3);
const numWorkers = option("workers", 2);
const batchSize = option("batch", 128);
const samplesWanted = option("samples", 0); // 0: the whole training set

// ---- data --------------------------------------------------------------------------------------

const FASHION = "/usr/share/datasets/fashion-mnist";

async function fashionMnist() {
  const file = (name) => `${FASHION}/${name}`;
  const [trainX, trainY, testX, testY] = await Promise.all([
    readIdx(file("train-images-idx3-ubyte.gz")),
    readIdx(file("train-labels-idx1-ubyte.gz")),
    readIdx(file("t10k-images-idx3-ubyte.gz")),
    readIdx(file("t10k-labels-idx1-ubyte.gz")),
  ]);
  // Pixel mean and std of the training set (0.286 and 0.353 of 255).
  return { name: "Fashion-MNIST", trainX, trainY, testX, testY, side: 28, pad: 2, flip: true, mean: 72.94, std: 90.02, learningRate: 0.05 };
}

/** The UCI digits sabre ships (1,797 8 x 8 images, pixels 0-16): 1,200 to train, the rest to test. */
function embeddedDigits() {
  const csv = gunzipSync(readFileSync(new URL("../data/digits.csv.gz", import.meta.url))).toString("utf8").trim();
  const rows = csv.split("\n").map((line) => line.split(",").map(Number));
  const images = (part) => shared.from(part.flatMap((r) => r.slice(0, 64)), { dtype: "uint8", shape: [part.length, 8, 8] });
  const labels = (part) => shared.from(part.map((r) => r[64]), { dtype: "uint8" });
  const train = rows.slice(0, 1200);
  const test = rows.slice(1200);
  // No flip: a mirrored digit is another glyph (a mirrored shirt is still a shirt). Fewer steps per epoch: a larger rate.
  return { name: "UCI digits (embedded)", trainX: images(train), trainY: labels(train), testX: images(test), testY: labels(test), side: 8, pad: 1, flip: false, mean: 4.9, std: 6.01, learningRate: 0.2 };
}

const useDigits = process.argv.includes("--digits") || !existsSync(`${FASHION}/train-images-idx3-ubyte.gz`);
const data = useDigits ? embeddedDigits() : await fashionMnist();
const nTrain = samplesWanted > 0 ? Math.min(samplesWanted, data.trainX.shape[0]) : data.trainX.shape[0];
// The first nTrain rows: views over the same shared memory, nothing copied.
const images = data.trainX.hi(nTrain, data.side, data.side);
const labels = data.trainY.hi(nTrain);
const side = data.side;
const features = side * side;
const CLASSES = 10;

// ---- the loader --------------------------------------------------------------------------------

const loader = new DataLoader(new TensorDataset({ image: images, label: labels }), {
  batchSize,
  shuffle: true,
  numWorkers,
  seed: 42,
  persistentWorkers: true,
  // Run in the workers, in this order; uint8 pixels in, float32 out of normalize.
  transform: [
    randomCrop("image", { size: side, padding: data.pad }),
    ...(data.flip ? [randomFlip("image")] : []),
    normalize("image", { mean: data.mean, std: data.std }),
  ],
});

// ---- the model: softmax regression, plain loops over the batch ---------------------------------

const W = new Float32Array(features * CLASSES);
const bias = new Float32Array(CLASSES);
const gradW = new Float32Array(features * CLASSES);
const gradB = new Float32Array(CLASSES);
const logits = new Float64Array(CLASSES);

/** Class probabilities of one sample (x: features values from x[off]) into `logits`. */
function forward(x, off) {
  let max = -Infinity;
  for (let c = 0; c < CLASSES; c++) {
    let s = bias[c];
    for (let j = 0; j < features; j++) s += x[off + j] * W[j * CLASSES + c];
    logits[c] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let c = 0; c < CLASSES; c++) sum += logits[c] = Math.exp(logits[c] - max);
  for (let c = 0; c < CLASSES; c++) logits[c] /= sum;
}

/** One SGD step on a batch; returns [summed loss, correct predictions]. */
function trainStep(image, label) {
  const b = image.shape[0];
  const x = image.data;
  const off0 = image.offset;
  const stride = image.stride[0];
  gradW.fill(0);
  gradB.fill(0);
  let loss = 0;
  let correct = 0;
  for (let k = 0; k < b; k++) {
    const off = off0 + k * stride;
    const y = label.get(k);
    forward(x, off);
    loss -= Math.log(Math.max(logits[y], 1e-12));
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (logits[c] > logits[best]) best = c;
    if (best === y) correct++;
    logits[y] -= 1; // d loss / d logit
    for (let c = 0; c < CLASSES; c++) gradB[c] += logits[c];
    for (let j = 0; j < features; j++) {
      const v = x[off + j];
      if (v === 0) continue;
      const row = j * CLASSES;
      for (let c = 0; c < CLASSES; c++) gradW[row + c] += v * logits[c];
    }
  }
  const step = data.learningRate / b;
  for (let i = 0; i < W.length; i++) W[i] -= step * gradW[i];
  for (let c = 0; c < CLASSES; c++) bias[c] -= step * gradB[c];
  return [loss, correct];
}

/** Accuracy on the test split, normalised as the loader does (no augmentation). */
function testAccuracy() {
  const n = data.testX.shape[0];
  const row = new Float32Array(features);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) row[y * side + x] = (data.testX.get(i, y, x) - data.mean) / data.std;
    forward(row, 0);
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (logits[c] > logits[best]) best = c;
    if (best === data.testY.get(i)) correct++;
  }
  return correct / n;
}

// ---- progress ----------------------------------------------------------------------------------

const tty = process.stdout.isTTY === true;

function bar(done, total, width = 30) {
  const filled = Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total}`;
}

// ---- training ----------------------------------------------------------------------------------

console.log(
  `${data.name}: ${nTrain} training images (${side}x${side}), ${data.testX.shape[0]} test; ` +
    `${numWorkers} loader worker(s), batch ${batchSize}, ${loader.length} batches per epoch`,
);

try {
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    let seen = 0;
    let loss = 0;
    let correct = 0;
    let batches = 0;
    for await (const batch of loader) {
      const [l, c] = trainStep(batch.fields.image, batch.fields.label);
      loss += l;
      correct += c;
      seen += batch.indices.length;
      batches++;
      if (tty && (batches % 10 === 0 || batches === loader.length)) {
        const rate = (batches * 1000) / (performance.now() - t0);
        process.stdout.write(`\repoch ${epoch}/${epochs} ${bar(batches, loader.length)} ${rate.toFixed(0)} batches/s`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const line =
      `epoch ${epoch}/${epochs} ${bar(batches, loader.length)} ${(batches / seconds).toFixed(1)} batches/s, ` +
      `${Math.round(seen / seconds)} samples/s, loss ${(loss / seen).toFixed(4)}, train accuracy ${(correct / seen).toFixed(3)}, ` +
      `test accuracy ${testAccuracy().toFixed(3)}`;
    process.stdout.write(tty ? `\r${line}\n` : `${line}\n`);
  }
} finally {
  await loader.close();
}
