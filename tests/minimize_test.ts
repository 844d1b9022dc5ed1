// minimize(): L-BFGS and Newton-CG on Rosenbrock, quadratics, trees, and their error cases.

import assert from "node:assert/strict";
import {
  add,
  log,
  matmul,
  Matrix,
  mean,
  minimize,
  mul,
  square,
  sub,
  sum,
  type Tensor,
} from "../mod.ts";

const rosenbrock = ([x, y]: Tensor[]) =>
  add(square(sub(1, x)), mul(100, square(sub(y, square(x)))));

function assertNear(actual: number[], expected: number[], tolerance: number) {
  actual.forEach((a, i) =>
    assert.ok(Math.abs(a - expected[i]) <= tolerance, `element ${i}: ${a} vs ${expected[i]}`)
  );
}

Deno.test("L-BFGS reaches Rosenbrock's minimum from (-1.2, 1) in about as many iterations as scipy", () => {
  const result = minimize(rosenbrock, [-1.2, 1]);
  assert.ok(result.converged, result.message);
  assertNear(result.x as number[], [1, 1], 1e-6);
  // Measured: 37 iterations, 46 evaluations (scipy's L-BFGS-B: 36 and 44, to a looser tolerance).
  assert.ok(result.iterations <= 45, `${result.iterations} iterations`);
  assert.ok(result.evaluations <= 60, `${result.evaluations} evaluations`);
  assert.ok(result.gradNorm <= 1e-8);
  assert.equal(result.hessianProducts, 0);
  assert.ok(result.value < 1e-18);
  assert.match(result.message, /^converged/);
});

Deno.test("Newton-CG reaches Rosenbrock's minimum with Hessian-vector products from jvp of grad", () => {
  const result = minimize(rosenbrock, [-1.2, 1], { method: "newton" });
  assert.ok(result.converged, result.message);
  assertNear(result.x as number[], [1, 1], 1e-6);
  // Measured: 74 iterations, 101 evaluations, 125 products (scipy's Newton-CG: 83 and 105).
  assert.ok(result.iterations <= 90, `${result.iterations} iterations`);
  assert.ok(result.hessianProducts > 0);
});

Deno.test("both methods solve a quadratic over a matrix argument: A x = b", () => {
  const A = Matrix.from([[4, 1, 0], [1, 3, 1], [0, 1, 2]]);
  const b = Matrix.from([[1], [2], [3]]);
  // ½ xᵀA x − bᵀx, minimised at A⁻¹b = (2/9, 1/9, 13/9) (numpy.linalg.solve)
  const f = (x: Tensor) => sub(mul(0.5, sum(mul(x, matmul(A, x)))), sum(mul(b, x)));
  for (const method of ["lbfgs", "newton"] as const) {
    const result = minimize(f, Matrix.zeros(3, 1), { method, tolerance: 1e-12 });
    assert.ok(result.converged, `${method}: ${result.message}`);
    assertNear([...result.x.data], [2 / 9, 1 / 9, 13 / 9], 1e-12);
    assert.deepEqual(result.x.shape, [3, 1]);
    assert.ok(result.iterations <= 12, `${method}: ${result.iterations} iterations`);
  }
});

Deno.test("both methods fit a least-squares line over a tree { w, b }", () => {
  const X = Matrix.from([[1, 2], [2, 0.5], [3, -1], [4, 1.5], [-1, 0]]);
  const y = Matrix.from([[1], [2], [1.5], [4], [-2]]);
  const loss = (p: { w: Tensor; b: Tensor }) => mean(square(sub(add(matmul(X, p.w), p.b), y)));
  // numpy.linalg.lstsq on [X, 1]
  const expected = [1.0464285714285722, 0.5214285714285726, -0.896428571428571];
  for (const method of ["lbfgs", "newton"] as const) {
    const result = minimize(loss, { w: Matrix.zeros(2, 1), b: 0 }, { method });
    assert.ok(result.converged, `${method}: ${result.message}`);
    assertNear([...(result.x.w as Matrix).data, result.x.b as number], expected, 1e-8);
  }
});

