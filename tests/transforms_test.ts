// Tests of the Jacobian family (jacobian, jacfwd, hessian, hvp, elementwiseGrad) and ravel:
// closed forms, numpy figures, forward against reverse mode, and error messages.

import assert from "node:assert/strict";
import {
  add,
  checkGrads,
  createRng,
  elementwiseGrad,
  exp,
  grad,
  hessian,
  hvp,
  jacfwd,
  jacobian,
  log,
  matmul,
  Matrix,
  mul,
  neg,
  ravel,
  square,
  sum,
  tanh,
  type Tensor,
  toDot,
  transpose,
  type Tree,
} from "../mod.ts";
import { assertClose, flat, random } from "./_fd.ts";

const rng = () => createRng(7);
const rows = (m: unknown) => (m as Matrix).toArray();

Deno.test("jacobian and jacfwd of A·x are A", () => {
  const A = random([2, 3], rng()) as Matrix;
  const x = random([3, 1], createRng(8));
  const f = (v: Tensor) => matmul(A, v);
  assert.deepEqual(rows(jacobian(f)(x)), A.toArray());
  assert.deepEqual(rows(jacfwd(f)(x)), A.toArray());
});

Deno.test("jacobian numbers the elements row by row: the Jacobian of a transpose", () => {
  const W = Matrix.from([[1, 2, 3], [4, 5, 6]]);
  const J = jacobian(transpose)(W) as Matrix;
  assert.deepEqual(J.shape, [6, 6]);
  // Output element i = (r, c) of the 3x2 transpose is W[c][r], W's element c·3 + r.
  for (let i = 0; i < 6; i++) {
    const [r, c] = [Math.floor(i / 2), i % 2];
    for (let j = 0; j < 6; j++) assert.equal(J.get(i, j), j === c * 3 + r ? 1 : 0);
  }
  assert.deepEqual(rows(jacfwd(transpose)(W)), J.toArray());
});

Deno.test("jacobian keeps numbers as numbers and counts them as 1x1 otherwise", () => {
  const cube = (x: Tensor) => mul(x, mul(x, x));
  assert.equal(jacobian(cube)(2), 12);
  assert.equal(jacfwd(cube)(2), 12);
  const M = Matrix.from([[1, 2], [3, 4]]);
  // number in, 2x2 out: a 4x1 column; 1x3 in, number out: a 1x3 row (the gradient)
  for (const jac of [jacobian, jacfwd]) {
    assert.deepEqual(rows(jac((x: Tensor) => mul(x, M))(5)), [[1], [2], [3], [4]]);
    assert.deepEqual(rows(jac((x: Tensor) => sum(square(x)))(Matrix.from([[1, 2, 3]]))), [[
      2,
      4,
      6,
    ]]);
  }
});

Deno.test("jacobian equals jacfwd on a broadcasting nonlinear function, any argnum", () => {
  const b = random([1, 3], rng());
  const f = (X: Tensor, W: Tensor) => tanh(add(matmul(X, W), b));
  const X = random([4, 2], createRng(1)), W = random([2, 3], createRng(2));
  for (const argnum of [0, 1]) {
    const rev = jacobian(f, argnum)(X, W) as Matrix, fwd = jacfwd(f, argnum)(X, W) as Matrix;
    assert.deepEqual(rev.shape, [12, argnum === 0 ? 8 : 6]);
    assertClose(flat(rev), flat(fwd), `argnum ${argnum}`, 1e-14);
  }
});

Deno.test("hessian of xᵀAx is A + Aᵀ", () => {
  const A = random([3, 3], rng()) as Matrix;
  const f = (x: Tensor) => matmul(transpose(x), matmul(A, x));
  const H = hessian(f)(random([3, 1], createRng(3))) as Matrix;
  const expected = A.toArray().map((row, i) => row.map((a, j) => a + A.get(j, i)));
  assertClose(flat(H), expected.flat(), "H", 1e-14);
});

Deno.test("hessian of a logistic loss matches numpy", () => {
  const X = Matrix.from([[0.5, -1.2, 0.3], [1.5, 0.2, -0.7], [-0.3, 0.8, 1.1], [2.0, -0.4, 0.6]]);
  const t = Matrix.from([[1], [-1], [1], [-1]]);
  const loss = (w: Tensor) => sum(log(add(1, exp(neg(mul(t, matmul(X, w)))))));
  const w = Matrix.from([[0.2], [-0.5], [0.1]]);
  // numpy: Xᵀ diag(σ(z)(1 − σ(z))) X with z = t∘Xw; loss 3.113608160781374
  const expected = [
    [1.5353601748957018, -0.29489013234902955, -0.03893837234819897],
    [-0.29489013234902955, 0.5170960701370163, 0.04563297421548397],
    [-0.038938372348198955, 0.045632974215483964, 0.5160246266179961],
  ];
  assertClose(flat(hessian(loss)(w) as Matrix), expected.flat(), "H", 1e-13);
  assertClose(flat(loss(w) as number), [3.113608160781374], "loss", 1e-14);
  assertClose(
    flat(grad(loss)(w) as Matrix),
    [2.130590146450105, -0.2362736843357306, -0.719999536434661],
    "gradient",
    1e-14,
  );
});

