// Tests for the classification metrics (lib/nn/metrics.ts) and data preparation (lib/data/preprocess.ts).

import assert from "node:assert/strict";
import { Matrix } from "../lib/matrix.ts";
import {
  averagePrecision,
  binaryMetrics,
  classificationMetrics,
  precisionRecallCurve,
  predictClasses,
  rocAuc,
  rocCurve,
} from "../lib/nn/metrics.ts";
import { createRng } from "../lib/random.ts";
import { fitStandardizer, standardize, stratifiedSplit, takeRows } from "../lib/data/preprocess.ts";

function assertAlmostEquals(actual: number, expected: number, tol: number): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);
}

Deno.test("classificationMetrics counts the confusion with actual rows and predicted columns", () => {
  // 3 actual 0s: predicted 0, 0, 1. 2 actual 1s: predicted 1, 0.
  const m = classificationMetrics([0, 0, 1, 1, 0], [0, 0, 0, 1, 1]);
  assert.deepEqual(m.confusion, [[2, 1], [1, 1]]);
  assert.equal(m.accuracy, 3 / 5);
  assert.deepEqual(m.recall, { "0": 2 / 3, "1": 1 / 2 });
  assert.deepEqual(m.precision, { "0": 2 / 3, "1": 1 / 2 });
  assert.deepEqual(m.f1, { "0": 2 / 3, "1": 1 / 2 });
});

Deno.test("classificationMetrics gives 1 everywhere for perfect predictions", () => {
  const m = classificationMetrics([1, 0, 1, 0], [1, 0, 1, 0]);
  assert.equal(m.accuracy, 1);
  assert.deepEqual([m.recall, m.precision, m.f1], Array(3).fill({ "0": 1, "1": 1 }));
  assert.deepEqual(m.confusion, [[2, 0], [0, 2]]);
});

Deno.test("classificationMetrics scores 0, not NaN, for a class never predicted", () => {
  // A network that always says 0 (e.g. saturated): precision of class 1 is 0/0.
  const m = classificationMetrics([0, 0, 0, 0], [0, 1, 0, 1]);
  assert.equal(m.accuracy, 0.5);
  assert.deepEqual(m.recall, { "0": 1, "1": 0 });
  assert.deepEqual(m.precision, { "0": 0.5, "1": 0 });
  assert.deepEqual(m.f1, { "0": 2 / 3, "1": 0 });
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(m)));
});

Deno.test("classificationMetrics scores 0 recall for a class absent from the actual labels", () => {
  const m = classificationMetrics([0, 1, 1], [0, 0, 0], 2);
  assert.deepEqual(m.recall, { "0": 1 / 3, "1": 0 });
  assert.deepEqual(m.precision, { "0": 1, "1": 0 });
  assert.deepEqual(m.confusion, [[1, 2], [0, 0]]);
});

