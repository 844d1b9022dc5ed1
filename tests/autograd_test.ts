// Tests of the autograd: every primitive against finite differences, the transforms, errors.

import assert from "node:assert/strict";
import {
  add,
  broadcastTo,
  createRng,
  div,
  exp,
  grad,
  initMLP,
  jvp,
  log,
  matmul,
  Matrix,
  mean,
  mseLoss,
  mul,
  neg,
  pow,
  type Rng,
  square,
  sub,
  sum,
  tanh,
  type Tensor,
  transpose,
  type Value,
  valueAndGrad,
  vjp,
} from "../mod.ts";
import { matmulT, type PrimitiveName, PRIMITIVES, tanhGrad } from "../lib/autograd/ops.ts";

type Shape = [number, number] | "scalar";

interface Case {
  name: string;
  covers: PrimitiveName[];
  f: (...args: Tensor[]) => Tensor;
  shapes: Shape[];
  /** Draw inputs from (0.5, 1.5) instead of a standard normal (for log, pow, division). */
  positive?: boolean;
}

const unaryCases = (
  name: string,
  covers: PrimitiveName[],
  f: (a: Tensor) => Tensor,
  positive = false,
): Case[] => [
  { name: `${name} of a matrix`, covers, f, shapes: [[3, 2]], positive },
  { name: `${name} of a number`, covers, f, shapes: ["scalar"], positive },
];

/** Broadcasting binary op over every supported shape pairing. */
const binaryCases = (
  name: string,
  covers: PrimitiveName[],
  f: (a: Tensor, b: Tensor) => Tensor,
  positive = false,
): Case[] =>
  ([
    [[2, 3], [2, 3]],
    [[2, 3], [2, 1]],
    [[1, 3], [2, 3]],
    [[2, 3], [1, 1]],
    [[2, 1], [1, 3]],
    [[2, 3], "scalar"],
    ["scalar", [2, 3]],
    ["scalar", "scalar"],
  ] as Shape[][]).map((shapes) => ({
    name: `${name} of ${shapes.map(fmtShape).join(" and ")}`,
    covers,
    f,
    shapes,
    positive,
  }));

const CASES: Case[] = [
  ...binaryCases("add", ["add"], add),
  ...binaryCases("sub", ["sub"], sub),
  ...binaryCases("mul", ["mul"], mul),
  ...binaryCases("div", ["div"], div, true),
  ...binaryCases("tanhGrad", ["tanhGrad"], tanhGrad),
  ...unaryCases("neg", ["neg"], neg),
  ...unaryCases("exp", ["exp"], exp),
  ...unaryCases("log", ["log"], log, true),
  ...unaryCases("tanh", ["tanh"], tanh),
  ...unaryCases("square", ["square"], square),
  ...unaryCases("pow 3", ["pow"], (a) => pow(a, 3)),
  ...unaryCases("pow 0", ["pow"], (a) => pow(a, 0)),
  ...unaryCases("pow -1.5", ["pow"], (a) => pow(a, -1.5), true),
  ...unaryCases("transpose", ["transpose"], transpose),
  ...unaryCases("sum", ["sum"], (a) => sum(a)),
  { name: "sum along axis 0", covers: ["sum"], f: (a) => sum(a, { axis: 0 }), shapes: [[3, 2]] },
  { name: "sum along axis 1", covers: ["sum"], f: (a) => sum(a, { axis: 1 }), shapes: [[3, 2]] },
  { name: "mean of a matrix", covers: ["sum", "div"], f: (a) => mean(a), shapes: [[3, 2]] },
  { name: "mean along axis 0", covers: ["sum"], f: (a) => mean(a, { axis: 0 }), shapes: [[3, 2]] },
  { name: "mean along axis 1", covers: ["sum"], f: (a) => mean(a, { axis: 1 }), shapes: [[3, 2]] },
  {
    name: "broadcastTo from a column",
    covers: ["broadcastTo"],
    f: (a) => broadcastTo(a, [3, 4]),
    shapes: [[3, 1]],
  },
  {
    name: "broadcastTo from a number",
    covers: ["broadcastTo"],
    f: (a) => broadcastTo(a, [2, 2]),
    shapes: ["scalar"],
  },
  { name: "matmul", covers: ["matmul"], f: matmul, shapes: [[3, 4], [4, 2]] },
  { name: "matmul of vectors", covers: ["matmul"], f: matmul, shapes: [[1, 3], [3, 1]] },
  {
    name: "matmulT Aᵀ·B",
    covers: ["matmul"],
    f: (a, b) => matmulT(a, b, true, false),
    shapes: [[4, 3], [4, 2]],
  },
  {
    name: "matmulT A·Bᵀ",
    covers: ["matmul"],
    f: (a, b) => matmulT(a, b, false, true),
    shapes: [[3, 4], [2, 4]],
  },
  {
    name: "matmulT Aᵀ·Bᵀ",
    covers: ["matmul"],
    f: (a, b) => matmulT(a, b, true, true),
    shapes: [[4, 3], [2, 4]],
  },
  {
    name: "a composite of every kind",
    covers: [],
    f: (a, b) => mean(tanh(add(matmul(a, b), exp(mul(0.1, transpose(a)))))),
    shapes: [[3, 3], [3, 3]],
  },
];

