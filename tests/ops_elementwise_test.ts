// Tests of issue 10's element-wise ops, reductions and classification losses beyond the
// finite-difference table: the conventions at kinks and ties, stability for large inputs,
// closed-form gradients, numpy reference values (computed once and recorded here) and errors.

import assert from "node:assert/strict";
import {
  abs,
  argmax,
  argmin,
  clip,
  cos,
  createRng,
  equal,
  grad,
  greater,
  jvp,
  less,
  logSoftmax,
  logsumexp,
  Matrix,
  max,
  maximum,
  min,
  minimum,
  mul,
  relu,
  sigmoid,
  sigmoidCrossEntropy,
  sin,
  softmax,
  softmaxCrossEntropy,
  softplus,
  sqrt,
  sum,
  type Tensor,
  type Value,
  where,
} from "../mod.ts";
import { expNegAbs, sigmoidScalar, softplusScalar } from "../lib/_kernels.ts";
import { assertClose, flat, random } from "./_fd.ts";

const M = (rows: number[][]) => Matrix.from(rows);
const arr = (v: Tensor) => (v as Matrix).toArray();
/** The gradient of `sum(f(x))`, as nested arrays. */
const gradOfSum = (f: (x: Tensor) => Tensor) => (x: Value) => grad((y: Tensor) => sum(f(y)))(x);

Deno.test("relu's slope is 0 at 0 (and -0), as JAX, to every order and in both modes", () => {
  assert.equal(grad(relu)(0), 0);
  assert.equal(grad(relu)(-0), 0);
  assert.equal(grad(relu)(2), 1);
  assert.equal(grad(relu)(-2), 0);
  assert.deepEqual(arr(gradOfSum(relu)(M([[-1, 0, 3]]))), [[0, 0, 1]]);
  assert.equal(grad(grad(relu))(0), 0);
  assert.deepEqual(jvp(relu, [0], [1]), [0, 0]);
  assert.ok(Number.isNaN(relu(NaN) as number));
});

Deno.test("abs's slope is +1 at 0 (and -0), as JAX's select(x >= 0, g, -g)", () => {
  assert.equal(grad(abs)(0), 1);
  assert.equal(grad(abs)(-0), 1);
  assert.equal(grad(abs)(-3), -1);
  assert.deepEqual(arr(gradOfSum(abs)(M([[-1, 0, 2]]))), [[-1, 1, 1]]);
  assert.deepEqual(jvp(abs, [0], [2]), [0, 2]);
  assert.equal(grad(grad(abs))(0), 0);
});

Deno.test("maximum and minimum split the gradient half and half at ties, as JAX", () => {
  assert.deepEqual(grad(maximum, 0)(2, 2), 0.5);
  assert.deepEqual(grad(maximum, 1)(2, 2), 0.5);
  assert.deepEqual(grad(minimum, 0)(2, 2), 0.5);
  assert.deepEqual(grad(minimum, 1)(2, 2), 0.5);
  assert.equal(grad(maximum, 0)(3, 2), 1);
  assert.equal(grad(minimum, 0)(3, 2), 0);
  const a = M([[1, 2, 3]]), b = M([[3, 2, 1]]);
  const f = (x: Tensor, y: Tensor) => sum(maximum(x, y));
  assert.deepEqual(arr(grad(f, 0)(a, b)), [[0, 0.5, 1]]);
  assert.deepEqual(arr(grad(f, 1)(a, b)), [[1, 0.5, 0]]);
  // Broadcasting: a number against a row gathers its shares.
  assert.equal(grad((x: Tensor) => sum(maximum(x, a)), 0)(2), 1 + 0.5);
  assert.deepEqual(jvp((x: Tensor) => maximum(x, 2), [2], [1]), [2, 0.5]);
});

Deno.test("clip passes the gradient inside the bounds, half at a bound, none outside", () => {
  const x = M([[-2, -1, 0, 1, 2]]);
  assert.deepEqual(arr(clip(x, -1, 1)), [[-1, -1, 0, 1, 1]]);
  assert.deepEqual(arr(gradOfSum((y) => clip(y, -1, 1))(x)), [[0, 0.5, 1, 0.5, 0]]);
  assert.equal(grad((lo: Tensor) => clip(-5, lo, 1))(-1), 1);
  assert.deepEqual(arr(clip(x, M([[0]]), 0.5)), [[0, 0, 0, 0.5, 0.5]]);
});