Deno.test("classificationMetrics handles three classes and an explicit class count", () => {
  const m = classificationMetrics([0, 1, 2, 2, 1], [0, 1, 2, 1, 1], 4);
  assert.deepEqual(m.confusion, [[1, 0, 0, 0], [0, 2, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]);
  assert.equal(m.accuracy, 4 / 5);
  assert.deepEqual(m.recall, { "0": 1, "1": 2 / 3, "2": 1, "3": 0 });
  assert.deepEqual(m.precision, { "0": 1, "1": 1, "2": 1 / 2, "3": 0 });
  assert.equal(m.f1["1"], 2 * (1 * 2 / 3) / (1 + 2 / 3));
});

Deno.test("classificationMetrics rejects mismatched, empty and out-of-range labels", () => {
  assert.throws(
    () => classificationMetrics([0, 1], [0]),
    (e) => e instanceof TypeError && /predicted has 2 labels but actual has 1/.test(e.message),
  );
  assert.throws(() => classificationMetrics([], []), TypeError);
  assert.throws(
    () => classificationMetrics([0, 2], [0, 1], 2),
    (e) =>
      e instanceof RangeError && /predicted label 2 at index 1 is outside \[0, 2\)/.test(e.message),
  );
  assert.throws(
    () => classificationMetrics([0, 1], [-1, 1], 2),
    /actual label -1 at index 0/,
  );
  assert.throws(() => classificationMetrics([0.5], [0], 2), RangeError);
});

Deno.test("predictClasses takes the argmax of each output row, the first on ties", () => {
  // One layer 2 -> 3: outputs tanh(W x + b) with W picking features, so the argmax is known.
  const W = Matrix.from([[1, 0], [0, 1], [0, 0]]);
  const b = Matrix.from([[0], [0], [0.5]]);
  const X = Matrix.from([[2, 0], [0, 2], [0, 0], [-1, -1], [1, 1]]);
  // Row 3: outputs (tanh -1, tanh -1, tanh .5): class 2. Row 4: tie between 0 and 1: class 0.
  assert.deepEqual([...predictClasses([W, b], X)], [0, 1, 2, 2, 0]);
});

Deno.test("predictClasses predicts class 0 for NaN outputs instead of failing", () => {
  const W = Matrix.from([[NaN], [NaN]]);
  const b = Matrix.from([[0], [0]]);
  assert.deepEqual([...predictClasses([W, b], Matrix.from([[1], [2]]))], [0, 0]);
});

Deno.test("stratifiedSplit keeps class proportions and covers every row once", () => {
  const labels = Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0)); // 300 vs 700
  const { train, test } = stratifiedSplit(labels, 0.2, createRng(4));
  assert.equal(test.filter((i) => labels[i] === 1).length, 60);
  assert.equal(test.filter((i) => labels[i] === 0).length, 140);
  assert.deepEqual([...train, ...test].sort((a, b) => a - b), labels.map((_, i) => i));
  assert.deepEqual(train, [...train].sort((a, b) => a - b), "indices ascending");
  assert.deepEqual(test, [...test].sort((a, b) => a - b), "indices ascending");
});

Deno.test("stratifiedSplit is the same for the same seed and differs between seeds", () => {
  const labels = Array.from({ length: 200 }, (_, i) => i % 2);
  const a = stratifiedSplit(labels, 0.25, createRng(1));
  assert.deepEqual(stratifiedSplit(labels, 0.25, createRng(1)), a);
  assert.notDeepEqual(stratifiedSplit(labels, 0.25, createRng(2)).test, a.test);
});

Deno.test("stratifiedSplit with fraction 0 keeps every row for training and draws nothing", () => {
  const rng = createRng(9);
  assert.deepEqual(stratifiedSplit([0, 1, 1], 0, rng), { train: [0, 1, 2], test: [] });
  assert.equal(rng.next(), createRng(9).next());
});

Deno.test("stratifiedSplit rejects fractions outside [0, 1)", () => {
  for (const f of [-0.1, 1, 2, NaN]) {
    assert.throws(() => stratifiedSplit([0, 1], f, createRng(0)), RangeError, `fraction ${f}`);
  }
});

Deno.test("stratifiedSplit holds out at least one row and keeps at least one of every class", () => {
  const heldOut = (labels: number[], f: number) => {
    const { test } = stratifiedSplit(labels, f, createRng(0));
    return [...new Set(labels)].sort().map((c) => test.filter((i) => labels[i] === c).length);
  };
  // round(2 × 0.1) = 0 would hold out nothing; round(2 × 0.9) = 2 would train on nothing.
  assert.deepEqual(heldOut([0, 1, 0, 1], 0.1), [1, 1]);
  assert.deepEqual(heldOut([0, 1, 0, 1], 0.9), [1, 1]);
  // A small class beside a large one: round(2 × 0.2) = 0 is raised to 1, the rest untouched.
  const labels = [...Array(100).fill(0), 1, 1];
  assert.deepEqual(heldOut(labels, 0.2), [20, 1]);
  assert.deepEqual(heldOut([0, 0, 0, 0, 0, 1, 1], 0.5), [3, 1]);
});

