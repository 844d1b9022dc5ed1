// Tests of the autograd: transforms, higher derivatives, closed forms and error messages (the
// primitive table against finite differences is tests/fd_table_test.ts).

import assert from "node:assert/strict";
import {
  add,
  createRng,
  div,
  exp,
  grad,
  initMLP,
  jvp,
  log,
  matmul,
  Matrix,
  mseLoss,
  mul,
  pow,
  square,
  sum,
  tanh,
  type Tensor,
  valueAndGrad,
  vjp,
} from "../mod.ts";
import { assertClose, flat, random } from "./_fd.ts";

Deno.test("grad of f(x) = 3x² + 7 is 6x", () => {
  const f = (x: Tensor) => add(mul(3, square(x)), 7);
  for (const x of [-2, 0, 0.5, 3]) assert.equal(grad(f)(x), 6 * x);
  const m = Matrix.from([[1, -2]]);
  assert.deepEqual((grad((x: Tensor) => sum(f(x)))(m) as Matrix).toArray(), [[6, -12]]);
});

Deno.test("grad(grad(x => x·x·x)) at 2 is 12", () => {
  const cube = (x: Tensor) => mul(mul(x, x), x);
  assert.equal(grad(grad(cube))(2), 12);
  assert.equal(grad(grad(grad(cube)))(2), 6);
});

Deno.test("second derivatives of tanh, exp, log and div match hand-derived values", () => {
  const x = 0.7, t = Math.tanh(x);
  assertClose([grad(grad(tanh))(x) as number], [-2 * t * (1 - t * t)], "tanh''", 1e-12);
  assertClose([grad(grad(exp))(x) as number], [Math.exp(x)], "exp''", 1e-12);
  assertClose([grad(grad(log))(x) as number], [-1 / (x * x)], "log''", 1e-12);
  assertClose([grad(grad((y: Tensor) => div(1, y)))(x) as number], [2 / x ** 3], "(1/x)''", 1e-12);
});

Deno.test("grad of the MLP's MSE matches hand-derived backprop", () => {
  const rng = createRng(7);
  const params = initMLP([3, 4, 2], rng);
  const X = random([5, 3], rng) as Matrix;
  const Y = random([5, 2], rng) as Matrix;
  const [loss, g] = valueAndGrad(mseLoss)(params, X, Y);

  // Plain-array backprop: h1 = tanh(W1 Xᵀ + b1), out = tanh(W2 h1 + b2), L = mean((out - Yᵀ)²).
  const [W1, b1, W2, b2] = params.map((p) => p.toArray());
  const x = X.toArray(), y = Y.toArray();
  const n = x.length, elems = n * 2;
  const gW1 = W1.map((r) => r.map(() => 0)), gb1 = b1.map(() => [0]);
  const gW2 = W2.map((r) => r.map(() => 0)), gb2 = b2.map(() => [0]);
  let expectedLoss = 0;
  for (let s = 0; s < n; s++) {
    const h1 = W1.map((row, i) => Math.tanh(row.reduce((a, w, j) => a + w * x[s][j], b1[i][0])));
    const out = W2.map((row, i) => Math.tanh(row.reduce((a, w, j) => a + w * h1[j], b2[i][0])));
    const dz2 = out.map((o, i) => {
      expectedLoss += (o - y[s][i]) ** 2 / elems;
      return (2 * (o - y[s][i]) / elems) * (1 - o * o);
    });
    dz2.forEach((d, i) => {
      gb2[i][0] += d;
      h1.forEach((h, j) => gW2[i][j] += d * h);
    });
    const dz1 = h1.map((h, j) => dz2.reduce((a, d, i) => a + d * W2[i][j], 0) * (1 - h * h));
    dz1.forEach((d, i) => {
      gb1[i][0] += d;
      x[s].forEach((v, j) => gW1[i][j] += d * v);
    });
  }
  assertClose([loss as number], [expectedLoss], "loss", 1e-12);
  [gW1, gb1, gW2, gb2].forEach((expected, i) =>
    assertClose(flat(g[i]), expected.flat(), `gradient of parameter ${i}`, 1e-12)
  );
});

