// The models cross-validation compares, each trained on one training fold and scored on its test fold.

import { Matrix, type SharedMatrixHandle } from "../matrix.ts";
import { createRng, type Rng, shuffle } from "../random.ts";
import {
  add,
  matmul,
  mul,
  sigmoid,
  square,
  sum,
  tanh,
  transpose,
  withScratch,
} from "../autograd/ops.ts";
import { sigmoidCrossEntropy, softmaxCrossEntropy } from "../nn/losses.ts";
import type { Tensor } from "../autograd/tracer.ts";
import { valueAndGrad } from "../autograd/transforms.ts";
import { adam, adamw, applyUpdates, sgd } from "../optim/optimizers.ts";
import { minimize } from "../optim/minimize.ts";
import { cosineDecay } from "../optim/schedules.ts";
import { initMLP, mlpForward, mseLoss } from "../nn/mlp.ts";
import { averagePrecision, type BinaryMetrics, binaryMetrics, rocAuc } from "../nn/metrics.ts";
import {
  fitStandardizer,
  standardize,
  type Standardizer,
  stratifiedSplit,
  takeRows,
} from "../data/preprocess.ts";
import { oneHot } from "../data/csv.ts";

/** The models, in the order the results list them. */
export const MODEL_NAMES = ["notebook", "practitioner", "logistic", "majority"] as const;

/** One of {@linkcode MODEL_NAMES}. */
export type ModelName = typeof MODEL_NAMES[number];

/** How each model is trained: recorded in cv.json's config. */
export const MODEL_SETTINGS = {
  notebook: {
    description: "8-25-10-2 tanh MLP (tanh output), MSE on one-hot targets, raw features, " +
      "SGD lr 0.01, 1000 steps of 100 rows drawn with replacement; predicts the larger output",
    layers: [8, 25, 10, 2],
    lr: 0.01,
    batch: 100,
    steps: 1000,
  },
  practitioner: {
    description: "8-25-10-2 MLP (tanh hidden layers, linear output), features log-transformed " +
      "(sign(x)·log(1 + |x|), taming HTRU2's heavy tails) then standardized, " +
      "softmax cross-entropy with pulsar rows weighted 3×, Adam, shuffled epochs, weights " +
      "averaged over steps (exponential moving average, decay 0.99), early stopping on a " +
      "stratified validation split of the training fold (the epoch with the best validation " +
      "ROC AUC, stopping after `patience` epochs without one), then trained again from fresh " +
      "weights on the whole training fold for that many epochs (refit); the decision " +
      "threshold on P(pulsar) maximises F1 on the whole training fold",
    layers: [8, 25, 10, 2],
    lr: 0.003,
    batch: 100,
    maxEpochs: 100,
    patience: 15,
    validationFraction: 0.15,
    stopOn: "auc" as "loss" | "auc",
    pulsarWeight: 3,
    weightDecay: 0,
    ema: 0.99,
    thresholdOn: "trainingFold" as "validation" | "trainingFold",
    logFeatures: "all" as "none" | "all" | "skewed",
    cosineEpochs: 0,
    cosineAlpha: 0.1,
    refit: 1,
  },
  logistic: {
    description: "logistic regression on standardized features, L2 penalty ½‖w‖² on the summed " +
      "log loss (scikit-learn's C = 1), full-batch L-BFGS (minimize); threshold 0.5",
    tolerance: 1e-6,
    maxIterations: 200,
  },
  majority: {
    description: "predicts the training fold's majority class for every row; its score is the " +
      "training fold's pulsar fraction",
  },
} as const;

/** One model on one fold: what a worker (or the main thread) is asked to do. */
export interface FoldTask {
  /** Position in the run's task list (results are put back in this order). */
  id: number;
  model: ModelName;
  /** Repeat (0-based) and fold (0-based) within it. */
  repeat: number;
  fold: number;
  /** Seed of every random draw of this task. */
  seed: number;
  /** Row indices of the training fold and the test fold, ascending. */
  train: Int32Array;
  test: Int32Array;
}

/** The scores of one model on one test fold. */
export interface FoldMetrics extends BinaryMetrics {
  /** Area under the ROC curve of the test scores. */
  rocAuc: number;
  /** Average precision of the test scores. */
  prAuc: number;
}