function fmtShape(s: Shape): string {
  return s === "scalar" ? "a number" : `${s[0]}x${s[1]}`;
}

function random(shape: Shape, rng: Rng, positive = false): Value {
  const draw = () => positive ? 0.5 + rng.next() : rng.normal();
  if (shape === "scalar") return draw();
  const m = Matrix.zeros(shape[0], shape[1]);
  for (let i = 0; i < m.data.length; i++) m.data[i] = draw();
  return m;
}

/** Elements of a plain value as an array. */
function flat(v: Value): number[] {
  return typeof v === "number" ? [v] : Array.from(v.data);
}

function shapeOfValue(v: Value): Shape {
  return typeof v === "number" ? "scalar" : [v.rows, v.cols];
}

/** `x + s·d` element-wise. */
function axpy(x: Value, s: number, d: Value): Value {
  if (typeof x === "number") return x + s * (d as number);
  const out = x.clone();
  const dd = (d as Matrix).data;
  for (let i = 0; i < out.data.length; i++) out.data[i] += s * dd[i];
  return out;
}

function inner(a: Value, b: Value): number {
  const x = flat(a), y = flat(b);
  assert.equal(x.length, y.length);
  return x.reduce((s, v, i) => s + v * y[i], 0);
}

/** Central difference of f along direction `dirs` (one per argument). */
function directional(f: Case["f"], args: Value[], dirs: Value[], eps = 1e-6): number[] {
  const plus = f(...args.map((a, i) => axpy(a, eps, dirs[i]))) as Value;
  const minus = f(...args.map((a, i) => axpy(a, -eps, dirs[i]))) as Value;
  return flat(plus).map((p, i) => (p - flat(minus)[i]) / (2 * eps));
}

function assertClose(actual: number[], expected: number[], what: string, tol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    assert.ok(err < tol, `${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

Deno.test("every primitive has a finite-difference case", () => {
  const covered = new Set(CASES.flatMap((c) => c.covers));
  for (const name of Object.keys(PRIMITIVES)) {
    assert.ok(covered.has(name as PrimitiveName), `no case covers primitive ${name}`);
  }
});

Deno.test("vjp and jvp match central finite differences", async (t) => {
  for (const [n, c] of CASES.entries()) {
    await t.step(c.name, () => {
      const rng = createRng(1000 + n);
      const args = c.shapes.map((s) => random(s, rng, c.positive));
      const [value, pullback] = vjp(c.f, ...args);
      const u = random(shapeOfValue(value), rng);
      const cotangents = pullback(u) as Value[];
      // VJP: for each element e_k of each argument, <u, J e_k> by finite differences.
      for (let i = 0; i < args.length; i++) {
        const fd = flat(args[i]).map((_, k) => {
          const dirs = args.map((a, j) => {
            const d = axpy(a, -1, a); // zeros of the same shape
            if (j === i) {
              if (typeof d === "number") return 1;
              d.data[k] = 1;
            }
            return d;
          });
          return inner(u, matrixLike(value, directional(c.f, args, dirs)));
        });
        assertClose(flat(cotangents[i]), fd, `${c.name}: VJP of argument ${i}`);
      }
      // JVP against a directional difference, and <u, Jv> = <uᵀJ, v>.
      const v = args.map((a) => random(shapeOfValue(a), rng));
      const [jvpValue, tangent] = jvp(c.f, args, v);
      assert.deepEqual(flat(jvpValue), flat(value));
      assertClose(flat(tangent), directional(c.f, args, v), `${c.name}: JVP`);
      const viaJvp = inner(u, tangent);
      const viaVjp = cotangents.reduce((s: number, g, i) => s + inner(g, v[i]), 0);
      assertClose([viaJvp], [viaVjp], `${c.name}: <u, Jv> both ways`, 1e-10);
    });
  }
});

function matrixLike(like: Value, values: number[]): Value {
  if (typeof like === "number") return values[0];
  return new Matrix(like.rows, like.cols, Float64Array.from(values));
}

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
