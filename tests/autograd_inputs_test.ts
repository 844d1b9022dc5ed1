// Tests of what the ops and transforms accept (issue 10's bugs): structured outputs of jvp and
// vjp, traced values that escape a transform, values that are not tensors, empty matrices.

import assert from "node:assert/strict";
import {
  add,
  broadcastTo,
  div,
  exp,
  grad,
  jvp,
  log,
  matmul,
  Matrix,
  mean,
  mul,
  neg,
  pow,
  square,
  sub,
  sum,
  tanh,
  type Tensor,
  transpose,
  valueAndGrad,
  vjp,
} from "../mod.ts";

Deno.test("jvp returns tangents with the structure of a list or object output", () => {
  assert.deepEqual(jvp((x: Tensor) => [mul(x, x), mul(3, x)], [2], [1]), [[4, 6], [4, 3]]);
  assert.deepEqual(
    jvp((x: Tensor) => ({ sq: mul(x, x), rest: [5, x] }), [2], [1]),
    [{ sq: 4, rest: [5, 2] }, { sq: 4, rest: [0, 1] }],
  );
  const [value, tangent] = jvp(
    (x: Tensor) => [add(x, 1), sum(x)],
    [Matrix.from([[1, 2]])],
    [Matrix.from([[1, 1]])],
  );
  assert.deepEqual((value[0] as Matrix).toArray(), [[2, 3]]);
  assert.deepEqual([(tangent[0] as Matrix).toArray(), tangent[1]], [[[1, 1]], 2]);
});

Deno.test("jvp of a grad that returns a list gives the Hessian-vector product", () => {
  // f(p) = p0 · p1², ∇f = [p1², 2 p0 p1]; along p = (x, x) at x = 2: d/dx ∇f = [2x, 4x]
  const gradF = grad((p: Tensor[]) => mul(p[0], square(p[1])));
  assert.deepEqual(jvp((x: Tensor) => gradF([x, x]), [2], [1]), [[4, 8], [4, 8]]);
});

Deno.test("vjp accepts structured outputs with a cotangent of the same structure", () => {
  const [value, pullback] = vjp((x: Tensor) => ({ a: mul(x, x), b: [mul(3, x), 7] }), 2);
  assert.deepEqual(value, { a: 4, b: [6, 7] });
  assert.deepEqual(pullback({ a: 1, b: [1, 1] }), [7]); // 2x + 3
  assert.deepEqual(pullback({ a: 0, b: [2, 0] }), [6]);
  assert.throws(() => pullback([1, 1]), /vjp: .*cotangent/);
  assert.throws(
    () => pullback({ a: Matrix.zeros(1, 2), b: [1, 1] }),
    /vjp: the cotangent's shape at the result\.a 1x2 differs from the output's scalar/,
  );
});

Deno.test("a traced value that escapes its transform is refused with an unexpected-tracer error", () => {
  let leaked: Tensor = 0;
  grad((x: Tensor) => {
    leaked = x;
    return mul(x, x);
  })(3);
  assert.throws(() => add(leaked, 1), {
    name: "TypeError",
    message: /^add: argument 1 is a traced value that escaped a grad transform that has finished/,
  });
  assert.throws(
    () => matmul(Matrix.zeros(1, 1), leaked),
    /TypeError: matmul: argument 2 .*escaped/,
  );
  jvp((x: Tensor) => (leaked = x), [1], [1]);
  assert.throws(() => tanh(leaked), /TypeError: tanh: .*escaped a jvp transform/);
  vjp((x: Tensor) => (leaked = x), 1);
  assert.throws(() => mean(leaked), /TypeError: mean: .*escaped a vjp transform/);
  // leaked from an inner transform into a still-running outer one
  assert.throws(
    () =>
      grad((y: Tensor) => {
        grad((x: Tensor) => (leaked = mul(x, y)))(1);
        return mul(leaked, y);
      })(2),
    /TypeError: mul: argument 1 is a traced value that escaped a grad transform/,
  );
});

