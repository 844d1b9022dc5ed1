// Classification losses beside the MLP's mseLoss: softmax and sigmoid cross-entropy from
// logits, each written with the stable ops (logSoftmax, softplus) so large logits stay finite.

import { logSoftmax, mean, mul, softplus, sub, sum } from "../autograd/ops.ts";
import { checkTensor, formatShape, sameShape, shapeOf, type Tensor } from "../autograd/tracer.ts";

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
 */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  checkPair("softmaxCrossEntropy", logits, targets);
  const shape = shapeOf(logits);
  if (shape === undefined) {
    throw new TypeError(
      "softmaxCrossEntropy: expected a matrix of logits (samples × classes), got a scalar; " +
        "for one logit per sample use sigmoidCrossEntropy",
    );
  }
  return sub(0, mul(sum(mul(targets, logSoftmax(logits, { axis: 1 }))), 1 / shape[0]));
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
 */
export function sigmoidCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  checkPair("sigmoidCrossEntropy", logits, targets);
  return mean(sub(softplus(logits), mul(targets, logits)));
}
