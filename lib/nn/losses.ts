// Classification losses beside the MLP's mseLoss: softmax and sigmoid cross-entropy from
// logits, each written with the stable ops (logSoftmax, softplus) so large logits stay finite.

import { logSoftmax, mean, mul, softplus, sub, sum } from "../autograd/ops.ts";
import { broadcastShapes } from "../autograd/ops/_helpers.ts";
import { checkTensor, formatShape, sameShape, shapeOf, type Tensor } from "../autograd/tracer.ts";

/** Options of the cross-entropy losses. */
export interface CrossEntropyOptions {
  /**
   * A weight per sample (class weighting, importance weights): for
   * {@linkcode softmaxCrossEntropy} a samples × 1 column, one weight per row; for
   * {@linkcode sigmoidCrossEntropy} anything that broadcasts to the logits' shape. Each
   * sample's loss is multiplied by its weight before the mean, which still divides by the
   * number of samples (not by the weights' sum). Constant: no gradient flows into it.
   * Default: every weight 1.
   */
  weights?: Tensor;
}

function checkWeights(op: string, logits: Tensor, weights: Tensor, rows: boolean): void {
  checkTensor(op, weights, 2);
  const ls = shapeOf(logits), ws = shapeOf(weights);
  const fits = rows
    ? ws === undefined || (ls !== undefined && ws[0] === ls[0] && ws[1] === 1)
    : ls === undefined
    ? ws === undefined
    : ws === undefined || sameDims(broadcastShapes(op, ls, ws), ls);
  if (!fits) {
    throw new TypeError(
      `${op}: weights of shape ${formatShape(ws)} do not fit logits of shape ${formatShape(ls)}; ${
        rows ? "give one weight per sample, a samples × 1 column" : "they must broadcast to it"
      }`,
    );
  }
}

type Shape = [number, number] | undefined;

function sameDims(a: Shape, b: Shape): boolean {
  return a === b || (a !== undefined && b !== undefined && a[0] === b[0] && a[1] === b[1]);
}

function checkPair(op: string, logits: Tensor, targets: Tensor): void {
  checkTensor(op, logits, 0), checkTensor(op, targets, 1);
  if (!sameShape(logits, targets)) {
    throw new TypeError(
      `${op}: logits and targets must have the same shape, got ${
        formatShape(shapeOf(logits))
      } and ${formatShape(shapeOf(targets))}`,
    );
  }
}

/**
 * Softmax cross-entropy of `logits` (samples × classes: one row per sample) against
 * `targets` of the same shape, one-hot or class probabilities per row:
 * `-sum(targets * logSoftmax(logits)) / samples`, the mean over samples (rows) of each
 * sample's cross-entropy. Stable for large logits (±1000 give finite values). Its gradient
 * with respect to the logits is `(softmax(logits) - targets) / samples`.
 *
 * @example
 * ```ts
 * import { grad, Matrix, softmaxCrossEntropy } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const logits = Matrix.from([[0, 0], [1000, -1000]]);
 * const targets = Matrix.from([[1, 0], [1, 0]]);
 * assert.equal(softmaxCrossEntropy(logits, targets), Math.LN2 / 2);
 * const g = grad(softmaxCrossEntropy)(logits, targets) as Matrix;
 * assert.deepEqual(g.toArray(), [[-0.25, 0.25], [0, 0]]);
 * ```
 *
 * @example Class weighting: the second sample counts three times
 * ```ts
 * import { Matrix, softmaxCrossEntropy } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const logits = Matrix.from([[0, 0], [0, 0]]), targets = Matrix.from([[1, 0], [0, 1]]);
 * const weights = Matrix.from([[1], [3]]);
 * assert.equal(softmaxCrossEntropy(logits, targets, { weights }), 2 * Math.LN2);
 * ```
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  checkPair("softmaxCrossEntropy", logits, targets);
  const shape = shapeOf(logits);
  if (shape === undefined) {
    throw new TypeError(
      "softmaxCrossEntropy: expected a matrix of logits (samples × classes), got a scalar; " +
        "for one logit per sample use sigmoidCrossEntropy",
    );
  }
  const { weights } = options;
  const perClass = mul(targets, logSoftmax(logits, { axis: 1 }));
  if (weights === undefined) return sub(0, mul(sum(perClass), 1 / shape[0]));
  checkWeights("softmaxCrossEntropy", logits, weights, true);
  return sub(0, mul(sum(mul(weights, perClass)), 1 / shape[0]));
}

/**
 * Sigmoid (binary) cross-entropy of `logits` against `targets` in [0, 1] of the same shape,
 * element-wise, then the mean over all elements:
 * `mean(-t log σ(x) - (1 - t) log(1 - σ(x)))`, computed as `mean(softplus(x) - t x)` so
 * that large logits stay finite. Its gradient is `(sigmoid(logits) - targets) / elements`.
 *
 * @example
 * ```ts
 * import { grad, Matrix, sigmoidCrossEntropy } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const logits = Matrix.from([[0, 1000, -1000]]), targets = Matrix.from([[1, 1, 0]]);
 * assert.equal(sigmoidCrossEntropy(logits, targets), Math.LN2 / 3);
 * const g = grad(sigmoidCrossEntropy)(logits, targets) as Matrix;
 * assert.deepEqual(g.toArray(), [[-0.5 / 3, 0, 0]]);
 * ```
 *
 * @example Per-element weights (here per sample of a 1 × n row)
 * ```ts
 * import { Matrix, sigmoidCrossEntropy } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const logits = Matrix.from([[0, 0]]), targets = Matrix.from([[1, 0]]);
 * const weights = Matrix.from([[3, 1]]);
 * assert.equal(sigmoidCrossEntropy(logits, targets, { weights }), 2 * Math.LN2);
 * ```
 */
export function sigmoidCrossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  checkPair("sigmoidCrossEntropy", logits, targets);
  const { weights } = options;
  const each = sub(softplus(logits), mul(targets, logits));
  if (weights === undefined) return mean(each);
  checkWeights("sigmoidCrossEntropy", logits, weights, false);
  return mean(mul(weights, each));
}