const ONE_ARG: [string, (a: unknown) => unknown][] = [
  ["neg", (a) => neg(a as Tensor)],
  ["exp", (a) => exp(a as Tensor)],
  ["log", (a) => log(a as Tensor)],
  ["tanh", (a) => tanh(a as Tensor)],
  ["square", (a) => square(a as Tensor)],
  ["pow", (a) => pow(a as Tensor, 2)],
  ["transpose", (a) => transpose(a as Tensor)],
  ["sum", (a) => sum(a as Tensor)],
  ["mean", (a) => mean(a as Tensor)],
  ["broadcastTo", (a) => broadcastTo(a as Tensor, [2, 2])],
];
const TWO_ARGS: [string, (a: Tensor, b: Tensor) => unknown][] = [
  ["add", add],
  ["sub", sub],
  ["mul", mul],
  ["div", div],
  ["matmul", matmul],
];
const BAD: [unknown, RegExp][] = [
  [[[1, 2]], /is an Array; expected a number, a Matrix or a traced value \(.*Matrix\.from/],
  [new Float64Array(2), /is a Float64Array of length 2; .*new Matrix\(rows, cols, data\)/],
  ["x", /is a string \("x"\); .*Matrix\.from/],
  [null, /is null; .*Matrix\.from/],
  [undefined, /is undefined; .*Matrix\.from/],
  [{ a: 1 }, /is a plain object; .*Matrix\.from/],
  [true, /is a boolean \(true\)/],
];

Deno.test("every op refuses a value that is not a tensor, naming the op and what it got", () => {
  for (const [bad, message] of BAD) {
    for (const [name, op] of ONE_ARG) {
      assert.throws(() => op(bad), TypeError);
      assert.throws(() => op(bad), new RegExp(`TypeError: ${name}: argument 1 ${message.source}`));
    }
    const m = Matrix.from([[1]]);
    for (const [name, op] of TWO_ARGS) {
      assert.throws(
        () => op(bad as Tensor, m),
        new RegExp(`TypeError: ${name}: argument 1 ${message.source}`),
      );
      assert.throws(
        () => op(m, bad as Tensor),
        new RegExp(`TypeError: ${name}: argument 2 ${message.source}`),
      );
    }
  }
  // while tracing too
  assert.throws(
    () => grad((x: Tensor) => add(x, [[1]] as unknown as Tensor))(2),
    /TypeError: add: argument 2 is an Array/,
  );
});

Deno.test("broadcastTo refuses a shape that is not [rows, cols], naming the op and the shape", () => {
  const m = Matrix.from([[1], [2]]);
  for (
    const [shape, shown] of [
      [null, "null"],
      ["x", "x"],
      [{ a: 1 }, "[object Object]"],
      [[2], "[2]"],
      [[2, -1], "[2, -1]"],
      [[2, 1.5], "[2, 1.5]"],
    ] as const
  ) {
    assert.throws(
      () => broadcastTo(m, shape as never),
      (e) =>
        e instanceof TypeError &&
        e.message ===
          `broadcastTo: the shape must be [rows, cols] or undefined (a scalar), got ${shown}`,
    );
  }
  assert.deepEqual((broadcastTo(m, [2, 3]) as Matrix).shape, [2, 3]);
});

Deno.test("transform messages describe values with the right article", () => {
  assert.throws(
    () => grad((x: Tensor) => [x] as unknown as Tensor)(2),
    /TypeError: grad: the function must return a scalar \(a number or a 1x1 matrix\), got an Array/,
  );
  assert.throws(
    () => valueAndGrad((_x: Tensor) => "y" as unknown as Tensor)(2),
    /TypeError: grad: the result is a string \("y"\)/,
  );
  assert.throws(
    () => vjp((_x: Tensor) => [null] as unknown as Tensor, 1),
    /TypeError: vjp: the result\[0\] is null/,
  );
});

Deno.test("matrices may have zero rows or columns, and the ops handle them", () => {
  const rows0 = Matrix.zeros(0, 3), cols0 = Matrix.zeros(3, 0);
  assert.deepEqual([rows0.shape, cols0.shape], [[0, 3], [3, 0]]);
  assert.deepEqual(rows0.toArray(), []);
  assert.deepEqual(cols0.toArray(), [[], [], []]);
  assert.deepEqual(Matrix.from([]).shape, [0, 0]);
  assert.deepEqual(Matrix.from([[], []]).shape, [2, 0]);
  assert.deepEqual(new Matrix(0, 5).data.length, 0);
  assert.throws(() => Matrix.zeros(-1, 2), RangeError);
  assert.deepEqual((matmul(cols0, Matrix.zeros(0, 2)) as Matrix).toArray(), [[0, 0], [0, 0], [
    0,
    0,
  ]]);
  assert.deepEqual((matmul(rows0, Matrix.zeros(3, 2)) as Matrix).shape, [0, 2]);
  assert.deepEqual((tanh(rows0) as Matrix).shape, [0, 3]);
  assert.deepEqual((add(rows0, Matrix.zeros(1, 3)) as Matrix).shape, [0, 3]);
  assert.equal(sum(rows0), 0);
  assert.deepEqual((sum(rows0, { axis: 0 }) as Matrix).toArray(), [[0, 0, 0]]);
  assert.deepEqual((transpose(rows0) as Matrix).shape, [3, 0]);
  const g = grad((x: Tensor) => sum(tanh(matmul(x, Matrix.zeros(3, 4)))))(rows0) as Matrix;
  assert.deepEqual(g.shape, [0, 3]);
});
