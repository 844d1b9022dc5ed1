// The trainer's default loss module: the experiment's MLP mean squared error, importable by URL.

import { mseLoss } from "../nn/mlp.ts";
import type { Tensor } from "../autograd/tracer.ts";

/**
 * The loss `train` uses when no `loss` module is given: {@linkcode mseLoss}. A custom loss
 * module has the same shape: it exports `loss(params, X, Y)` returning a scalar tensor, and
 * both the main thread and the workers import it by URL. The trainer jits the loss's value
 * and gradient (`jit(valueAndGrad(loss))`): the loss's JS runs once per batch shape, so it
 * must not branch on traced values; a module that exports `jit = false` runs eagerly.
 *
 * @example
 * ```ts
 * import { loss } from "./mlp_loss.ts";
 * import { createRng, initMLP, Matrix, mseLoss } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const params = initMLP([2, 2], createRng(0));
 * const X = Matrix.from([[1, 2]]), Y = Matrix.from([[0, 1]]);
 * assert.deepEqual(loss(params, X, Y), mseLoss(params, X, Y));
 * ```
 */
export function loss(params: readonly Tensor[], X: Tensor, Y: Tensor): Tensor {
  return mseLoss(params, X, Y);
}
