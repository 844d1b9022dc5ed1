// Stratified k-fold cross-validation: which rows each fold tests on and trains on.

import { type Rng, shuffle } from "../random.ts";
import type { Split } from "./preprocess.ts";

/**
 * Deals rows into `k` folds with the class proportions of the whole: each class's rows are
 * shuffled (Fisher–Yates with `rng.randint`, classes in ascending order) and dealt round-robin,
 * each class starting at the fold after where the previous class stopped. So every fold holds
 * ⌊n_c/k⌋ or ⌈n_c/k⌉ rows of each class c (its class ratio is within one row of the whole) and
 * fold sizes differ by at most one. Returns one {@linkcode Split} per fold: `test` is the fold,
 * `train` every other row, both ascending. Same labels, `k` and seed: the same folds.
 *
 * @throws {RangeError} If `k` is not an integer from 2 to the number of rows, or a class has
 * fewer than `k` rows (a fold would miss it, as scikit-learn warns).
 *
 * @example Two classes, three folds
 * ```ts
 * import { createRng, stratifiedFolds } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const labels = [0, 0, 0, 0, 0, 0, 1, 1, 1];
 * const folds = stratifiedFolds(labels, 3, createRng(0));
 * assert.equal(folds.length, 3);
 * for (const { train, test } of folds) {
 *   assert.equal(test.filter((i) => labels[i] === 1).length, 1);
 *   assert.equal(train.length + test.length, 9);
 * }
 * assert.deepEqual(folds.flatMap((f) => f.test).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
 * ```
 */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, rng: Rng): Split[] {
  if (!Number.isInteger(k) || k < 2 || k > labels.length) {
    throw new RangeError(
      `stratifiedFolds: k must be an integer from 2 to the number of rows (${labels.length}), got ${k}`,
    );
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const rows = byClass.get(labels[i]);
    if (rows) rows.push(i);
    else byClass.set(labels[i], [i]);
  }
  const fold = new Int32Array(labels.length);
  let next = 0;
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = byClass.get(c)!;
    if (rows.length < k) {
      throw new RangeError(
        `stratifiedFolds: class ${c} has only ${rows.length} row${rows.length === 1 ? "" : "s"}; ` +
          `${k} folds need at least ${k} rows of each class`,
      );
    }
    shuffle(rng, rows);
    for (const row of rows) {
      fold[row] = next;
      next = (next + 1) % k;
    }
  }
  return Array.from({ length: k }, (_, f) => {
    const split: Split = { train: [], test: [] };
    for (let i = 0; i < labels.length; i++) (fold[i] === f ? split.test : split.train).push(i);
    return split;
  });
}
