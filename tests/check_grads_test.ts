// Tests of checkGrads and definePrimitive: correct ops pass, wrong rules fail with messages
// naming the derivative, the argument, the entry and both values; users' primitives compose.

import assert from "node:assert/strict";
import {
  add,
  checkGrads,
  createRng,
  definePrimitive,
  exp,
  grad,
  hessian,
  jacfwd,
  jacobian,
  jvp,
  log,
  matmul,
  Matrix,
  mul,
  sub,
  sum,
  tanh,
  type Tensor,
  toDot,
  Traced,
  transpose,
  type Value,
} from "../mod.ts";
import { PRIMITIVES } from "../lib/autograd/ops.ts";
import { random } from "./_fd.ts";

const map = (x: Value, f: (v: number) => number): Value =>
  typeof x === "number" ? f(x) : new Matrix(x.rows, x.cols, x.data.map(f));
const sigma = (v: number) => v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
const slope = (out: Tensor) => mul(out, sub(1, out));

const logistic = definePrimitive({
  name: "logistic",
  forward: (x) => map(x, sigma),
  vjp: [(g, out) => mul(g, slope(out))],
  jvp: ([t], out) => mul(t!, slope(out)),
});

/** x·y with broadcasting undone by the rules: a two-argument user primitive. */
const times = definePrimitive({
  name: "times",
  forward: (a, b) => mul(a, b) as Value,
  vjp: [
    (g, _, [, b]) => sum(mul(g, b), { axis: 1 }), // a is n×1, b is n×m
    (g, _, [a]) => mul(g, a),
  ],
  jvp: ([ta, tb], _, [a, b]) => add(ta ? mul(ta, b) : 0, tb ? mul(a, tb) : 0),
});

/** The plain value under any tracing: a rule using it is right once but not differentiable. */
const plain = (t: Tensor): Value => t instanceof Traced ? plain(t.value) : t;

Deno.test("checkGrads passes on correct ops, trees and several outputs, to second order", () => {
  const X = random([3, 2], createRng(1));
  checkGrads((x: Tensor, y: Tensor) => tanh(mul(x, exp(y))), [0.3, -0.2]);
  checkGrads((w: Tensor) => sum(log(add(1, exp(matmul(X, w))))), [random([2, 1], createRng(2))]);
  const tree = { w: random([2, 2], createRng(3)), b: [0.5] };
  checkGrads((p: typeof tree) => [matmul(X, p.w), { s: mul(p.b[0], sum(p.w)) }], [tree]);
  checkGrads((a: Tensor, b: Tensor) => matmul(a, transpose(b)), [X, X], { order: 1 });
  checkGrads(tanh, [X], { modes: ["fwd"], eps: 1e-5, rtol: 1e-6 });
  // a wrong tree output is named by its path
  const wrong = definePrimitive({
    name: "wrong",
    forward: (x) => x,
    vjp: [(g) => g],
    jvp: ([t]) => mul(2, t!),
  });
  assert.throws(
    () => checkGrads((x: Tensor) => [x, { y: wrong(x) }], [1], { modes: ["fwd"] }),
    /for argument 1, output result\[1\]\.y: it gives 2, central differences give (1\.0000|0\.9999)/,
  );
});

Deno.test("a user primitive works in grad, jvp, second order, jacobians and toDot", () => {
  const x = Matrix.from([[-3, 0, 0.5], [2, 40, -40]]);
  const s = x.data.map(sigma);
  assert.deepEqual((logistic(x) as Matrix).data, s);
  const d = grad((v: Tensor) => sum(logistic(v)))(x) as Matrix;
  assert.deepEqual(d.data, s.map((y) => y * (1 - y)));
  assert.deepEqual(jvp(logistic, [0], [2]), [0.5, 0.5]);
  // σ'' = σ(1 − σ)(1 − 2σ), through the rules' own derivatives
  const second = grad(grad((v: Tensor) => logistic(v)))(1) as number;
  assert.ok(Math.abs(second - sigma(1) * (1 - sigma(1)) * (1 - 2 * sigma(1))) < 1e-15);
  assert.ok(Math.abs((hessian(logistic)(1) as number) - second) < 1e-16);
  assert.deepEqual(jacobian(logistic)(x), jacfwd(logistic)(x));
  const dot = toDot((v: Tensor) => sum(logistic(v)), x);
  assert.ok(dot.includes('label="logistic 2x3", shape=box'));
  checkGrads(logistic, [x]);
  checkGrads(times, [random([3, 1], createRng(4)), random([3, 2], createRng(5))]);
  assert.equal(logistic.name, "logistic");
});

Deno.test("users' primitives stay out of the primitive table", () => {
  assert.ok(!("logistic" in PRIMITIVES) && !("times" in PRIMITIVES));
});

Deno.test("checkGrads fails on a wrong VJP, naming the argument, the entry and both values", () => {
  const badLogistic = definePrimitive({
    name: "badLogistic",
    forward: (x) => map(x, sigma),
    vjp: [(g, out) => mul(g, out)], // forgot the (1 − σ)
    jvp: ([t], out) => mul(t!, slope(out)),
  });
  const x = Matrix.from([[0, 1], [2, 3]]);
  const f = (w: Tensor, v: Tensor) => sum(mul(w, badLogistic(v)));
  const w = Matrix.from([[1, 1], [1, 1]]);
  assert.throws(() => checkGrads(f, [w, x]), {
    name: "Error",
    message: new RegExp(
      "^checkGrads: the VJP \\(reverse mode\\) disagrees with central differences for " +
        "argument 2 at entry \\(0, 0\\): it gives 0\\.5, central differences give " +
        "0\\.25000000\\d+ \\(tolerance 0\\.0000035; eps 0\\.000001\\)$",
    ),
  });
  // forward mode alone passes: the JVP rule is right
  checkGrads(f, [w, x], { modes: ["fwd"] });
});