Deno.test("max and min share the gradient equally among tied extrema, as HIPS and JAX", () => {
  const x = M([[1, 3, 3], [2, 2, 2], [5, 0, 5]]);
  const share = (f: (x: Tensor) => Tensor) => arr(gradOfSum(f)(x));
  assert.deepEqual(share((y) => max(y, { axis: 1 })), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [
    0.5,
    0,
    0.5,
  ]]);
  assert.deepEqual(share((y) => max(y, { axis: 0 })), [[0, 1, 0], [0, 0, 0], [1, 0, 1]]);
  assert.deepEqual(share((y) => max(y)), [[0, 0, 0], [0, 0, 0], [0.5, 0, 0.5]]);
  assert.deepEqual(share((y) => min(y, { axis: 1 })), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [
    0,
    1,
    0,
  ]]);
  assert.deepEqual(share((y) => min(y, { axis: 0 })), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
  // Forward mode agrees: the tangent is the mean of the tied tangents.
  const [, t] = jvp((y: Tensor) => max(y, { axis: 1 }), [x], [
    M([[0, 1, 3], [3, 6, 9], [1, 0, 0]]),
  ]);
  assert.deepEqual(arr(t), [[2], [6], [0.5]]);
});

Deno.test("max, min and the arg versions along axes, with NaN and numbers", () => {
  const x = M([[1, 7, 3], [4, -2, 4]]);
  assert.equal(max(x), 7);
  assert.equal(min(x), -2);
  assert.deepEqual(arr(max(x, { axis: 0 })), [[4, 7, 4]]);
  assert.deepEqual(arr(min(x, { axis: 1 })), [[1], [-2]]);
  assert.equal(max(5), 5);
  assert.ok(Number.isNaN(max(M([[1, NaN, 3]])) as number));
  assert.equal(argmax(x), 1);
  assert.equal(argmin(x), 4);
  assert.deepEqual(arr(argmax(x, { axis: 1 })), [[1], [0]]); // the first of tied maxima
  assert.deepEqual(arr(argmax(x, { axis: 0 })), [[1, 0, 1]]);
  assert.deepEqual(arr(argmin(x, { axis: 0 })), [[0, 1, 0]]);
  assert.equal(argmax(M([[1, NaN, 3, NaN]])), 1); // as numpy: the first NaN
  assert.equal(argmin(M([[1, NaN, -3]])), 1);
  assert.equal(argmax(3), 0);
  // Inside grad the indices are constants built from the traced values.
  grad((y: Tensor) => {
    assert.deepEqual(arr(argmax(y, { axis: 1 })), [[1], [0]]);
    return sum(y);
  })(x);
});

Deno.test("logsumexp, softmax and logSoftmax are finite and exact for inputs like ±1000", () => {
  assert.equal(logsumexp(M([[1000, 1000]])), 1000 + Math.LN2);
  assert.equal(logsumexp(M([[-1000, -1000]])), -1000 + Math.LN2);
  assert.equal(logsumexp(M([[1, 2, 3]])), 3.4076059644443806); // numpy
  assert.equal(logsumexp(M([[-Infinity, -Infinity]])), -Infinity);
  assert.equal(logsumexp(M([[Infinity, 0]])), Infinity);
  assert.deepEqual(arr(softmax(M([[1000, 1000], [-1000, -1000], [0, -1000]]))), [
    [0.5, 0.5],
    [0.5, 0.5],
    [1, 0],
  ]);
  assert.deepEqual(arr(logSoftmax(M([[1000, 0]]))), [[0, -1000]]);
  assert.deepEqual(arr(softmax(M([[1, 1], [3, 3]]), { axis: 0 })), [[
    0.11920292202211755,
    0.11920292202211755,
  ], [0.8807970779778823, 0.8807970779778823]]);
  assert.equal(softmax(7), 1);
  assert.equal(logSoftmax(7), 0);
  const g = gradOfSum((y) => mul(M([[1, 0]]), logSoftmax(y)))(M([[1000, -1000]]));
  assert.deepEqual(arr(g), [[0, 0]]);
  const h = grad((y: Tensor) => logsumexp(y))(M([[1000, 1000]]));
  assert.deepEqual(arr(h), [[0.5, 0.5]]);
});

