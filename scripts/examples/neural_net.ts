// HIPS autograd's examples/neural_net.py in denograd: a tanh multi-layer perceptron
// classifying digits, trained by Adam on the L2-regularized log-likelihood, its log-softmax
// written with `logsumexp` as in the original. Substitution: the original loads MNIST
// (60 000 28×28 images) from the internet; this generates a small deterministic stand-in,
// noisy seven-segment digits on an 8×8 grid (5120 training and 1024 test images, pixels in
// [0, 1], one-hot labels), so the first layer has 64 inputs instead of 784. The rest is the
// original's: hidden layers of 200 and 100, L2_reg 1, init scale 0.1, batches of 256,
// 5 epochs, Adam with step 0.001, and the same epoch table (printed before each epoch's first
// step, as the original's callback does), plus the accuracies after the last step.
//
//   deno run scripts/examples/neural_net.ts

import {
  adam,
  add,
  applyUpdates,
  argmax,
  createRng,
  grad,
  logsumexp,
  matmul,
  Matrix,
  mul,
  neg,
  ravel,
  type Rng,
  slice,
  sub,
  sum,
  tanh,
  type Tensor,
  transpose,
} from "../../mod.ts";

/** One layer's weights (m×n) and biases (1×n). */
export type Params = [Matrix, Matrix][];

// Seven segments in a 5-wide, 7-tall box: [row0, col0, row1, col1] inclusive.
const SEGMENTS: Record<string, [number, number, number, number]> = {
  a: [0, 0, 0, 4],
  b: [0, 4, 3, 4],
  c: [3, 4, 6, 4],
  d: [6, 0, 6, 4],
  e: [3, 0, 6, 0],
  f: [0, 0, 3, 0],
  g: [3, 0, 3, 4],
};
const DIGITS = [
  "abcdef",
  "bc",
  "abged",
  "abgcd",
  "fgbc",
  "afgcd",
  "afgedc",
  "abc",
  "abcdefg",
  "abcdfg",
];

/**
 * `count` noisy seven-segment digits as 8×8 images (rows of 64 pixels in [0, 1]) and their
 * one-hot labels: each digit shifted by up to 1 row and 1 column, each segment dropped with
 * probability 0.05, strokes of intensity 0.5–1, Gaussian pixel noise (std 0.2), clipped.
 */
export function makeDigits(count: number, rng: Rng): { images: Matrix; labels: Matrix } {
  const images = Matrix.zeros(count, 64), labels = Matrix.zeros(count, 10);
  for (let n = 0; n < count; n++) {
    const digit = rng.randint(10);
    labels.data[n * 10 + digit] = 1;
    const dr = rng.randint(2), dc = 1 + rng.randint(2), ink = 0.5 + 0.5 * rng.next();
    const pixels = images.data.subarray(n * 64, (n + 1) * 64);
    for (const s of DIGITS[digit]) {
      if (rng.next() < 0.05) continue;
      const [r0, c0, r1, c1] = SEGMENTS[s];
      for (let r = r0; r <= r1; r++) {
        for (let c = c0; c <= c1; c++) pixels[(r + dr) * 8 + c + dc] = ink;
      }
    }
    for (let i = 0; i < 64; i++) {
      pixels[i] = Math.min(1, Math.max(0, pixels[i] + 0.2 * rng.normal()));
    }
  }
  return { images, labels };
}

/** A list of (weights, biases), one per layer, drawn N(0, scale²) in that order. */
export function initRandomParams(scale: number, layerSizes: number[], rng: Rng): Params {
  const params: Params = [];
  for (let i = 0; i + 1 < layerSizes.length; i++) {
    const [m, n] = [layerSizes[i], layerSizes[i + 1]];
    const W = Matrix.randomNormal(m, n, rng, { std: scale });
    params.push([W, Matrix.randomNormal(1, n, rng, { std: scale })]);
  }
  return params;
}

/** Normalized class log-probabilities (N×10) of the inputs (N×D). */
export function neuralNetPredict(params: readonly (readonly Tensor[])[], inputs: Tensor): Tensor {
  let outputs: Tensor = inputs;
  for (const [W, b] of params) {
    outputs = add(matmul(inputs, W), b);
    inputs = tanh(outputs);
  }
  return sub(outputs, logsumexp(outputs, { axis: 1 }));
}