Deno.test("hessian of a matrix argument is (r·c)x(r·c), row-major; numbers stay numbers", () => {
  const C = Matrix.from([[1, 2, 3], [4, 5, 6]]);
  const f = (W: Tensor, scale: Tensor) => mul(scale, sum(mul(C, square(W))));
  const H = hessian(f)(random([2, 3], rng()), 0.5) as Matrix;
  assert.deepEqual(H.shape, [6, 6]);
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 6; j++) assert.equal(H.get(i, j), i === j ? C.data[i] : 0);
  }
  // d²/ds² of a function linear in s is 0; of s³ at 2 is 12
  assert.equal(hessian(f, 1)(C, 0.5), 0);
  assert.equal(hessian((s: Tensor) => mul(s, mul(s, s)))(2), 12);
});

Deno.test("hvp equals hessian(f)·v without forming H, for matrices, numbers and trees", () => {
  const X = random([5, 3], rng());
  const f = (w: Tensor, bias: Tensor) => sum(tanh(add(matmul(X, w), bias)));
  const w = random([3, 1], createRng(4)), v = random([3, 1], createRng(5));
  const H = hessian(f)(w, 0.3) as Matrix;
  const Hv = hvp(f)(w, 0.3, v) as Matrix;
  assert.deepEqual(Hv.shape, [3, 1]);
  assertClose(flat(Hv), flat(matmul(H, v) as Matrix), "Hv", 1e-13);
  // one traced call of f for H·v; forming H takes one per element of w
  let calls = 0;
  const counted = (w: Tensor, bias: Tensor) => (calls++, f(w, bias));
  hvp(counted)(w, 0.3, v);
  assert.equal(calls, 1);
  hessian(counted)(w, 0.3);
  assert.equal(calls, 1 + 3);
  assertClose(
    [hvp(f, 1)(w, 0.3, 2) as number],
    [2 * (hessian(f, 1)(w, 0.3) as number)],
    "s",
    1e-13,
  );
  // A tree argument: H·v of the raveled function, unraveled.
  const g = (p: { w: Tensor; b: Tensor[] }) => f(p.w, p.b[0]);
  const p = { w, b: [0.3] }, dir = { w: v, b: [2] };
  const [flatP, unravel] = ravel(p);
  const [flatDir] = ravel(dir);
  const full = hessian((z: Tensor) => g(unravel(z) as typeof p))(flatP) as Matrix;
  const treeHv = hvp(g)(p, dir);
  assertClose(flat(ravel(treeHv)[0]), flat(matmul(full, flatDir) as Matrix), "tree Hv", 1e-13);
  assert.equal(typeof unravel(flatP).b[0], "number");
});

Deno.test("elementwiseGrad is the derivative at every element, for any argnum", () => {
  const xs = Matrix.from([[-2, -0.5, 0, 0.5, 2]]);
  const d = elementwiseGrad((x: Tensor) => mul(x, tanh(x)))(xs) as Matrix;
  const expected = flat(xs).map((x) => Math.tanh(x) + x * (1 - Math.tanh(x) ** 2));
  assertClose(flat(d), expected, "d", 1e-15);
  const e = elementwiseGrad((a: Tensor, x: Tensor) => mul(a, square(x)), 1)(3, xs) as Matrix;
  assert.deepEqual(e.toArray(), [flat(xs).map((x) => 6 * x)]);
  // nests: the second derivative of tanh is −2·tanh·(1 − tanh²)
  const d2 = elementwiseGrad(elementwiseGrad(tanh))(xs) as Matrix;
  const t = flat(xs).map(Math.tanh);
  assertClose(flat(d2), t.map((y) => -2 * y * (1 - y * y)), "d2", 1e-15);
});

