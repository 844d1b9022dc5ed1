// Classification metrics: argmax predictions, multi-class and two-class scores, ROC and PR curves.

import type { Matrix } from "../matrix.ts";
import { mlpForward } from "./mlp.ts";

/**
 * The class the MLP predicts for each row of `X` (samples × features): the index of the
 * largest output. On a tie the lowest index wins; NaN outputs never win, so an all-NaN row
 * (a diverged network) predicts class 0.
 *
 * @example
 * ```ts
 * import { createRng, initMLP, Matrix, predictClasses } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const params = initMLP([2, 3, 2], createRng(0));
 * const classes = predictClasses(params, Matrix.from([[1, 2], [3, 4], [5, 6]]));
 * assert.equal(classes.length, 3);
 * assert.ok(classes.every((c) => c === 0 || c === 1));
 * ```
 */
export function predictClasses(params: readonly Matrix[], X: Matrix): Int32Array {
  return argmaxRows(mlpForward(params, X) as Matrix);
}

/** Index of the largest entry of each row; the first one on ties, and NaN never wins. */
function argmaxRows(out: Matrix): Int32Array {
  const classes = new Int32Array(out.rows);
  for (let i = 0; i < out.rows; i++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let j = 0; j < out.cols; j++) {
      const v = out.data[i * out.cols + j];
      if (v > bestValue) {
        best = j;
        bestValue = v;
      }
    }
    classes[i] = best;
  }
  return classes;
}

/** A per-class score, keyed by the class as a string (`"0"`, `"1"`, ...), as in JSON. */
export type PerClass = Record<string, number>;

/** The result of {@linkcode classificationMetrics}. */
export interface ClassificationMetrics {
  /** Fraction of samples whose predicted class is the actual one. */
  accuracy: number;
  /** Per class c: of the samples that are c, the fraction predicted c (0 if none are c). */
  recall: PerClass;
  /** Per class c: of the samples predicted c, the fraction that are c (0 if none predicted). */
  precision: PerClass;
  /** Per class: the harmonic mean of precision and recall (0 when both are 0). */
  f1: PerClass;
  /** `confusion[actual][predicted]`: counts, rows are actual classes, columns predicted. */
  confusion: number[][];
}

/**
 * Accuracy, per-class recall, precision and F1, and the confusion matrix of `predicted`
 * against `actual` class labels (integers in [0, numClasses)).
 *
 * Conventions: `confusion[a][p]` counts samples of actual class `a` predicted as `p` (rows
 * actual, columns predicted). A ratio with a zero denominator is 0, not NaN: recall of a
 * class absent from `actual`, precision of a class never predicted, and F1 when both are 0.
 * This keeps the result valid JSON.
 *
 * @param numClasses Number of classes; default one more than the largest label seen.
 * @throws {TypeError} If the two lists differ in length or are empty.
 * @throws {RangeError} If a label is not an integer in [0, numClasses).
 *
 * @example Recall of each class from a small confusion
 * ```ts
 * import { classificationMetrics } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = classificationMetrics([0, 1, 1, 1], [0, 0, 1, 1]);
 * assert.equal(m.accuracy, 0.75);
 * assert.deepEqual(m.recall, { "0": 0.5, "1": 1 });
 * assert.deepEqual(m.precision, { "0": 1, "1": 2 / 3 });
 * assert.deepEqual(m.confusion, [[1, 1], [0, 2]]);
 * ```
 */
export function classificationMetrics(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  numClasses?: number,
): ClassificationMetrics {
  if (predicted.length !== actual.length) {
    throw new TypeError(
      `classificationMetrics: predicted has ${predicted.length} labels but actual has ${actual.length}`,
    );
  }
  if (actual.length === 0) throw new TypeError("classificationMetrics: no labels given");
  let k = numClasses;
  if (k === undefined) {
    k = 0;
    for (let i = 0; i < actual.length; i++) k = Math.max(k, predicted[i] + 1, actual[i] + 1);
  }
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`classificationMetrics: numClasses must be a positive integer, got ${k}`);
  }

  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < actual.length; i++) {
    for (const [name, c] of [["actual", actual[i]], ["predicted", predicted[i]]] as const) {
      if (!Number.isInteger(c) || c < 0 || c >= k) {
        throw new RangeError(
          `classificationMetrics: ${name} label ${c} at index ${i} is outside [0, ${k})`,
        );
      }
    }
    confusion[actual[i]][predicted[i]]++;
  }

  const ratio = (a: number, b: number) => b === 0 ? 0 : a / b;
  const recall: PerClass = {}, precision: PerClass = {}, f1: PerClass = {};
  let correct = 0;
  for (let c = 0; c < k; c++) {
    const hits = confusion[c][c];
    let actualCount = 0, predictedCount = 0;
    for (let j = 0; j < k; j++) {
      actualCount += confusion[c][j];
      predictedCount += confusion[j][c];
    }
    correct += hits;
    recall[c] = ratio(hits, actualCount);
    precision[c] = ratio(hits, predictedCount);
    f1[c] = ratio(2 * precision[c] * recall[c], precision[c] + recall[c]);
  }
  return { accuracy: correct / actual.length, recall, precision, f1, confusion };
}