Deno.test("stratifiedSplit rejects a class of one row when holding out, naming it, and draws nothing", () => {
  const rng = createRng(3);
  assert.throws(
    () => stratifiedSplit([0, 0, 0, 0, 0, 1], 0.5, rng),
    (e) =>
      e instanceof RangeError &&
      /class 1 has only 1 row; testFraction 0\.5 needs at least 2 rows of each class/.test(
        e.message,
      ),
  );
  assert.equal(rng.next(), createRng(3).next());
  // Without a held-out set, one row is enough.
  assert.deepEqual(stratifiedSplit([0, 0, 1], 0, rng).train, [0, 1, 2]);
});

Deno.test("takeRows copies the chosen rows in order and checks the indices", () => {
  const X = Matrix.from([[1, 2], [3, 4], [5, 6]]);
  const out = takeRows(X, [1, 1, 0], { shared: true });
  assert.deepEqual(out.toArray(), [[3, 4], [3, 4], [1, 2]]);
  assert.equal(out.isShared, true);
  assert.throws(() => takeRows(X, [3]), /row index 3 is outside Matrix\(3x2\)/);
  assert.throws(() => takeRows(X, []), RangeError);
});

Deno.test("standardize gives training columns mean 0 and std 1 and reuses the statistics", () => {
  const rng = createRng(3);
  const X = Matrix.zeros(500, 3);
  for (let i = 0; i < X.data.length; i++) X.data[i] = 100 * (i % 3) + (i % 3 + 1) * rng.normal();
  const stats = fitStandardizer(X);
  const Z = standardize(X, stats);
  for (let j = 0; j < 3; j++) {
    const column = Array.from({ length: Z.rows }, (_, i) => Z.get(i, j));
    const mean = column.reduce((a, b) => a + b) / column.length;
    const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length;
    assert.ok(Math.abs(mean) < 1e-12, `column ${j} mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 1e-12, `column ${j} variance ${variance}`);
  }
  // Other rows are scaled with the training statistics, not their own.
  const other = standardize(Matrix.from([[stats.mean[0], 0, 0]]), stats);
  assert.equal(other.get(0, 0), 0);
});

Deno.test("fitStandardizer centres a constant column instead of dividing by zero", () => {
  const stats = fitStandardizer(Matrix.from([[7, 1], [7, 3]]));
  assert.deepEqual(stats, { mean: [7, 2], std: [1, 1] });
  assert.deepEqual(standardize(Matrix.from([[7, 2], [8, 4]]), stats).toArray(), [[0, 0], [1, 2]]);
});

Deno.test("standardize rejects a matrix with a different number of columns", () => {
  const stats = fitStandardizer(Matrix.from([[1, 2]]));
  assert.throws(
    () => standardize(Matrix.from([[1, 2, 3]]), stats),
    (e) => e instanceof TypeError && /has 3 columns but the statistics cover 2/.test(e.message),
  );
});

Deno.test("fitStandardizer names the column whose statistics overflow, at fit time", () => {
  // Issue 12.10: values near 1e200 gave std = Infinity, all-zero features, and a late failure.
  const X = Matrix.from([[1, 1e200], [2, -1e200], [3, 5e199]]);
  assert.throws(
    () => fitStandardizer(X, { columnNames: ["a", "huge"] }),
    (e) =>
      e instanceof RangeError &&
      /column 1 \("huge"\): its standard deviation overflows to Infinity/.test(e.message) &&
      /rescale the column/.test(e.message),
  );
  // Near the largest double even the mean overflows.
  assert.throws(
    () => fitStandardizer(Matrix.from([[1.5e308], [1.7e308]])),
    /column 0: its mean overflows to Infinity/,
  );
  assert.throws(() => fitStandardizer(Matrix.from([[1], [Infinity]])), /holds Infinity/);
});

// Issue 14's two-class metrics, checked against counts worked out by hand and against values
// computed once with numpy (brute-force Mann–Whitney over all pairs; AP over distinct
// thresholds as scikit-learn defines it) and recorded here.
const TIED_SCORES = [0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2];
const TIED_LABELS = [1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0];

Deno.test("binaryMetrics matches a hand-computed confusion matrix", () => {
  // actual:    1 1 1 1 0 0 0 0 0 0; predicted: 1 1 1 0 1 0 0 0 0 0 → tp 3, fn 1, fp 1, tn 5
  const m = binaryMetrics([1, 1, 1, 0, 1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([m.tp, m.fn, m.fp, m.tn], [3, 1, 1, 5]);
  assert.equal(m.accuracy, 0.8);
  assert.equal(m.recall, 0.75);
  assert.equal(m.precision, 0.75);
  assert.equal(m.f1, 0.75);
  assert.equal(m.fpr, 1 / 6);
  assert.equal(m.specificity, 5 / 6);
  assert.equal(m.gmean, Math.sqrt(0.75 * 5 / 6));
});

Deno.test("binaryMetrics of the majority-class baseline: zero recall, precision and F1, not NaN", () => {
  const m = binaryMetrics([0, 0, 0, 0], [0, 1, 0, 0]);
  assert.deepEqual([m.recall, m.precision, m.f1, m.fpr, m.gmean], [0, 0, 0, 0, 0]);
  assert.equal(m.accuracy, 0.75);
  assert.equal(m.specificity, 1);
  assert.throws(() => binaryMetrics([0, 2], [0, 1]), /labels must be 0 or 1, got predicted 2/);
  assert.throws(() => binaryMetrics([0], [0, 1]), TypeError);
});

Deno.test("rocAuc counts ties as one half (numpy reference)", () => {
  assert.equal(rocAuc(TIED_SCORES, TIED_LABELS), 0.7857142857142857);
  // Order-independent, and the same when every score is shifted.
  const reversed = [...TIED_SCORES].reverse(), reversedLabels = [...TIED_LABELS].reverse();
  assert.equal(rocAuc(reversed, reversedLabels), 0.7857142857142857);
  assert.equal(rocAuc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  assert.equal(rocAuc([0, 1], [0, 1]), 1);
  assert.throws(() => rocAuc([0.1, 0.2], [1, 1]), /needs both classes/);
  assert.throws(() => rocAuc([NaN, 0.2], [0, 1]), /score at index 0 is NaN/);
});

Deno.test("averagePrecision sums precision times added recall at distinct thresholds", () => {
  // By hand: thresholds 0.8, 0.4, 0.35, 0.1 give (R, P) = (1/2, 1), (1/2, 1/2), (1, 2/3), (1, 1/2).
  assert.equal(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.5 + 0.5 * (2 / 3));
  assertAlmostEquals(averagePrecision(TIED_SCORES, TIED_LABELS), 0.7087301587301588, 1e-15);
  // A constant score: one threshold at which all rows are predicted 1; AP is the positive rate.
  assert.equal(averagePrecision([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 0]), 0.25);
});

Deno.test("rocCurve and precisionRecallCurve step through distinct thresholds", () => {
  const roc = rocCurve(TIED_SCORES, TIED_LABELS);
  assert.equal(roc.x.length, 9); // 8 distinct scores plus (0, 0)
  assert.deepEqual([roc.x[0], roc.y[0], roc.x.at(-1), roc.y.at(-1)], [0, 0, 1, 1]);
  assert.equal(roc.thresholds[0], Infinity);
  // The trapezoid area under the curve equals the rank statistic, ties included.
  let area = 0;
  for (let i = 1; i < roc.x.length; i++) {
    area += (roc.x[i] - roc.x[i - 1]) * (roc.y[i] + roc.y[i - 1]) / 2;
  }
  assertAlmostEquals(area, rocAuc(TIED_SCORES, TIED_LABELS), 1e-15);
  const pr = precisionRecallCurve(TIED_SCORES, TIED_LABELS);
  assert.deepEqual(pr.recall.slice(0, 3), [0, 0.2, 0.4]);
  assert.deepEqual(pr.precision.slice(0, 3), [1, 1, 2 / 3]);
});