Deno.test("pow with exponent 0 has derivative 0 everywhere, 0 included", () => {
  assert.equal(grad((x: Tensor) => pow(x, 0))(0), 0);
  assert.deepEqual(jvp((x: Tensor) => pow(x, 0), [0], [1]), [1, 0]);
  assert.equal(grad((x: Tensor) => pow(x, 2))(0), 0);
});

Deno.test("grad mirrors nested arrays and objects, with zeros for unused leaves", () => {
  const f = (p: { a: Tensor; rest: Tensor[] }) => mul(p.a, p.rest[0]);
  const g = grad(f)({ a: 2, rest: [5, Matrix.from([[1, 2]])] });
  assert.equal(g.a, 5);
  assert.equal(g.rest[0], 2);
  assert.deepEqual((g.rest[1] as Matrix).toArray(), [[0, 0]]);
});

Deno.test("grad takes argnum and returns zeros when f ignores the argument", () => {
  const f = (x: Tensor, y: Tensor) => mul(square(x), y);
  assert.equal(grad(f, 1)(3, 4), 9);
  assert.equal(grad(f, 0)(3, 4), 24);
  assert.equal(grad((_x: Tensor) => 5)(3), 0);
});

Deno.test("ops on plain values do not trace and keep matrices unshared", () => {
  const m = Matrix.from([[1, 2]], { shared: true });
  const out = add(m, 1) as Matrix;
  assert.ok(out instanceof Matrix);
  assert.equal(out.isShared, false);
  assert.deepEqual(out.toArray(), [[2, 3]]);
});

Deno.test("errors name the op, the shapes and what to try", async (t) => {
  await t.step("matmul with mismatched inner dimensions", () => {
    assert.throws(
      () => matmul(Matrix.zeros(3, 4), Matrix.zeros(5, 2)),
      { name: "TypeError", message: "matmul: inner dimensions differ (3x4 and 5x2)" },
    );
  });
  await t.step("broadcasting incompatible shapes", () => {
    assert.throws(
      () => add(Matrix.zeros(2, 3), Matrix.zeros(3, 2)),
      { name: "TypeError", message: "add: shapes 2x3 and 3x2 cannot be broadcast together" },
    );
    assert.throws(() => mul(Matrix.zeros(2, 3), Matrix.zeros(2, 2)), /mul: shapes 2x3 and 2x2/);
  });
  await t.step("matmul of a number", () => {
    assert.throws(() => matmul(2, Matrix.zeros(1, 1)), /matmul: expected two matrices.*use mul/);
  });
  await t.step("shape errors are raised while tracing too", () => {
    assert.throws(
      () => grad((x: Tensor) => sum(matmul(x, Matrix.zeros(3, 3))))(Matrix.zeros(2, 2)),
      /matmul: inner dimensions differ \(2x2 and 3x3\)/,
    );
  });
  await t.step("grad of a non-scalar function", () => {
    assert.throws(
      () => grad((x: Tensor) => mul(x, 2))(Matrix.zeros(2, 3)),
      { name: "TypeError", message: /must return a scalar.*got a 2x3 matrix.*sum\(\) or mean\(\)/ },
    );
  });
  await t.step("grad with an argnum out of range", () => {
    assert.throws(
      () => grad((x: Tensor) => x, 1)(3),
      { name: "RangeError", message: /argnum 1 is out of range for a call with 1 argument/ },
    );
  });
  await t.step("grad of an argument that is not a tree of numbers and matrices", () => {
    assert.throws(
      () => grad((x: Tensor) => x)("3" as unknown as number),
      /grad: argument is a string \("3"\); expected a number, a Matrix/,
    );
  });
  await t.step("sum along a bad axis", () => {
    assert.throws(() => sum(Matrix.zeros(2, 2), { axis: 2 as 0 }), RangeError);
  });
  await t.step("vjp with a cotangent of the wrong shape", () => {
    const [, pullback] = vjp((x: Tensor) => mul(x, 2), Matrix.zeros(2, 2));
    assert.throws(() => pullback(Matrix.zeros(1, 2)), /cotangent's shape 1x2 differs.*2x2/);
  });
  await t.step("jvp with a tangent of the wrong shape", () => {
    assert.throws(
      () => jvp((x: Tensor) => x, [Matrix.zeros(2, 2)], [Matrix.zeros(1, 2)]),
      /tangent of argument 0 has shape 1x2 but its primal has 2x2/,
    );
  });
});