/** The result of {@linkcode binaryMetrics}: class 1 is the positive class (a pulsar). */
export interface BinaryMetrics {
  /** True positives: actual 1, predicted 1. */
  tp: number;
  /** False positives: actual 0, predicted 1. */
  fp: number;
  /** True negatives: actual 0, predicted 0. */
  tn: number;
  /** False negatives: actual 1, predicted 0. */
  fn: number;
  /** (tp + tn) / n. */
  accuracy: number;
  /** tp / (tp + fn): the fraction of positives found (sensitivity, true-positive rate). */
  recall: number;
  /** tp / (tp + fp): the fraction of predicted positives that are positive. */
  precision: number;
  /** The harmonic mean of precision and recall. */
  f1: number;
  /** fp / (fp + tn): the fraction of negatives flagged (false-positive rate). */
  fpr: number;
  /** tn / (tn + fp) = 1 − fpr. */
  specificity: number;
  /** √(recall · specificity), the G-mean of Lyon et al. (2016). */
  gmean: number;
}

/**
 * The two-class confusion counts and the scores built from them, class 1 positive. A ratio
 * with a zero denominator is 0 (as in {@linkcode classificationMetrics}): the precision of a
 * model that never predicts 1, and its F1.
 *
 * @throws {TypeError} If the lists differ in length or are empty.
 * @throws {RangeError} If a label is neither 0 nor 1.
 *
 * @example
 * ```ts
 * import { binaryMetrics } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = binaryMetrics([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]);
 * assert.deepEqual([m.tp, m.fp, m.tn, m.fn], [2, 1, 1, 1]);
 * assert.equal(m.recall, 2 / 3);
 * assert.equal(m.fpr, 0.5);
 * assert.equal(m.gmean, Math.sqrt(2 / 3 * 0.5));
 * ```
 */
export function binaryMetrics(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
): BinaryMetrics {
  checkPairs("binaryMetrics", predicted, actual, "predicted");
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], p = predicted[i];
    if ((a !== 0 && a !== 1) || (p !== 0 && p !== 1)) {
      throw new RangeError(
        `binaryMetrics: labels must be 0 or 1, got predicted ${p} and actual ${a} at index ${i}`,
      );
    }
    if (a === 1) p === 1 ? tp++ : fn++;
    else p === 1 ? fp++ : tn++;
  }
  const ratio = (x: number, y: number) => y === 0 ? 0 : x / y;
  const recall = ratio(tp, tp + fn), precision = ratio(tp, tp + fp);
  const fpr = ratio(fp, fp + tn), specificity = ratio(tn, fp + tn);
  return {
    tp,
    fp,
    tn,
    fn,
    accuracy: (tp + tn) / actual.length,
    recall,
    precision,
    f1: ratio(2 * precision * recall, precision + recall),
    fpr,
    specificity,
    gmean: Math.sqrt(recall * specificity),
  };
}

/**
 * The area under the ROC curve of `scores` (higher means more likely class 1) against 0/1
 * `labels`: the Mann–Whitney statistic, the probability that a random positive scores above a
 * random negative, ties counting one half (average ranks), as scikit-learn's `roc_auc_score`.
 *
 * @throws {TypeError} If the lists differ in length or are empty.
 * @throws {RangeError} If a score is NaN, a label is not 0 or 1, or only one class is present.
 *
 * @example A tie between a positive and a negative counts one half
 * ```ts
 * import { rocAuc } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
 * assert.equal(rocAuc([0.5, 0.5, 0.9], [0, 1, 1]), 0.75);
 * ```
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = rankOrder("rocAuc", scores, labels);
  const n = order.length;
  let positives = 0, positiveRanks = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]] === scores[order[start]]) end++;
    const rank = (start + end) / 2 + 1; // ranks are 1-based, ascending by score
    for (let k = start; k <= end; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        positiveRanks += rank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  return (positiveRanks - positives * (positives + 1) / 2) / (positives * negatives);
}

/**
 * Average precision, as scikit-learn's `average_precision_score`: with thresholds at each
 * distinct score from the highest down, `AP = Σₙ (Rₙ − Rₙ₋₁) Pₙ` (R₀ = 0), the precision at
 * each threshold weighted by the recall it adds; no interpolation. It summarises the
 * precision–recall curve (the "PR AUC").
 *
 * @throws {TypeError} If the lists differ in length or are empty.
 * @throws {RangeError} If a score is NaN, a label is not 0 or 1, or only one class is present.
 *
 * @example
 * ```ts
 * import { averagePrecision } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * // Thresholds 0.8, 0.4, 0.35, 0.1: (R, P) = (1/2, 1), (1/2, 1/2), (1, 2/3), (1, 1/2).
 * assert.equal(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.5 * 1 + 0.5 * (2 / 3));
 * ```
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { recall, precision } = precisionRecallCurve(scores, labels);
  let ap = 0;
  for (let i = 1; i < recall.length; i++) ap += (recall[i] - recall[i - 1]) * precision[i];
  return ap;
}

/** A curve from {@linkcode rocCurve} or {@linkcode precisionRecallCurve}: one point per threshold. */
export interface Curve {
  /** The x coordinates: false-positive rate (ROC) or recall (PR). */
  x: number[];
  /** The y coordinates: true-positive rate (ROC) or precision (PR). */
  y: number[];
  /** Each point's threshold (predict 1 when score ≥ it); `Infinity` for the start point. */
  thresholds: number[];
}