Deno.test("sigmoid and softplus are finite for every input and accurate in the tails", () => {
  assert.equal(sigmoid(1000), 1);
  assert.equal(sigmoid(-1000), 0);
  assert.equal(sigmoid(-745.2), 0);
  assert.equal(softplus(1000), 1000);
  assert.equal(softplus(-1000), 0);
  assert.equal(softplus(Infinity), Infinity);
  assert.equal(sigmoid(0), 0.5);
  assert.equal(grad(sigmoid)(1000), 0);
  assert.equal(grad(softplus)(1000), 1);
  assert.equal(grad(softplus)(-1000), 0);
  for (const x of [-700, -40, -8, -1e-9, 0.3, 5, 40]) {
    const exact = 1 / (1 + Math.exp(-x));
    assertClose([sigmoidScalar(x) / exact], [1], `sigmoid(${x})`, 3e-16);
    const sp = Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    assertClose([softplusScalar(x) / sp], [1], `softplus(${x})`, 3e-16);
  }
  // A number and a 1x1 matrix go through the same algorithm.
  assert.equal(arr(sigmoid(M([[0.7]])))[0][0], sigmoid(0.7));
  assert.equal(arr(softplus(M([[0.7]])))[0][0], softplus(0.7));
  assert.ok(Number.isNaN(sigmoid(NaN) as number) && Number.isNaN(softplus(NaN) as number));
});

Deno.test("e^-|x| stays within 2 ulp of Math.exp, subnormal results included", () => {
  const rng = createRng(11);
  let worst = 0;
  for (let i = 0; i < 20000; i++) {
    const x = (rng.next() * 2 - 1) * 708;
    const ref = Math.exp(-Math.abs(x));
    worst = Math.max(worst, Math.abs(expNegAbs(x) - ref) / ref);
  }
  assert.ok(worst <= 4.5e-16, `relative error ${worst}`);
  assert.equal(expNegAbs(0), 1);
  assert.equal(expNegAbs(-0), 1);
  assert.equal(expNegAbs(760), 0);
  assert.ok(Math.abs(expNegAbs(740) - Math.exp(-740)) <= 2 * 5e-324);
});

Deno.test("sqrt, sin and cos with their derivatives", () => {
  assert.deepEqual(arr(sqrt(M([[4, 0, 2.25]]))), [[2, 0, 1.5]]);
  assert.equal(grad(sqrt)(4), 0.25);
  assert.equal(grad(sqrt)(0), Infinity);
  assert.ok(Number.isNaN(sqrt(-1) as number));
  assert.equal(grad(sin)(0), 1);
  assert.equal(grad(cos)(0), -0);
  assert.equal(grad(grad(sin))(Math.PI / 2), -1);
});

Deno.test("comparisons give 0/1 constants, broadcast, and are never differentiated", () => {
  const x = M([[1, 2, 3]]);
  assert.deepEqual(arr(greater(x, 2)), [[0, 0, 1]]);
  assert.deepEqual(arr(less(x, M([[3], [1]]))), [[1, 1, 0], [0, 0, 0]]);
  assert.deepEqual(arr(equal(x, 2)), [[0, 1, 0]]);
  assert.equal(equal(NaN, NaN), 0);
  assert.equal(greater(3, 2), 1);
  // A mask of the traced value is a constant: the gradient of sum(x * (x > 2)) is the mask.
  assert.deepEqual(arr(gradOfSum((y) => mul(y, greater(y, 2)))(x)), [[0, 0, 1]]);
  assert.ok(greater(x, 1) instanceof Matrix);
});

Deno.test("where picks element-wise, broadcasting, and sends the gradient to the pick", () => {
  const x = M([[-2, 3], [4, -5]]);
  assert.deepEqual(arr(where(greater(x, 0), x, 0)), [[0, 3], [4, 0]]);
  assert.deepEqual(arr(where(M([[1], [0]]), x, M([[10, 20]]))), [[-2, 3], [10, 20]]);
  assert.equal(where(0, 1, 2), 2);
  const f = (a: Tensor, b: Tensor) => sum(where(M([[1, 0], [0, 1]]), a, b));
  assert.deepEqual(arr(grad(f, 0)(x, x)), [[1, 0], [0, 1]]);
  assert.equal(grad(f, 1)(x, 7), 2);
  // An infinite value that is not picked does not reach the result (its gradient, as in JAX,
  // is another matter: 0 times an infinite slope is NaN).
  assert.deepEqual(arr(where(greater(x, 0), x, mul(Infinity, x))), [[-Infinity, 3], [
    4,
    -Infinity,
  ]]);
});