/** The squared L2 norm of all parameters, through one flat vector (HIPS `flatten`). */
export function l2Norm(params: readonly (readonly Tensor[])[]): Tensor {
  const [flattened] = ravel(params);
  return matmul(transpose(flattened), flattened);
}

export function logPosterior(
  params: readonly (readonly Tensor[])[],
  inputs: Tensor,
  targets: Tensor,
  l2Reg: number,
): Tensor {
  const logPrior = mul(-l2Reg, l2Norm(params));
  const logLik = sum(mul(neuralNetPredict(params, inputs), targets));
  return add(logPrior, logLik);
}

/** The fraction of rows whose predicted class is the target class. */
export function accuracy(params: Params, inputs: Matrix, targets: Matrix): number {
  const targetClass = argmax(targets, { axis: 1 }) as Matrix;
  const predictedClass = argmax(neuralNetPredict(params, inputs), { axis: 1 }) as Matrix;
  let hits = 0;
  for (let i = 0; i < targetClass.rows; i++) {
    if (targetClass.data[i] === predictedClass.data[i]) hits++;
  }
  return hits / targetClass.rows;
}

/** The data and the starting parameters, all from `createRng(seed)`. */
export function setup(seed = 0) {
  const rng = createRng(seed);
  const train = makeDigits(5120, rng), test = makeDigits(1024, rng);
  const initParams = initRandomParams(0.1, [64, 200, 100, 10], rng);
  return { train, test, initParams };
}

/** One row of the epoch table: [epoch, train accuracy, test accuracy]. */
export type EpochRow = [number, number, number];

/** What {@linkcode run} found. */
export interface NeuralNetResult {
  table: EpochRow[];
  params: Params;
  finalTrainAccuracy: number;
  finalTestAccuracy: number;
  /** The training objective on the last batch, at the final parameters. */
  finalObjective: number;
}

/** Trains for `numEpochs` epochs, calling `onEpoch` with each table row as it is computed. */
export function run(
  { numEpochs = 5, seed = 0, onEpoch }: {
    numEpochs?: number;
    seed?: number;
    onEpoch?: (row: EpochRow) => void;
  } = {},
): NeuralNetResult {
  const l2Reg = 1.0, batchSize = 256, stepSize = 0.001;
  const { train, test, initParams } = setup(seed);
  const numBatches = Math.ceil(train.images.rows / batchSize);
  const batch = (m: Matrix, iter: number) => {
    const idx = iter % numBatches;
    const end = Math.min((idx + 1) * batchSize, m.rows);
    return slice(m, { rows: [idx * batchSize, end] }) as Matrix;
  };
  const objective = (params: Params, iter: number) =>
    neg(logPosterior(params, batch(train.images, iter), batch(train.labels, iter), l2Reg));
  const objectiveGrad = grad(objective);

  const table: EpochRow[] = [];
  const optimizer = adam({ lr: stepSize });
  let params = initParams, state = optimizer.init(params);
  for (let iter = 0; iter < numEpochs * numBatches; iter++) {
    const gradient = objectiveGrad(params, iter);
    if (iter % numBatches === 0) { // the original's print_perf callback
      const row: EpochRow = [
        iter / numBatches,
        accuracy(params, train.images, train.labels),
        accuracy(params, test.images, test.labels),
      ];
      table.push(row);
      onEpoch?.(row);
    }
    let updates;
    [updates, state] = optimizer.update(gradient, state);
    params = applyUpdates(params, updates);
  }
  const last = numEpochs * numBatches - 1;
  return {
    table,
    params,
    finalTrainAccuracy: accuracy(params, train.images, train.labels),
    finalTestAccuracy: accuracy(params, test.images, test.labels),
    finalObjective: (objective(params, last) as Matrix).data[0],
  };
}

if (import.meta.main) {
  console.log("Generating training data (noisy seven-segment digits in place of MNIST)...");
  console.log("     Epoch     |    Train accuracy  |       Test accuracy  ");
  const print = (epoch: number | string, train: number, test: number) =>
    console.log(
      `${String(epoch).padStart(15)}|${String(train).padStart(20)}|${String(test).padStart(20)}`,
    );
  const result = run({ onEpoch: ([epoch, train, test]) => print(epoch, train, test) });
  print("trained", result.finalTrainAccuracy, result.finalTestAccuracy);
}