/**
 * The ROC curve: at each distinct score from the highest down, the false-positive rate (`x`)
 * and true-positive rate (`y`) of predicting 1 for scores at or above it, from (0, 0).
 *
 * @throws {TypeError} If the lists differ in length or are empty.
 * @throws {RangeError} If a score is NaN, a label is not 0 or 1, or only one class is present.
 *
 * @example
 * ```ts
 * import { rocCurve } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const c = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
 * assert.deepEqual(c.x, [0, 0, 0.5, 0.5, 1]);
 * assert.deepEqual(c.y, [0, 0.5, 0.5, 1, 1]);
 * ```
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): Curve {
  const { tps, fps, thresholds } = cumulativeCounts("rocCurve", scores, labels);
  const p = tps.at(-1)!, n = fps.at(-1)!;
  return { x: fps.map((f) => f / n), y: tps.map((t) => t / p), thresholds };
}

/**
 * The precision–recall curve, as a list of (recall `x`, precision `y`) points at each distinct
 * score from the highest down, starting from recall 0 with precision 1 (scikit-learn's end
 * point, at the other end of its arrays).
 *
 * @throws {TypeError} If the lists differ in length or are empty.
 * @throws {RangeError} If a score is NaN, a label is not 0 or 1, or only one class is present.
 *
 * @example
 * ```ts
 * import { precisionRecallCurve } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const c = precisionRecallCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
 * assert.deepEqual(c.x, [0, 0.5, 0.5, 1, 1]);
 * assert.deepEqual(c.y, [1, 1, 0.5, 2 / 3, 0.5]);
 * ```
 */
export function precisionRecallCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): Curve & { recall: number[]; precision: number[] } {
  const { tps, fps, thresholds } = cumulativeCounts("precisionRecallCurve", scores, labels);
  const p = tps.at(-1)!;
  const recall = tps.map((t) => t / p);
  const precision = tps.map((t, i) => i === 0 ? 1 : t / (t + fps[i]));
  return { x: recall, y: precision, thresholds, recall, precision };
}

/** True and false positives at each distinct threshold, highest first, from (0, 0). */
function cumulativeCounts(
  where: string,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): { tps: number[]; fps: number[]; thresholds: number[] } {
  const order = rankOrder(where, scores, labels).reverse();
  const tps = [0], fps = [0], thresholds = [Infinity];
  let tp = 0, fp = 0;
  for (let k = 0; k < order.length; k++) {
    labels[order[k]] === 1 ? tp++ : fp++;
    const s = scores[order[k]];
    if (k + 1 === order.length || scores[order[k + 1]] !== s) {
      tps.push(tp);
      fps.push(fp);
      thresholds.push(s);
    }
  }
  return { tps, fps, thresholds };
}

/** Row indices sorted by ascending score, after checking the inputs. */
function rankOrder(where: string, scores: ArrayLike<number>, labels: ArrayLike<number>): number[] {
  checkPairs(where, scores, labels, "scores");
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) {
      throw new RangeError(`${where}: labels must be 0 or 1, got ${labels[i]} at index ${i}`);
    }
    if (Number.isNaN(scores[i])) throw new RangeError(`${where}: score at index ${i} is NaN`);
    positives += labels[i];
  }
  if (positives === 0 || positives === labels.length) {
    throw new RangeError(
      `${where}: needs both classes, got only ${
        positives === 0 ? 0 : 1
      }s in ${labels.length} labels`,
    );
  }
  const byScore = (a: number, b: number) =>
    scores[a] < scores[b] ? -1 : scores[a] > scores[b] ? 1 : a - b;
  return Array.from({ length: scores.length }, (_, i) => i).sort(byScore);
}

function checkPairs(
  where: string,
  first: ArrayLike<number>,
  labels: ArrayLike<number>,
  name: string,
): void {
  if (first.length !== labels.length) {
    throw new TypeError(
      `${where}: ${name} has ${first.length} entries but the labels have ${labels.length}`,
    );
  }
  if (labels.length === 0) throw new TypeError(`${where}: no labels given`);
}