Deno.test("softmaxCrossEntropy matches numpy and its closed-form gradient", () => {
  const x = M([[2, -1, 0.5], [1000, -1000, 0]]), t = M([[0, 1, 0], [0.2, 0.3, 0.5]]);
  assertClose([softmaxCrossEntropy(x, t) as number], [551.6206556483286], "loss", 1e-15);
  const g = grad(softmaxCrossEntropy)(x, t) as Matrix;
  assertClose(
    flat(g),
    [
      0.3927985172946379,
      -0.4804437133646563,
      0.08764519607001835,
      0.4,
      -0.15,
      -0.25,
    ],
    "gradient",
    1e-15,
  );
  // (softmax(x) - t) / n on random logits and one-hot targets.
  const rng = createRng(12);
  const logits = random([5, 4], rng) as Matrix;
  const onehot = Matrix.zeros(5, 4);
  for (let i = 0; i < 5; i++) onehot.data[i * 4 + rng.randint(4)] = 1;
  const expected = flat(softmax(logits) as Matrix).map((p, i) => (p - onehot.data[i]) / 5);
  assertClose(
    flat(grad(softmaxCrossEntropy)(logits, onehot) as Matrix),
    expected,
    "closed form",
    1e-15,
  );
  // Logits of ±1000 give a finite loss and the right gradient.
  const big = M([[1000, -1000], [-1000, 1000]]), y = M([[0, 1], [0, 1]]);
  assert.equal(softmaxCrossEntropy(big, y), 1000);
  assert.deepEqual(arr(grad(softmaxCrossEntropy)(big, y)), [[0.5, -0.5], [0, 0]]);
});

Deno.test("sigmoidCrossEntropy matches numpy and its closed-form gradient", () => {
  const z = M([[3, -2], [0.25, -40]]), y = M([[1, 0], [0.5, 1]]);
  assertClose([sigmoidCrossEntropy(z, y) as number], [10.21911369562389], "loss", 1e-15);
  assertClose(
    flat(grad(sigmoidCrossEntropy)(z, y) as Matrix),
    [
      -0.01185646829439166,
      0.02980073050552939,
      0.01554412522144952,
      -0.25,
    ],
    "gradient",
    1e-15,
  );
  const rng = createRng(13);
  const logits = random([3, 4], rng) as Matrix, targets = random([3, 4], rng, true) as Matrix;
  const expected = flat(sigmoid(logits) as Matrix).map((s, i) => (s - targets.data[i]) / 12);
  assertClose(
    flat(grad(sigmoidCrossEntropy)(logits, targets) as Matrix),
    expected,
    "closed form",
    1e-15,
  );
  const big = M([[1000, -1000, 1000, -1000]]), t = M([[1, 0, 0, 1]]);
  assert.equal(sigmoidCrossEntropy(big, t), 500);
  assert.deepEqual(arr(grad(sigmoidCrossEntropy)(big, t)), [[0, 0, 0.25, -0.25]]);
});