/** What a {@linkcode FoldTask} gives back. */
export interface FoldOutcome {
  id: number;
  model: ModelName;
  repeat: number;
  fold: number;
  /**
   * The threshold on the score above or at which a row is called a pulsar, or `null` when
   * the prediction is not a threshold on the score (the notebook's argmax, the baseline).
   */
  threshold: number | null;
  metrics: FoldMetrics;
  /** How training went (steps, epochs, the validation loss...), model-specific. */
  training: Record<string, number | boolean | string>;
  /** The pulsar score of each test row, in the order of `task.test`. */
  scores: Float64Array;
}

/** Main thread → a fold worker (`_cv_worker.ts`): the data once, then one task at a time. */
export type ToCvWorker =
  | { type: "data"; X: SharedMatrixHandle; labels: SharedArrayBuffer }
  | { type: "task"; task: FoldTask };

/** Worker → main thread: a task's outcome, or why it failed. */
export type FromCvWorker =
  | { type: "result"; outcome: FoldOutcome }
  | { type: "error"; id: number; message: string };

/** Runs one task on the data set (`X`, `labels` 0/1); pure in its inputs. */
export function runFoldTask(task: FoldTask, X: Matrix, labels: Int32Array): FoldOutcome {
  const fit = FITTERS[task.model];
  const Xtrain = takeRows(X, [...task.train]), Xtest = takeRows(X, [...task.test]);
  const ytrain = pick(labels, task.train), ytest = pick(labels, task.test);
  const { scores, predicted, threshold, training } = fit(Xtrain, ytrain, Xtest, task.seed);
  return {
    id: task.id,
    model: task.model,
    repeat: task.repeat,
    fold: task.fold,
    threshold,
    metrics: {
      ...binaryMetrics(predicted, ytest),
      rocAuc: rocAuc(scores, ytest),
      prAuc: averagePrecision(scores, ytest),
    },
    training,
    scores,
  };
}

interface Fitted {
  scores: Float64Array;
  predicted: Int32Array;
  threshold: number | null;
  training: FoldOutcome["training"];
}

type Fitter = (Xtrain: Matrix, ytrain: Int32Array, Xtest: Matrix, seed: number) => Fitted;

const FITTERS: Record<ModelName, Fitter> = {
  notebook: fitNotebook,
  practitioner: fitPractitioner,
  logistic: fitLogistic,
  majority: fitMajority,
};

function pick(labels: Int32Array, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = labels[rows[k]];
  return out;
}

/** The rows `rows` of `X` (repeats allowed), as a new matrix. */
function batchOf(X: Matrix, rows: ArrayLike<number>): Matrix {
  const out = Matrix.zeros(rows.length, X.cols);
  const from = X.data, to = out.data, cols = X.cols;
  for (let k = 0; k < rows.length; k++) {
    const at = rows[k] * cols;
    for (let j = 0; j < cols; j++) to[k * cols + j] = from[at + j];
  }
  return out;
}

/** The published experiment, as `train()` runs it: minibatches drawn with replacement, plain SGD. */
function fitNotebook(Xtrain: Matrix, ytrain: Int32Array, Xtest: Matrix, seed: number): Fitted {
  const { layers, lr, batch, steps } = MODEL_SETTINGS.notebook;
  let params = initMLP(layers, createRng(seed));
  const batches = createRng(seed); // as train(): its own stream from the same seed
  const Y = oneHot(ytrain, 2);
  const opt = sgd({ lr });
  let state = opt.init(params);
  const lossAndGrad = valueAndGrad(mseLoss);
  const rows = new Int32Array(batch);
  let loss = NaN;
  for (let step = 0; step < steps; step++) {
    for (let k = 0; k < batch; k++) rows[k] = batches.randint(Xtrain.rows);
    const Xb = batchOf(Xtrain, rows), Yb = batchOf(Y, rows);
    withScratch(() => {
      const [value, grads] = lossAndGrad(params, Xb, Yb);
      let updates;
      [updates, state] = opt.update(grads, state, params);
      params = applyUpdates(params, updates);
      loss = value as number;
    });
  }
  const out = mlpForward(params, Xtest) as Matrix;
  const scores = new Float64Array(out.rows), predicted = new Int32Array(out.rows);
  for (let i = 0; i < out.rows; i++) {
    const o0 = out.data[2 * i], o1 = out.data[2 * i + 1];
    scores[i] = o1; // the class-1 output in [-1, 1]: a ranking score, not a probability
    predicted[i] = o1 > o0 ? 1 : 0; // argmax, the lower class on a tie
  }
  return { scores, predicted, threshold: null, training: { steps, lastBatchLoss: loss } };
}

