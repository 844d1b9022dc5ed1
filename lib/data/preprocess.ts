// Preparing a data set for training: stratified train/test split, row selection, z-scores.

import { Matrix } from "../matrix.ts";
import { type Rng, sampleWithoutReplacement } from "../random.ts";

/** Row indices of a split, each list ascending (the order of the original data). */
export interface Split {
  /** Rows to train on. */
  train: number[];
  /** Held-out rows to evaluate on; empty when the test fraction is 0. */
  test: number[];
}

/**
 * Splits rows into train and test sets with the same class proportions: for each class,
 * `round(count × testFraction)` of its rows, chosen by {@linkcode sampleWithoutReplacement},
 * go to the test set, but at least 1 and at most `count - 1`, so every class is both trained
 * on and tested. The draws come from `rng` class by class, in ascending class order, so the
 * same seed gives the same split.
 *
 * @param testFraction In [0, 1); 0 puts every row in the training set and draws nothing.
 * @throws {RangeError} If `testFraction` is out of range, or it is above 0 and a class has
 * fewer than 2 rows (one cannot be on both sides).
 *
 * @example A 50/50 split keeps both classes on both sides
 * ```ts
 * import { createRng, stratifiedSplit } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const labels = [0, 0, 0, 0, 1, 1];
 * const { train, test } = stratifiedSplit(labels, 0.5, createRng(0));
 * assert.equal(test.filter((i) => labels[i] === 0).length, 2);
 * assert.equal(test.filter((i) => labels[i] === 1).length, 1);
 * assert.deepEqual([...train, ...test].sort(), [0, 1, 2, 3, 4, 5]);
 * ```
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  testFraction: number,
  rng: Rng,
): Split {
  if (!(testFraction >= 0 && testFraction < 1)) {
    throw new RangeError(`stratifiedSplit: testFraction must be in [0, 1), got ${testFraction}`);
  }
  const all = Array.from({ length: labels.length }, (_, i) => i);
  if (testFraction === 0) return { train: all, test: [] };

  const byClass = new Map<number, number[]>();
  for (const i of all) {
    const rows = byClass.get(labels[i]);
    if (rows) rows.push(i);
    else byClass.set(labels[i], [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  for (const c of classes) {
    const n = byClass.get(c)!.length;
    if (n < 2) {
      throw new RangeError(
        `stratifiedSplit: class ${c} has only ${n} row; testFraction ${testFraction} needs ` +
          `at least 2 rows of each class, one to train on and one to test`,
      );
    }
  }
  const isTest = new Uint8Array(labels.length);
  for (const c of classes) {
    const rows = byClass.get(c)!;
    // Rounding alone could hold out all of a small class, or none of it.
    const take = Math.min(Math.max(Math.round(rows.length * testFraction), 1), rows.length - 1);
    for (const k of sampleWithoutReplacement(rng, rows.length, take)) isTest[rows[k]] = 1;
  }
  const split: Split = { train: [], test: [] };
  for (const i of all) (isTest[i] ? split.test : split.train).push(i);
  return split;
}

/**
 * A new matrix holding the given rows of `X`, in the order given.
 *
 * @throws {RangeError} If `indices` is empty or an index is outside `X`.
 *
 * @example
 * ```ts
 * import { Matrix, takeRows } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const X = Matrix.from([[1, 2], [3, 4], [5, 6]]);
 * assert.deepEqual(takeRows(X, [2, 0]).toArray(), [[5, 6], [1, 2]]);
 * ```
 */
export function takeRows(
  X: Matrix,
  indices: readonly number[],
  options: { shared?: boolean } = {},
): Matrix {
  if (indices.length === 0) throw new RangeError("takeRows: no row indices given");
  const out = Matrix.zeros(indices.length, X.cols, options);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= X.rows) {
      throw new RangeError(`takeRows: row index ${i} is outside ${X}`);
    }
    out.data.set(X.data.subarray(i * X.cols, (i + 1) * X.cols), k * X.cols);
  }
  return out;
}

/** Per-feature statistics for z-scores, fitted by {@linkcode fitStandardizer}. */
export interface Standardizer {
  /** The mean of each column. */
  mean: number[];
  /** The population standard deviation of each column (divided by n), or 1 if it is 0. */
  std: number[];
}

