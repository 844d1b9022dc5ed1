// HIPS autograd's examples/logistic_regression.py in denograd: logistic regression on a
// 4-row toy dataset, its gradient checked against finite differences, then 100 steps of
// gradient descent. Same data and maths as the original (its sigmoid is 0.5·(tanh(x) + 1)),
// so it prints the same losses: 2.772588722239781 and 0.38900754315581143.
//
//   deno run scripts/examples/logistic_regression.ts

import {
  add,
  checkGrads,
  grad,
  log,
  matmul,
  Matrix,
  mul,
  neg,
  sub,
  sum,
  tanh,
  type Tensor,
} from "../../mod.ts";

const sigmoid = (x: Tensor) => mul(0.5, add(tanh(x), 1));

/** The probability of each label being true under the logistic model. */
function logisticPredictions(weights: Tensor, inputs: Tensor): Tensor {
  return sigmoid(matmul(inputs, weights));
}

/** The toy dataset: four rows of three features, and their labels as a 0/1 column. */
export const inputs = Matrix.from([
  [0.52, 1.12, 0.77],
  [0.88, -1.08, 0.15],
  [0.52, 0.06, -1.30],
  [0.74, -2.49, 1.39],
]);
export const targets = Matrix.from([[1], [1], [0], [1]]);

/** The negative log-likelihood of the training labels. */
export function trainingLoss(weights: Tensor): Tensor {
  const preds = logisticPredictions(weights, inputs);
  const labelProbabilities = add(mul(preds, targets), mul(sub(1, preds), sub(1, targets)));
  return neg(sum(log(labelProbabilities)));
}

/** What {@linkcode run} found. */
export interface LogisticRegressionResult {
  initialLoss: number;
  trainedLoss: number;
  weights: Matrix;
}

/** Checks the gradient, then runs `steps` steps of gradient descent with step size 0.01. */
export function run(steps = 100): LogisticRegressionResult {
  const trainingGradient = grad(trainingLoss);
  let weights = Matrix.zeros(3, 1);
  // Reverse mode only, as the original (throws if the gradient disagrees with differences).
  checkGrads(trainingLoss, [weights], { modes: ["rev"] });
  const initialLoss = trainingLoss(weights) as number;
  for (let i = 0; i < steps; i++) {
    weights = sub(weights, mul(trainingGradient(weights), 0.01)) as Matrix;
  }
  return { initialLoss, trainedLoss: trainingLoss(weights) as number, weights };
}

if (import.meta.main) {
  const { initialLoss, trainedLoss } = run();
  console.log("Initial loss:", initialLoss);
  console.log("Trained loss:", trainedLoss);
}