Deno.test("ravel round-trips nested arrays and objects, numbers as numbers", () => {
  const tree = {
    layers: [[Matrix.from([[1, 2, 3], [4, 5, 6]]), 7], { gain: 8, bias: Matrix.from([[9], [10]]) }],
    scale: 11,
  };
  const [v, unravel] = ravel(tree);
  assert.deepEqual(v.shape, [11, 1]);
  assert.deepEqual(flat(v), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const back = unravel(mul(v, 2) as Matrix);
  const [first, second] = back.layers as [[Matrix, number], { gain: number; bias: Matrix }];
  assert.deepEqual(first[0].toArray(), [[2, 4, 6], [8, 10, 12]]);
  assert.equal(first[1], 14);
  assert.equal(second.gain, 16);
  assert.deepEqual(second.bias.toArray(), [[18], [20]]);
  assert.equal(back.scale, 22);
  // unravel copies: changing the vector afterwards leaves the tree alone
  const again = unravel(v);
  v.data[0] = 100;
  assert.equal((again.layers[0] as [Matrix, number])[0].data[0], 1);
  assert.deepEqual(flat(ravel(5)[0]), [5]);
  assert.equal(ravel(5)[1](Matrix.from([[6]])), 6);
});

Deno.test("ravel and unravel are differentiable, to second order, in both modes", () => {
  const tree = [Matrix.from([[1, -2], [0.5, 3]]), { s: 0.7, v: Matrix.from([[2], [-1]]) }];
  const [v, unravel] = ravel(tree);
  checkGrads((t: typeof tree) => ravel(t)[0], [tree]);
  checkGrads((x: Matrix) => unravel(x), [v]);
  // a loss written on the flat vector, differentiated with respect to the tree, and back
  const loss = (t: Tree) => sum(tanh(mul(ravel(t)[0], ravel(t)[0])));
  const g = grad(loss)(tree) as typeof tree;
  const [gFlat] = ravel(g);
  const direct = grad((x: Tensor) => sum(tanh(mul(x, x))))(v) as Matrix;
  assert.deepEqual(gFlat.data, direct.data);
  const back = grad((x: Tensor) => loss(unravel(x)))(v) as Matrix;
  assert.deepEqual(back.data, direct.data);
  const dot = toDot((x: Tensor) => sum((unravel(x) as Tensor[])[0]), v);
  assert.ok(dot.includes('label="unravel[0] 2x2", shape=box'));
});

Deno.test("ravel and unravel errors name what they got", () => {
  const [, unravel] = ravel([1, Matrix.from([[2, 3]])]);
  assert.throws(() => unravel(Matrix.from([[1, 2, 3]])), {
    name: "TypeError",
    message: "unravel: expected a vector of shape 3x1, got a 1x3 matrix",
  });
  assert.throws(() => unravel([1, 2, 3] as unknown as Matrix), /got an Array/);
  assert.throws(() => ravel([]), { name: "RangeError", message: /no numbers or matrices/ });
  assert.throws(() => ravel({ a: "x" } as never), /ravel: tree\.a is a string/);
});

Deno.test("the Jacobian transforms name themselves and the argument in their errors", () => {
  const f = (x: Tensor) => mul(x, 2);
  for (const [name, t] of [["jacobian", jacobian], ["jacfwd", jacfwd], ["hessian", hessian]]) {
    const transform = t as typeof jacobian;
    assert.throws(() => transform(f, 1)(3), {
      name: "RangeError",
      message: `${name}: argnum 1 is out of range for a call with 1 argument(s)`,
    });
    assert.throws(() => transform(f)([1, 2] as never), {
      name: "TypeError",
      message: new RegExp(`^${name}: argument 1 is an Array; expected a number or a Matrix`),
    });
    assert.throws(() => grad((x: Tensor) => transform(f)(x) as number)(1), {
      name: "TypeError",
      message: new RegExp(`^${name}: argument 1 is traced by an enclosing transform`),
    });
  }
  for (const t of [jacobian, jacfwd]) {
    assert.throws(() => t((x: Tensor) => [x, x] as never)(1), {
      name: "TypeError",
      message: /the function returned an Array; expected a number or a Matrix \(ravel a tree/,
    });
  }
  assert.throws(() => hessian((x: Tensor) => mul(x, Matrix.from([[1, 2]])))(1), {
    name: "TypeError",
    message: /^hessian: the function must return a scalar .*, got a 1x2 matrix/,
  });
  assert.throws(() => (hvp(f) as (...a: unknown[]) => unknown)(1), {
    name: "TypeError",
    message: /^hvp: expected the function's/,
  });
  assert.throws(() => hvp(f, 2)(1, 1), { name: "RangeError", message: /^hvp: argnum 2/ });
  assert.throws(() => hvp(f)(Matrix.from([[1, 2]]), 1), {
    name: "TypeError",
    message: "hvp: v must have the structure and shapes of argument 1 (argument 1 is 1x2, " +
      "v's leaf scalar)",
  });
  const g = (p: Tensor[]) => sum(mul(p[0], p[1]));
  assert.throws(
    () => hvp(g)([1, 2], [1] as never),
    /^TypeError: hvp: v must have the structure and shapes of argument 1 \(argument 1\[1\] is scalar\)$/,
  );
  assert.throws(() => hvp(f)(Matrix.from([[1, 2]]), Matrix.from([[1, 2]])), {
    name: "TypeError",
    message: /^hvp: the function must return a scalar \(a number or a 1x1 matrix\), got a 1x2/,
  });
  assert.throws(() => elementwiseGrad(f, -1)(1), /^RangeError: elementwiseGrad: argnum -1/);
});