/** The practitioner's network: tanh hidden layers, a linear output of two logits (2 × n). */
function logits(params: readonly Tensor[], X: Tensor): Tensor {
  let h = transpose(X);
  for (let l = 0; l < params.length; l += 2) {
    const z = add(matmul(params[l], h), params[l + 1]);
    h = l + 2 < params.length ? tanh(z) : z;
  }
  return h;
}

const MARGIN = Matrix.from([[-1, 1]]);

/**
 * The weighted softmax cross-entropy of the network's two logits (the library's
 * `softmaxCrossEntropy`, samples as rows): `targets` is n × 2 one-hot, `weights` n × 1.
 */
function crossEntropy(
  params: readonly Tensor[],
  X: Tensor,
  targets: Tensor,
  weights: Tensor,
): Tensor {
  return softmaxCrossEntropy(transpose(logits(params, X)), targets, { weights });
}

/** P(class 1) per row: softmax of two logits is the sigmoid of their difference. */
function probabilities(params: readonly Matrix[], X: Matrix): Float64Array {
  return (sigmoid(matmul(MARGIN, logits(params, X))) as Matrix).data;
}

/** The labels as a 1 × n row of 0/1. */
function labelRow(y: ArrayLike<number>): Matrix {
  return Matrix.from([Array.from(y)]);
}

/** Mean cross-entropy of probabilities `p` against labels `y`, clamped away from log(0). */
function logLoss(p: Float64Array, y: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    total -= Math.log(Math.max(y[i] === 1 ? p[i] : 1 - p[i], 1e-300));
  }
  return total / p.length;
}

/**
 * The threshold on `scores` that maximises F1 against `y` (the lowest of equal bests, the
 * midpoint between two neighbouring distinct scores so it does not sit on a row).
 */
export function bestF1Threshold(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => scores[b] - scores[a] || a - b);
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  let tp = 0, best = -1, threshold = 0.5;
  for (let k = 0; k < order.length; k++) {
    tp += y[order[k]];
    const s = scores[order[k]];
    if (k + 1 < order.length && scores[order[k + 1]] === s) continue;
    const f1 = 2 * tp / (k + 1 + positives);
    if (f1 > best) {
      best = f1;
      threshold = k + 1 < order.length ? (s + scores[order[k + 1]]) / 2 : s;
    }
  }
  return threshold;
}

function thresholded(scores: Float64Array, threshold: number): Int32Array {
  return Int32Array.from(scores, (s) => s >= threshold ? 1 : 0);
}

/** Standardizes both sets with the statistics of the training set alone. */
function standardized(Xtrain: Matrix, Xtest: Matrix): [Matrix, Matrix] {
  const stats = fitStandardizer(Xtrain);
  return [standardize(Xtrain, stats), standardize(Xtest, stats)];
}

/** @internal Settings a tuning run may change (never the test folds' business). */
export const practitionerOverrides: Partial<
  Record<
    | "lr"
    | "batch"
    | "maxEpochs"
    | "patience"
    | "validationFraction"
    | "pulsarWeight"
    | "weightDecay"
    | "ema"
    | "cosineEpochs"
    | "cosineAlpha"
    | "refit",
    number
  > & {
    stopOn: "loss" | "auc";
    thresholdOn: "validation" | "trainingFold";
    logFeatures: "none" | "all" | "skewed";
  }
> = {};

/** The practitioner network trained on rows `Xraw` (raw features) with labels `ytrain`. */
export interface PractitionerModel {
  /** Layer sizes, inputs first. */
  sizes: number[];
  /** The (averaged) weights of the best epoch, `[W1, b1, ...]`, last layer linear. */
  params: Matrix[];
  /** The training rows' feature statistics, applied before the network. */
  standardizer: Standardizer;
  /** Rows with P(class 1) at or above it are called class 1. */
  threshold: number;
  /** Columns replaced by sign(x)·log(1 + |x|) before the standardizer (0-based). */
  logColumns: number[];
  /** How training went. */
  training: Fitted["training"];
}

/** The practitioner network's settings, with numbers widened so a tuning run can change them. */
type PractitionerSettings = {
  -readonly [K in keyof typeof MODEL_SETTINGS.practitioner]: (typeof MODEL_SETTINGS.practitioner)[
    K
  ] extends number ? number : (typeof MODEL_SETTINGS.practitioner)[K];
};

