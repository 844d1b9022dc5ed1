// Classification metrics: argmax predictions of the MLP, accuracy, per-class recall/precision/F1.

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