Deno.test("the new ops name themselves and the shapes in their errors", () => {
  const a = M([[1, 2, 3], [4, 5, 6]]), b = M([[1, 2], [3, 4], [5, 6]]);
  assert.throws(() => maximum(a, b), {
    name: "TypeError",
    message: "maximum: shapes 2x3 and 3x2 cannot be broadcast together",
  });
  assert.throws(() => where(a, b, 0), { name: "TypeError", message: /^where: shapes 2x3 and 3x2/ });
  assert.throws(() => greater(a, b), {
    name: "TypeError",
    message: /^greater: shapes 2x3 and 3x2/,
  });
  for (const [name, f] of [["sqrt", sqrt], ["sigmoid", sigmoid], ["relu", relu]] as const) {
    assert.throws(() => f([[1]] as never), {
      name: "TypeError",
      message: new RegExp(`^${name}: argument 1 is an Array.*Matrix\\.from`),
    });
  }
  assert.throws(() => minimum("1" as never, 2), {
    name: "TypeError",
    message: /^minimum: argument 1 is a string/,
  });
  assert.throws(() => clip(a, 2, 1), {
    name: "RangeError",
    message: "clip: the lower bound must not exceed the upper bound, got lo 2 and hi 1",
  });
  assert.throws(() => clip(a, NaN, 1), RangeError);
  assert.throws(() => clip(a, M([[0], [5]]), M([[1], [2]])), {
    name: "RangeError",
    message: /lo \(a 2x1 matrix\)/,
  });
  for (
    const [name, f] of [
      ["max", max],
      ["min", min],
      ["logsumexp", logsumexp],
      ["softmax", softmax],
      ["logSoftmax", logSoftmax],
      ["argmax", argmax],
      ["argmin", argmin],
    ] as const
  ) {
    assert.throws(() => f(a, { axis: 2 as 0 }), {
      name: "RangeError",
      message: `${name}: axis must be 0, 1 or omitted, got 2`,
    });
  }
  assert.throws(() => max(Matrix.zeros(3, 0), { axis: 1 }), {
    name: "RangeError",
    message: /^max: a 3x0 matrix has no elements along axis 1/,
  });
  assert.throws(() => argmax(Matrix.zeros(2, 0)), {
    name: "RangeError",
    message: /^argmax: a 2x0 matrix has no elements/,
  });
  assert.deepEqual(arr(max(Matrix.zeros(0, 3), { axis: 1 })), []);
  assert.throws(() => max(Matrix.zeros(0, 3), { axis: 0 }), RangeError);
  assert.throws(() => softmaxCrossEntropy(a, b), {
    name: "TypeError",
    message: "softmaxCrossEntropy: logits and targets must have the same shape, got 2x3 and 3x2",
  });
  assert.throws(() => softmaxCrossEntropy(1, 1), {
    name: "TypeError",
    message: /^softmaxCrossEntropy: expected a matrix of logits/,
  });
  assert.throws(() => sigmoidCrossEntropy(a, 1), {
    name: "TypeError",
    message: /^sigmoidCrossEntropy: .* 2x3 and scalar/,
  });
});

Deno.test("the cross-entropies' weights scale each sample's loss and gradient; bad shapes are named", () => {
  const rng = createRng(21);
  const logits = random([6, 2], rng) as Matrix;
  const onehot = Matrix.zeros(6, 2), w = Matrix.zeros(6, 1);
  for (let i = 0; i < 6; i++) {
    onehot.data[i * 2 + (i % 3 === 0 ? 1 : 0)] = 1;
    w.data[i] = i % 3 === 0 ? 3 : 1;
  }
  // Weighted softmax CE = Σ wᵢ CEᵢ / n, its gradient row i = wᵢ (softmax − t)ᵢ / n.
  const rowLoss = (i: number) =>
    softmaxCrossEntropy(
      M([[logits.data[2 * i], logits.data[2 * i + 1]]]),
      M([[
        onehot.data[2 * i],
        onehot.data[2 * i + 1],
      ]]),
    ) as number;
  let expected = 0;
  for (let i = 0; i < 6; i++) expected += w.data[i] * rowLoss(i) / 6;
  const loss = (l: Tensor) => softmaxCrossEntropy(l, onehot, { weights: w });
  assertClose([loss(logits) as number], [expected], "weighted loss", 1e-15);
  const p = flat(softmax(logits) as Matrix);
  assertClose(
    flat(grad(loss)(logits) as Matrix),
    p.map((pi, k) => w.data[Math.floor(k / 2)] * (pi - onehot.data[k]) / 6),
    "weighted gradient",
    1e-15,
  );
  // All-ones weights give the unweighted loss exactly; sigmoid CE weights broadcast.
  assert.equal(
    softmaxCrossEntropy(logits, onehot, { weights: M([[1], [1], [1], [1], [1], [1]]) }),
    softmaxCrossEntropy(logits, onehot),
  );
  const z = M([[0.5, -2, 3]]), y = M([[1, 0, 0]]), wz = M([[2, 1, 0]]);
  const manual = (2 * (softplusScalar(0.5) - 0.5) + softplusScalar(-2)) / 3;
  assertClose([sigmoidCrossEntropy(z, y, { weights: wz }) as number], [manual], "sigmoid", 1e-15);
  assert.throws(
    () => softmaxCrossEntropy(logits, onehot, { weights: M([[1, 1, 1, 1, 1, 1]]) }),
    /softmaxCrossEntropy: weights of shape 1x6 do not fit logits of shape 6x2/,
  );
  assert.throws(
    () => sigmoidCrossEntropy(z, y, { weights: M([[1, 2]]) }),
    /sigmoidCrossEntropy: shapes 1x3 and 1x2 cannot be broadcast together/,
  );
});