/** Trains the practitioner network (see {@linkcode MODEL_SETTINGS}) on the given rows. */
export function trainPractitioner(
  Xraw: Matrix,
  ytrain: Int32Array,
  seed: number,
): PractitionerModel {
  const settings: PractitionerSettings = {
    ...MODEL_SETTINGS.practitioner,
    ...practitionerOverrides,
  };
  const {
    layers,
    batch,
    maxEpochs,
    patience,
    validationFraction,
    stopOn,
    thresholdOn,
    logFeatures,
    refit,
  } = settings;
  const rng = createRng(seed);
  const logColumns = logFeatures === "none"
    ? []
    : logFeatures === "all"
    ? Array.from({ length: Xraw.cols }, (_, j) => j)
    : skewedColumns(Xraw);
  const Xlog = signedLog(Xraw, logColumns);
  const standardizer = fitStandardizer(Xlog);
  const X = standardize(Xlog, standardizer);
  const split = stratifiedSplit(ytrain, validationFraction, rng);
  const Xfit = takeRows(X, split.train), Xval = takeRows(X, split.test);
  const yfit = Int32Array.from(split.train, (i) => ytrain[i]);
  const yval = Int32Array.from(split.test, (i) => ytrain[i]);

  const stepsPerEpoch = Math.ceil(split.train.length / batch);
  const trainer = (Xs: Matrix, ys: Int32Array) =>
    practitionerEpochs(Xs, ys, rng, { ...settings, stepsPerEpoch });
  const epochOnFit = trainer(Xfit, yfit);
  let best = { loss: Infinity, epoch: 0, params: [] as Matrix[] };
  let epoch = 0;
  for (; epoch < maxEpochs && (epoch === 0 || epoch - best.epoch < patience); epoch++) {
    const evaluated = epochOnFit();
    const valP = probabilities(evaluated, Xval);
    const valLoss = stopOn === "auc" ? -rocAuc(valP, yval) : logLoss(valP, yval);
    if (valLoss < best.loss) {
      best = { loss: valLoss, epoch: epoch + 1, params: evaluated.map((p) => p.clone()) };
    }
  }
  if (refit > 0) {
    // Train again on every row of the training fold for refit × the best number of epochs.
    const epochOnAll = trainer(X, ytrain);
    let evaluated: Matrix[] = [];
    const epochs = Math.max(1, Math.round(best.epoch * refit));
    for (let e = 0; e < epochs; e++) evaluated = epochOnAll();
    best = { ...best, params: evaluated.map((p) => p.clone()) };
  }
  const threshold = thresholdOn === "validation"
    ? bestF1Threshold(probabilities(best.params, Xval), yval)
    : bestF1Threshold(probabilities(best.params, X), ytrain);
  return {
    sizes: [...layers],
    params: best.params,
    standardizer,
    threshold,
    logColumns,
    training: {
      epochs: epoch,
      bestEpoch: best.epoch,
      ...(stopOn === "auc" ? { validationRocAuc: -best.loss } : { validationLoss: best.loss }),
    },
  };
}

/**
 * One training run of the practitioner network on rows (Xs, ys): each call of the returned
 * function runs one shuffled epoch of Adam (or AdamW) steps and returns the weights to evaluate
 * (an exponential moving average of them when `ema` > 0).
 */
function practitionerEpochs(
  Xs: Matrix,
  ys: Int32Array,
  rng: Rng,
  settings: PractitionerSettings & { stepsPerEpoch: number },
): () => Matrix[] {
  const { layers, lr, batch, pulsarWeight, weightDecay, ema, cosineEpochs, cosineAlpha } = settings;
  let params = initMLP(layers, rng);
  // With cosineEpochs > 0 the rate decays from lr to cosineAlpha·lr over that many epochs.
  const rate = cosineEpochs > 0
    ? cosineDecay({
      init: lr,
      decaySteps: cosineEpochs * settings.stepsPerEpoch,
      alpha: cosineAlpha,
    })
    : lr;
  const opt = weightDecay > 0 ? adamw({ lr: rate, weightDecay }) : adam({ lr: rate });
  let state = opt.init(params);
  const lossAndGrad = valueAndGrad(crossEntropy);
  const average = params.map((p) => p.clone());
  const order = Int32Array.from(ys, (_, k) => k);
  return (): Matrix[] => {
    shuffle(rng, order);
    for (let start = 0; start < order.length; start += batch) {
      const rows = order.subarray(start, Math.min(start + batch, order.length));
      const Xb = batchOf(Xs, rows);
      const Tb = Matrix.zeros(rows.length, 2), Wb = Matrix.zeros(rows.length, 1);
      for (let k = 0; k < rows.length; k++) {
        const y = ys[rows[k]];
        Tb.data[2 * k + y] = 1;
        Wb.data[k] = y === 1 ? pulsarWeight : 1;
      }
      // The gradient lives in reused scratch memory; the update copies it out (ravel) and
      // the new parameters are fresh matrices, so nothing kept points into the scratch.
      withScratch(() => {
        const [, grads] = lossAndGrad(params, Xb, Tb, Wb);
        let updates;
        [updates, state] = opt.update(grads, state, params);
        params = applyUpdates(params, updates);
      });
      if (ema > 0) {
        for (let p = 0; p < params.length; p++) {
          const a = average[p].data, x = params[p].data;
          for (let i = 0; i < a.length; i++) a[i] = ema * a[i] + (1 - ema) * x[i];
        }
      }
    }
    return ema > 0 ? average : params;
  };
}