Deno.test("checkGrads fails on a wrong JVP, naming the output element too", () => {
  const badJvp = definePrimitive({
    name: "badJvp",
    forward: (x) => map(x, sigma),
    vjp: [(g, out) => mul(g, slope(out))],
    jvp: ([t], out) => mul(t!, out),
  });
  const x = Matrix.from([[0.5, -1], [2, 0]]);
  checkGrads(badJvp, [x], { modes: ["rev"] });
  assert.throws(
    () => checkGrads(badJvp, [x]),
    /^Error: checkGrads: the JVP \(forward mode\) disagrees with central differences for argument 1 at entry \(0, 0\), output at entry \(0, 0\): it gives 0\.62\d+, central differences give 0\.235\d+ /,
  );
});

Deno.test("checkGrads at order 2 catches rules that are right but not differentiable", () => {
  // The VJP uses the plain value of x, so grad(grad(...)) sees a constant and gives 0.
  const cube = definePrimitive({
    name: "cube",
    forward: (x) => map(x, (v) => v ** 3),
    vjp: [(g, _, [x]) => mul(g, map(plain(x), (v) => 3 * v * v))],
    jvp: ([t], _, [x]) => mul(t!, mul(3, mul(x, x))),
  });
  checkGrads(cube, [Matrix.from([[0.5, -2]])], { order: 1 });
  assert.throws(
    () => checkGrads(cube, [Matrix.from([[0.5, -2]])]),
    /the VJP of the VJP \(reverse mode, uᵀJ for a random u\) disagrees .* argument 1 at entry \(0, 0\)/,
  );
  // the JVP rule is written with the ops, so forward over forward is right
  checkGrads(cube, [Matrix.from([[0.5, -2]])], { modes: ["fwd"] });
  assert.throws(
    () => checkGrads(cube, [Matrix.from([[0.5, -2]])], { modes: ["rev"] }),
    /the VJP of the VJP/,
  );
});

Deno.test("checkGrads rejects bad options and arguments", () => {
  const f = (x: Tensor) => mul(x, x);
  const bad = (options: object, message: RegExp) =>
    assert.throws(() => checkGrads(f, [1], options as never), message);
  bad({ order: 3 }, /^RangeError: checkGrads: order must be 1 or 2, got 3$/);
  bad({ eps: 0 }, /^RangeError: checkGrads: eps must be a finite number > 0, got 0$/);
  bad({ rtol: -1 }, /^RangeError: checkGrads: rtol must be a finite number >= 0, got -1$/);
  bad({ modes: ["back"] }, /^RangeError: checkGrads: modes must be a non-empty array/);
  bad({ modes: [] }, /modes must be a non-empty array/);
  assert.throws(
    () => checkGrads(f, 1 as never),
    /^TypeError: checkGrads: args must be a non-empty/,
  );
  assert.throws(() => checkGrads(1 as never, [1]), /^TypeError: checkGrads: f must be a function/);
  assert.throws(() => checkGrads(f, ["x"] as never), /checkGrads: argument 1 is a string/);
});

Deno.test("definePrimitive checks the definition, the arity and the rules' results", () => {
  const def = { name: "p", forward: (x: Value) => x, vjp: [(g: Tensor) => g] };
  const bad = (changes: object, message: RegExp) =>
    assert.throws(() => definePrimitive({ ...def, ...changes } as never), message);
  bad({ name: "" }, /^TypeError: definePrimitive: name must be a non-empty string, got a string/);
  bad({ forward: 1 }, /^TypeError: definePrimitive\("p"\): forward must be a function/);
  bad({ vjp: [] }, /vjp must be a non-empty array of rules, one per argument/);
  bad({ vjp: [1] }, /vjp\[0\] must be a function or undefined, got a number \(1\)/);
  bad({ jvp: "x" }, /jvp must be a function, got a string/);

  const p = definePrimitive(def);
  assert.throws(() => p(1, 2), /^TypeError: p: expected 1 argument\(s\), got 2$/);
  assert.throws(() => p([1] as never), /^TypeError: p: argument 1 is an Array/);
  assert.throws(() => jvp(p, [1], [1]), /^TypeError: p: this primitive has no JVP rule, so/);
  const arrayOut = definePrimitive({ ...def, forward: () => [1] as never });
  assert.throws(() => arrayOut(1), /^TypeError: p: forward returned an Array; expected a number/);
  const wrongShape = definePrimitive({ ...def, vjp: [() => Matrix.from([[1, 2]])] });
  assert.throws(
    () => grad((x: Tensor) => sum(wrongShape(x)))(Matrix.from([[1], [2]])),
    /^TypeError: p: the VJP rule for argument 1 returned a value of shape 1x2, expected 2x1$/,
  );
  const constantArg = definePrimitive({ ...def, vjp: [undefined] });
  assert.equal(constantArg(3), 3);
  assert.throws(() => grad(constantArg)(3), /p: argument 1 cannot be differentiated/);
});