/** Options for {@linkcode fitStandardizer}. */
export interface FitStandardizerOptions {
  /** The column names, for error messages (e.g. `LabeledData.featureNames`). */
  columnNames?: readonly string[];
}

/**
 * The mean and standard deviation of each column of `X` (samples × features): fit on the
 * training rows only, then {@linkcode standardize} every set with them. A constant column
 * gets std 1, so it is centred rather than divided by zero.
 *
 * @throws {RangeError} If a column's mean or standard deviation is not finite (values so
 * large, such as 1e200, that their sum or squares overflow), naming the column.
 *
 * @example
 * ```ts
 * import { fitStandardizer, Matrix } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const s = fitStandardizer(Matrix.from([[1, 5], [3, 5]]));
 * assert.deepEqual(s, { mean: [2, 5], std: [1, 1] });
 * assert.throws(
 *   () => fitStandardizer(Matrix.from([[1e200], [-1e200]]), { columnNames: ["dm"] }),
 *   /column 0 \("dm"\): its standard deviation overflows to Infinity/,
 * );
 * ```
 */
export function fitStandardizer(X: Matrix, options: FitStandardizerOptions = {}): Standardizer {
  const mean: number[] = [], std: number[] = [];
  for (let j = 0; j < X.cols; j++) {
    let sum = 0;
    for (let i = 0; i < X.rows; i++) sum += X.data[i * X.cols + j];
    const m = sum / X.rows;
    // Two passes: summing squared deviations is exact enough where E[x²] - m² would cancel.
    let squares = 0;
    for (let i = 0; i < X.rows; i++) squares += (X.data[i * X.cols + j] - m) ** 2;
    const s = Math.sqrt(squares / X.rows);
    if (!Number.isFinite(m) || !Number.isFinite(s)) {
      throw overflowError(
        X,
        j,
        Number.isFinite(m) ? ["standard deviation", s] : ["mean", m],
        options,
      );
    }
    mean.push(m);
    std.push(s > 0 ? s : 1);
  }
  return { mean, std };
}

/** The error for column `j` whose statistic `[name, value]` is not finite. */
function overflowError(
  X: Matrix,
  j: number,
  [statistic, value]: [string, number],
  options: FitStandardizerOptions,
): RangeError {
  let largest = 0;
  for (let i = 0; i < X.rows; i++) largest = Math.max(largest, Math.abs(X.data[i * X.cols + j]));
  const name = options.columnNames?.[j];
  const column = `column ${j}${name === undefined ? "" : ` (${JSON.stringify(name)})`}`;
  const why = Number.isFinite(largest)
    ? `its values reach ${largest.toExponential(3)}, too large to square or sum in 64-bit ` +
      "floats; rescale the column (e.g. divide it by a power of ten) before standardizing"
    : `it holds ${largest}`;
  return new RangeError(
    `fitStandardizer: ${column}: its ${statistic} overflows to ${value}: ${why}`,
  );
}

/**
 * A new matrix of z-scores `(x - mean) / std`, column by column.
 *
 * @throws {TypeError} If `X` does not have one column per statistic.
 *
 * @example Standardized training columns have mean 0 and std 1
 * ```ts
 * import { fitStandardizer, Matrix, standardize } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const X = Matrix.from([[1, 10], [3, 30]]);
 * assert.deepEqual(standardize(X, fitStandardizer(X)).toArray(), [[-1, -1], [1, 1]]);
 * ```
 */
export function standardize(
  X: Matrix,
  stats: Standardizer,
  options: { shared?: boolean } = {},
): Matrix {
  if (stats.mean.length !== X.cols || stats.std.length !== X.cols) {
    throw new TypeError(
      `standardize: ${X} has ${X.cols} columns but the statistics cover ${stats.mean.length}`,
    );
  }
  const out = Matrix.zeros(X.rows, X.cols, options);
  for (let i = 0; i < X.data.length; i++) {
    const j = i % X.cols;
    out.data[i] = (X.data[i] - stats.mean[j]) / stats.std[j];
  }
  return out;
}
