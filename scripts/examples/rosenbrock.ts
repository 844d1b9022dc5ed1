// HIPS autograd's examples/rosenbrock.py in denograd: the Rosenbrock function minimized from
// (0, 0) with gradients from autograd. The original hands `value_and_grad(rosenbrock)` to
// scipy's conjugate-gradient `minimize` (method "CG"); denograd's `minimize` has no CG, so
// this uses its L-BFGS (the default), which computes the same value and gradient with
// `valueAndGrad`. Both reach the minimum (1, 1): scipy's CG stops at [0.99999205 0.99998409].
//
//   deno run scripts/examples/rosenbrock.ts

import {
  add,
  Matrix,
  minimize,
  type MinimizeResult,
  mul,
  slice,
  square,
  sub,
  type Tensor,
} from "../../mod.ts";

const at = (x: Tensor, i: number) => slice(x, { cols: [i, i + 1] });

/** 100·(x₁ − x₀²)² + (1 − x₀)², of a 1×2 row x. */
export function rosenbrock(x: Tensor): Tensor {
  return add(mul(100, square(sub(at(x, 1), square(at(x, 0))))), square(sub(1, at(x, 0))));
}

/** Minimizes from (0, 0) with L-BFGS, or with Newton-CG when `method` says so. */
export function run(method: "lbfgs" | "newton" = "lbfgs"): MinimizeResult<Matrix> {
  return minimize(rosenbrock, Matrix.zeros(1, 2), { method });
}

/** A short vector with 8 decimals, as `[1.00000000 1.00000000]`. */
export function formatVector(v: ArrayLike<number>): string {
  return `[${Array.from(v, (x) => x.toFixed(8)).join(" ")}]`;
}

if (import.meta.main) {
  const result = run();
  console.log(`Found minimum at ${formatVector(result.x.data)}`);
  console.log(
    `(L-BFGS: ${result.iterations} iterations, ${result.evaluations} evaluations, ` +
      `f = ${result.value.toExponential(3)}, ${result.message})`,
  );
}