Deno.test("a number argument gives a number back", () => {
  const result = minimize((x: Tensor) => square(sub(x, 3)), 0, { method: "newton" });
  assert.equal(typeof result.x, "number");
  assertNear([result.x as number], [3], 1e-12);
});

Deno.test("the line search steps back from points where f is not finite", () => {
  // -log(x) - log(1 - x): the first step from 0.9 lands at x < 0, where log gives NaN.
  const f = (x: Tensor) => sub(mul(-1, log(x)), log(sub(1, x)));
  for (const method of ["lbfgs", "newton"] as const) {
    const result = minimize(f, 0.9, { method });
    assert.ok(result.converged, `${method}: ${result.message}`);
    assertNear([result.x as number], [0.5], 1e-8);
  }
});

Deno.test("running out of iterations is reported, not thrown", () => {
  const result = minimize(rosenbrock, [-1.2, 1], { maxIterations: 3 });
  assert.equal(result.converged, false);
  assert.equal(result.iterations, 3);
  assert.match(result.message, /maxIterations \(3\) reached/);
});

Deno.test("bad options and starts are RangeErrors naming them", () => {
  const f = (x: Tensor) => square(x);
  const bad: [() => unknown, RegExp][] = [
    [
      () => minimize(f, 1, { method: "bfgs" as "lbfgs" }),
      /method must be "lbfgs" or "newton", got "bfgs"/,
    ],
    [() => minimize(f, 1, { tolerance: 0 }), /tolerance must be a finite number > 0, got 0/],
    [
      () => minimize(f, 1, { maxIterations: 1.5 }),
      /maxIterations must be a positive integer, got 1.5/,
    ],
    [() => minimize(f, 1, { memory: 0 }), /memory must be a positive integer, got 0/],
    [() => minimize(f, NaN), /x0 has a non-finite element NaN at index 0/],
    [() => minimize((x: Tensor) => log(x), -1), /not finite at x0/],
  ];
  for (const [call, message] of bad) {
    assert.throws(call, (e: Error) => e instanceof RangeError && message.test(e.message));
  }
  assert.throws(() => minimize(3 as never, 1), /minimize: f must be a function/);
  assert.throws(
    () => minimize((x: Tensor) => mul(x, Matrix.from([[1, 2]])), 1),
    /must return a scalar/,
  );
  assert.throws(
    () => minimize(f, "1" as never),
    /minimize: x0 is a string \("1"\); expected a number, a Matrix/,
  );
});

Deno.test("the line search's steps satisfy the strong Wolfe conditions", async () => {
  const { wolfeLineSearch, dot } = await import("../lib/optim/_linesearch.ts");
  // f(x) = x⁴ − 3x² + x along d = 1 from x = -0.2 (a descent direction): several local minima.
  const evaluate = (x: Float64Array) => {
    const v = x[0];
    return { x, f: v ** 4 - 3 * v ** 2 + v, g: Float64Array.of(4 * v ** 3 - 6 * v + 1) };
  };
  for (const [x0, d, alpha0] of [[1.5, -1, 1], [-0.2, -1, 0.01], [-0.2, -1, 10], [2, -1, 100]]) {
    const start = evaluate(Float64Array.of(x0));
    const dir = Float64Array.of(d);
    const end = wolfeLineSearch(evaluate, start, dir, alpha0)!;
    const alpha = (end.x[0] - x0) / d;
    assert.ok(
      end.f <= start.f + 1e-4 * alpha * dot(start.g, dir),
      `sufficient decrease from ${x0}`,
    );
    assert.ok(
      Math.abs(dot(end.g, dir)) <= 0.9 * Math.abs(dot(start.g, dir)),
      `curvature from ${x0}`,
    );
  }
  const ascent = evaluate(Float64Array.of(1.5));
  assert.equal(wolfeLineSearch(evaluate, ascent, Float64Array.of(1), 1), undefined);
});