function fitPractitioner(Xraw: Matrix, ytrain: Int32Array, XtestRaw: Matrix, seed: number): Fitted {
  const model = trainPractitioner(Xraw, ytrain, seed);
  const Xtest = standardize(signedLog(XtestRaw, model.logColumns), model.standardizer);
  const scores = probabilities(model.params, Xtest);
  return {
    scores,
    predicted: thresholded(scores, model.threshold),
    threshold: model.threshold,
    training: model.training,
  };
}

/**
 * A copy of `X` with the columns `columns` replaced by sign(x)·log(1 + |x|) (`X` itself when
 * there are none): tames the heavy tails of HTRU2's skewness and kurtosis features.
 */
export function signedLog(X: Matrix, columns: readonly number[]): Matrix {
  if (columns.length === 0) return X;
  const out = X.clone(), d = out.data, cols = X.cols;
  for (let i = 0; i < X.rows; i++) {
    for (const j of columns) {
      const x = d[i * cols + j];
      d[i * cols + j] = Math.sign(x) * Math.log1p(Math.abs(x));
    }
  }
  return out;
}

/** The columns of `X` (training rows) whose sample skewness exceeds 1. */
function skewedColumns(X: Matrix): number[] {
  const out: number[] = [];
  for (let j = 0; j < X.cols; j++) {
    let m = 0;
    for (let i = 0; i < X.rows; i++) m += X.data[i * X.cols + j];
    m /= X.rows;
    let m2 = 0, m3 = 0;
    for (let i = 0; i < X.rows; i++) {
      const d = X.data[i * X.cols + j] - m;
      m2 += d * d, m3 += d * d * d;
    }
    m2 /= X.rows, m3 /= X.rows;
    if (m2 > 0 && m3 / m2 ** 1.5 > 1) out.push(j);
  }
  return out;
}

function fitLogistic(Xraw: Matrix, ytrain: Int32Array, XtestRaw: Matrix, _seed: number): Fitted {
  const { tolerance, maxIterations } = MODEL_SETTINGS.logistic;
  const [X, Xtest] = standardized(Xraw, XtestRaw);
  const y = labelRow(ytrain); // 1 × n
  const n = X.rows;
  const Xt = transpose(X) as Matrix;
  // Mean log loss plus ½‖w‖²/n: scikit-learn's C = 1 objective divided by n.
  const objective = ([w, b]: Tensor[]) =>
    add(
      sigmoidCrossEntropy(add(matmul(w, Xt), b), y),
      mul(0.5 / n, sum(square(w))),
    );
  const result = minimize(objective, [Matrix.zeros(1, X.cols), Matrix.zeros(1, 1)], {
    tolerance,
    maxIterations,
  });
  const [w, b] = result.x as Matrix[];
  const z = add(matmul(w, transpose(Xtest)), b) as Matrix;
  const scores = (sigmoid(z) as Matrix).data;
  return {
    scores,
    predicted: thresholded(scores, 0.5),
    threshold: 0.5,
    training: {
      iterations: result.iterations,
      converged: result.converged,
      loss: result.value,
    },
  };
}

function fitMajority(_X: Matrix, ytrain: Int32Array, Xtest: Matrix, _seed: number): Fitted {
  let positives = 0;
  for (const y of ytrain) positives += y;
  const rate = positives / ytrain.length;
  return {
    scores: new Float64Array(Xtest.rows).fill(rate),
    predicted: new Int32Array(Xtest.rows).fill(rate > 0.5 ? 1 : 0),
    threshold: null,
    training: { pulsarFraction: rate },
  };
}
