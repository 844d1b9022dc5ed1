// The multilayer perceptron of the experiment: initialisation, forward pass and MSE loss.

import { Matrix } from "../matrix.ts";
import { add, matmulT, mean, square, sub, tanh, transpose } from "../autograd/ops.ts";
import type { Tensor } from "../autograd/tracer.ts";
import type { Rng } from "../random.ts";

/** Options for {@linkcode initMLP}. */
export interface InitOptions {
  /** Put every parameter in a `SharedArrayBuffer` (for the data-parallel trainer). */
  shared?: boolean;
}

/**
 * Initialises a `tanh` MLP with layer sizes `sizes` (inputs first): returns the weight list
 * `[W1, b1, W2, b2, ...]` where `Wl` is (out × in) and `bl` is (out × 1), every entry drawn
 * from normal(0, σ) with σ = 1/√(in + out), in that order, row by row.
 *
 * @example The experiment's 8-25-10-2 network
 * ```ts
 * import { createRng, initMLP } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const params = initMLP([8, 25, 10, 2], createRng(0));
 * assert.deepEqual(params.map((p) => p.shape), [[25, 8], [25, 1], [10, 25], [10, 1], [2, 10], [2, 1]]);
 * ```
 */
export function initMLP(sizes: readonly number[], rng: Rng, options: InitOptions = {}): Matrix[] {
  checkSizes(sizes);
  const params: Matrix[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const fanIn = sizes[l - 1], fanOut = sizes[l];
    const sigma = 1 / Math.sqrt(fanIn + fanOut);
    for (const cols of [fanIn, 1]) {
      const m = Matrix.zeros(fanOut, cols, options);
      for (let i = 0; i < m.data.length; i++) m.data[i] = sigma * rng.normal();
      params.push(m);
    }
  }
  return params;
}

/** Checks a layer-size list such as `[8, 25, 10, 2]`. */
export function checkSizes(sizes: readonly number[]): void {
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new RangeError(`MLP sizes need at least two layers (inputs and outputs), got [${sizes}]`);
  }
  for (const s of sizes) {
    if (!Number.isInteger(s) || s < 1) {
      throw new RangeError(`MLP sizes must be positive integers, got [${sizes}]`);
    }
  }
}

/**
 * The forward pass: with `h = Xᵀ`, each layer computes `h = tanh(W h + b)`; returns the
 * output transposed back to samples × outputs. `X` is samples × features (rows as in the CSV).
 *
 * @example
 * ```ts
 * import { createRng, initMLP, Matrix, mlpForward } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const params = initMLP([3, 4, 2], createRng(1));
 * const out = mlpForward(params, Matrix.zeros(5, 3)) as Matrix;
 * assert.deepEqual(out.shape, [5, 2]);
 * ```
 */
export function mlpForward(params: readonly Tensor[], X: Tensor): Tensor {
  return transpose(forwardFeaturesFirst(params, X));
}

/** The forward pass in the network's own layout: outputs × samples. */
function forwardFeaturesFirst(params: readonly Tensor[], X: Tensor): Tensor {
  if (params.length === 0 || params.length % 2 !== 0) {
    throw new TypeError(
      `MLP: expected the weight list [W1, b1, W2, b2, ...], got ${params.length} entries`,
    );
  }
  // The first layer multiplies by Xᵀ without materialising the transpose.
  let h = tanh(add(matmulT(params[0], X, false, true), params[1]));
  for (let l = 2; l < params.length; l += 2) {
    h = tanh(add(matmulT(params[l], h, false, false), params[l + 1]));
  }
  return h;
}

/**
 * Mean squared error of the MLP on a batch: `mean((mlpForward(params, X) - Y)²)` over all
 * elements, where `Y` is samples × outputs (one-hot targets). Differentiate it with `grad`.
 *
 * @example Gradient of the loss with respect to the weight list
 * ```ts
 * import { createRng, grad, initMLP, Matrix, mseLoss } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const params = initMLP([2, 3, 2], createRng(0));
 * const X = Matrix.from([[1, 2], [3, 4]]), Y = Matrix.from([[1, 0], [0, 1]]);
 * const g = grad(mseLoss)(params, X, Y);
 * assert.deepEqual(g.map((m) => m.shape), params.map((m) => m.shape));
 * ```
 */
export function mseLoss(params: readonly Tensor[], X: Tensor, Y: Tensor): Tensor {
  // Compare in outputs × samples layout: the mean of all elements is the same, and it saves
  // transposing the network's output.
  return mean(square(sub(forwardFeaturesFirst(params, X), transpose(Y))));
}
