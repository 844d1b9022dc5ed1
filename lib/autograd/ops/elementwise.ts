// The element-wise family: arithmetic with numpy broadcasting and the unary functions, each
// primitive's forward kernel beside its VJP and JVP, then the public ops.

import { alloc } from "../../_arena.ts";
import * as k from "../../_kernels.ts";
import {
  apply,
  checkTensor,
  formatShape,
  type Primitive,
  shapeOf,
  type Tensor,
  type Value,
  valueOf,
} from "../tracer.ts";
import { binary, broadcastShapes, unary } from "./_helpers.ts";
import { broadcastTo, unbroadcast } from "./reductions.ts";

const addValues = binary("add", k.addInto, (x, y) => x + y);
const subValues = binary("sub", k.subInto, (x, y) => x - y);
const mulValues = binary("mul", k.mulInto, (x, y) => x * y);
const divValues = binary("div", k.divInto, (x, y) => x / y);
const tanhGradValues = binary("tanhGrad", k.tanhGradInto, (y, g) => g * (1 - y * y));

const maximumValues = binary("maximum", k.maximumInto, Math.max);
const reluGradValues = binary("reluGrad", k.reluGradInto, (x, g) => x > 0 ? g : 0);
const sigmoidGradValues = binary("sigmoidGrad", k.sigmoidGradInto, (y, g) => g * (y * (1 - y)));

const unaryForward = {
  neg: unary((x) => -x, k.negInto),
  exp: unary(Math.exp, k.expInto),
  log: unary(Math.log, k.logInto),
  tanh: unary(Math.tanh, k.tanhInto),
  square: unary((x) => x * x, k.squareInto),
  sqrt: unary(Math.sqrt, k.sqrtInto),
  abs: unary(Math.abs, k.absInto),
  sin: unary(Math.sin, k.sinInto),
  cos: unary(Math.cos, k.cosInto),
  relu: unary((x) => Math.max(x, 0), k.reluInto),
  // The kernels' own algorithms for numbers too, so a number and a 1x1 matrix agree.
  sigmoid: unary(k.sigmoidScalar, k.sigmoidInto),
  softplus: unary(k.softplusScalar, k.softplusInto),
};

function powValue(a: Value, p: number): Value {
  if (typeof a === "number") return a ** p;
  const out = alloc(a.rows, a.cols);
  k.powInto(a.data, p, out.data);
  return out;
}

/** d(aᵖ)/da = p·aᵖ⁻¹, and 0 for p = 0 (where p·aᵖ⁻¹ would be 0·∞ = NaN at a = 0). */
function powSlope(a: Tensor, p: number): Tensor {
  return p === 0 ? mul(a, 0) : mul(p, pow(a, p - 1));
}

/** Adds the defined tangents of a broadcasting op and gives the result the output's shape. */
function combine(out: Tensor, ...terms: (Tensor | undefined)[]): Tensor {
  let t: Tensor | undefined;
  for (const term of terms) if (term !== undefined) t = t === undefined ? term : add(t, term);
  return broadcastTo(t!, shapeOf(out));
}

/**
 * A constant (never traced) computed by a kernel from the plain values of `args`: the slopes
 * and masks of the piecewise ops, which have no derivative of their own.
 */
function constant(
  op: string,
  kernel: k.BinaryKernel,
  f: (x: number, y: number) => number,
  a: Tensor,
  b: Tensor,
): Value {
  return binary(op, kernel, f)(valueOf(a), valueOf(b));
}

/** Zeros shaped like `x` (the derivative of an op that is constant in an argument). */
function zerosLike(x: Tensor): Tensor {
  const shape = shapeOf(x);
  return shape === undefined ? 0 : constantMatrix(shape, 0);
}

function constantMatrix(shape: [number, number], value: number): Value {
  const out = alloc(shape[0], shape[1]);
  out.data.fill(value);
  return out;
}

/** The element-wise family's primitives. */
export const elementwise = {
  add: {
    name: "add",
    forward: ([a, b]) => addValues(a, b),
    vjp: [(g, _, [a]) => unbroadcast(g, shapeOf(a)), (g, _, [, b]) => unbroadcast(g, shapeOf(b))],
    jvp: ([ta, tb], out) => combine(out, ta, tb),
  },
  sub: {
    name: "sub",
    forward: ([a, b]) => subValues(a, b),
    vjp: [
      (g, _, [a]) => unbroadcast(g, shapeOf(a)),
      (g, _, [, b]) => unbroadcast(neg(g), shapeOf(b)),
    ],
    jvp: ([ta, tb], out) => combine(out, ta, tb && neg(tb)),
  },
  mul: {
    name: "mul",
    forward: ([a, b]) => mulValues(a, b),
    vjp: [
      (g, _, [a, b]) => unbroadcast(mul(g, b), shapeOf(a)),
      (g, _, [a, b]) => unbroadcast(mul(g, a), shapeOf(b)),
    ],
    jvp: ([ta, tb], out, [a, b]) => combine(out, ta && mul(ta, b), tb && mul(a, tb)),
  },
  div: {
    name: "div",
    forward: ([a, b]) => divValues(a, b),
    vjp: [
      (g, _, [a, b]) => unbroadcast(div(g, b), shapeOf(a)),
      (g, out, [, b]) => unbroadcast(neg(div(mul(g, out), b)), shapeOf(b)),
    ],
    jvp: ([ta, tb], out, [, b]) => combine(out, ta && div(ta, b), tb && neg(div(mul(tb, out), b))),
  },
  neg: {
    name: "neg",
    forward: ([a]) => unaryForward.neg(a),
    vjp: [(g) => neg(g)],
    jvp: ([t]) => neg(t!),
  },
  exp: {
    name: "exp",
    forward: ([a]) => unaryForward.exp(a),
    vjp: [(g, out) => mul(g, out)],
    jvp: ([t], out) => mul(t!, out),
  },
  log: {
    name: "log",
    forward: ([a]) => unaryForward.log(a),
    vjp: [(g, _, [a]) => div(g, a)],
    jvp: ([t], _, [a]) => div(t!, a),
  },
  tanh: {
    name: "tanh",
    forward: ([a]) => unaryForward.tanh(a),
    vjp: [(g, out) => tanhGrad(out, g)],
    jvp: ([t], out) => tanhGrad(out, t!),
  },
  // g * (1 - y²), fused so the backward pass of tanh is one loop and one allocation.
  tanhGrad: {
    name: "tanhGrad",
    forward: ([y, g]) => tanhGradValues(y, g),
    vjp: [
      (gb, _, [y, g]) => unbroadcast(mul(gb, mul(-2, mul(y, g))), shapeOf(y)),
      (gb, _, [y, g]) => unbroadcast(tanhGrad(y, gb), shapeOf(g)),
    ],
    jvp: ([ty, tg], out, [y, g]) =>
      combine(out, ty && mul(ty, mul(-2, mul(y, g))), tg && tanhGrad(y, tg)),
  },
  square: {
    name: "square",
    forward: ([a]) => unaryForward.square(a),
    vjp: [(g, _, [a]) => mul(mul(g, a), 2)],
    jvp: ([t], _, [a]) => mul(mul(t!, a), 2),
  },
  pow: {
    name: "pow",
    forward: ([a], p) => powValue(a, p),
    vjp: [(g, _, [a], p) => mul(g, powSlope(a, p))],
    jvp: ([t], _, [a], p) => mul(t!, powSlope(a, p)),
    label: (p) => ` ^${p}`,
  } as Primitive<number>,
  sqrt: {
    name: "sqrt",
    forward: ([a]) => unaryForward.sqrt(a),
    vjp: [(g, out) => div(mul(g, 0.5), out)],
    jvp: ([t], out) => div(mul(t!, 0.5), out),
  },
  // Slope +1 at 0 (and -0), as JAX's abs: select(x >= 0, g, -g).
  abs: {
    name: "abs",
    forward: ([a]) => unaryForward.abs(a),
    vjp: [(g, _, [a]) => mul(g, absSlope(a))],
    jvp: ([t], _, [a]) => mul(t!, absSlope(a)),
  },
  sin: {
    name: "sin",
    forward: ([a]) => unaryForward.sin(a),
    vjp: [(g, _, [a]) => mul(g, cos(a))],
    jvp: ([t], _, [a]) => mul(t!, cos(a)),
  },
  cos: {
    name: "cos",
    forward: ([a]) => unaryForward.cos(a),
    vjp: [(g, _, [a]) => neg(mul(g, sin(a)))],
    jvp: ([t], _, [a]) => neg(mul(t!, sin(a))),
  },
  // σ' = σ (1 - σ), from the output.
  sigmoid: {
    name: "sigmoid",
    forward: ([a]) => unaryForward.sigmoid(a),
    vjp: [(g, out) => sigmoidGrad(out, g)],
    jvp: ([t], out) => sigmoidGrad(out, t!),
  },
  // g * (y (1 - y)), fused as tanhGrad is.
  sigmoidGrad: {
    name: "sigmoidGrad",
    forward: ([y, g]) => sigmoidGradValues(y, g),
    vjp: [
      (gb, _, [y, g]) => unbroadcast(mul(gb, mul(g, sub(1, mul(2, y)))), shapeOf(y)),
      (gb, _, [y, g]) => unbroadcast(sigmoidGrad(y, gb), shapeOf(g)),
    ],
    jvp: ([ty, tg], out, [y, g]) =>
      combine(out, ty && mul(ty, mul(g, sub(1, mul(2, y)))), tg && sigmoidGrad(y, tg)),
  },
  // softplus' = σ, so the second derivative comes from sigmoid's rule.
  softplus: {
    name: "softplus",
    forward: ([a]) => unaryForward.softplus(a),
    vjp: [(g, _, [a]) => mul(g, sigmoid(a))],
    jvp: ([t], _, [a]) => mul(t!, sigmoid(a)),
  },
  // Slope 0 at 0, as JAX's relu: select(x > 0, g, 0).
  relu: {
    name: "relu",
    forward: ([a]) => unaryForward.relu(a),
    vjp: [(g, _, [a]) => reluGrad(a, g)],
    jvp: ([t], _, [a]) => reluGrad(a, t!),
  },
  // a > 0 ? g : 0, fused so the backward pass of relu is one loop; constant in a.
  reluGrad: {
    name: "reluGrad",
    forward: ([a, g]) => reluGradValues(a, g),
    vjp: [
      (_, __, [a]) => zerosLike(a),
      (gb, _, [a, g]) => unbroadcast(reluGrad(a, gb), shapeOf(g)),
    ],
    jvp: ([, tg], out, [a]) => tg === undefined ? zerosLike(out) : combine(out, reluGrad(a, tg)),
  },
  // Ties split the slope 0.5 / 0.5, as JAX's maximum.
  maximum: {
    name: "maximum",
    forward: ([a, b]) => maximumValues(a, b),
    vjp: [
      (g, _, [a, b]) => unbroadcast(mul(g, maxWeight(a, b)), shapeOf(a)),
      (g, _, [a, b]) => unbroadcast(mul(g, maxWeight(b, a)), shapeOf(b)),
    ],
    jvp: ([ta, tb], out, [a, b]) =>
      combine(out, ta && mul(ta, maxWeight(a, b)), tb && mul(tb, maxWeight(b, a))),
  },
  // cond (a constant, non-zero meaning true) picks a or b, all three broadcast together.
  where: {
    name: "where",
    forward: ([a, b], cond) => whereValues(cond, a, b),
    vjp: [
      (g, _, [a], cond) => unbroadcast(where(cond, g, 0), shapeOf(a)),
      (g, _, [, b], cond) => unbroadcast(where(cond, 0, g), shapeOf(b)),
    ],
    jvp: ([ta, tb], out, _, cond) => broadcastTo(where(cond, ta ?? 0, tb ?? 0), shapeOf(out)),
    label: (cond) => ` cond ${typeof cond === "number" ? cond : formatShape(shapeOf(cond))}`,
  } as Primitive<Value>,
} satisfies Record<string, Primitive<never>>;

/**
 * Element-wise `a + b`, broadcasting `(r,c)` with `(r,1)`, `(1,c)`, `(1,1)` and numbers.
 *
 * @example
 * ```ts
 * import { add, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = add(Matrix.from([[1, 2], [3, 4]]), Matrix.from([[10], [20]])) as Matrix;
 * assert.deepEqual(m.toArray(), [[11, 12], [23, 24]]);
 * ```
 */
export function add(a: Tensor, b: Tensor): Tensor {
  return apply(elementwise.add, [a, b], undefined);
}

/**
 * Element-wise `a - b`, broadcasting as {@linkcode add}.
 *
 * @example
 * ```ts
 * import { sub } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sub(5, 3), 2);
 * ```
 */
export function sub(a: Tensor, b: Tensor): Tensor {
  return apply(elementwise.sub, [a, b], undefined);
}

/**
 * Element-wise `a * b`, broadcasting as {@linkcode add}.
 *
 * @example
 * ```ts
 * import { Matrix, mul } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((mul(2, Matrix.from([[1, 2]])) as Matrix).toArray(), [[2, 4]]);
 * ```
 */
export function mul(a: Tensor, b: Tensor): Tensor {
  return apply(elementwise.mul, [a, b], undefined);
}

/**
 * Element-wise `a / b`, broadcasting as {@linkcode add}.
 *
 * @example
 * ```ts
 * import { div } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(div(1, 4), 0.25);
 * ```
 */
export function div(a: Tensor, b: Tensor): Tensor {
  return apply(elementwise.div, [a, b], undefined);
}

/**
 * Element-wise `-a`.
 *
 * @example
 * ```ts
 * import { neg } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(neg(2), -2);
 * ```
 */
export function neg(a: Tensor): Tensor {
  return apply(elementwise.neg, [a], undefined);
}

/**
 * Element-wise `e^a`.
 *
 * @example
 * ```ts
 * import { exp } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(exp(0), 1);
 * ```
 */
export function exp(a: Tensor): Tensor {
  return apply(elementwise.exp, [a], undefined);
}

/**
 * Element-wise natural logarithm.
 *
 * @example
 * ```ts
 * import { log } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(log(1), 0);
 * ```
 */
export function log(a: Tensor): Tensor {
  return apply(elementwise.log, [a], undefined);
}

/**
 * Element-wise hyperbolic tangent.
 *
 * @example
 * ```ts
 * import { tanh } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tanh(0), 0);
 * ```
 */
export function tanh(a: Tensor): Tensor {
  return apply(elementwise.tanh, [a], undefined);
}

/** @internal `g * (1 - y²)`: the tanh derivative rule as one primitive. */
export function tanhGrad(y: Tensor, g: Tensor): Tensor {
  return apply(elementwise.tanhGrad, [y, g], undefined);
}

/**
 * Element-wise `a²`.
 *
 * @example
 * ```ts
 * import { square } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(square(-3), 9);
 * ```
 */
export function square(a: Tensor): Tensor {
  return apply(elementwise.square, [a], undefined);
}

/**
 * Element-wise `a ** p` for a number exponent `p`.
 *
 * @example
 * ```ts
 * import { pow } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pow(2, 3), 8);
 * ```
 */
export function pow(a: Tensor, p: number): Tensor {
  if (typeof p !== "number") {
    throw new TypeError(`pow: the exponent must be a number, got ${String(p)}`);
  }
  return apply(elementwise.pow, [a], p);
}

/** The slope of |a|: +1 where a >= 0 (zero included, as JAX), else -1; a constant. */
function absSlope(a: Tensor): Value {
  const v = valueOf(a);
  if (typeof v === "number") return v >= 0 ? 1 : -1;
  const out = alloc(v.rows, v.cols);
  k.absSlopeInto(v.data, out.data);
  return out;
}

/** a's share of max(a, b)'s slope: 1 where a > b, 0.5 at ties, else 0; a constant. */
function maxWeight(a: Tensor, b: Tensor): Value {
  return constant("maximum", k.maxWeightInto, (x, y) => x > y ? 1 : x === y ? 0.5 : 0, a, b);
}

const scalarOperand = (x: number): k.Operand => ({ data: new Float64Array([x]), rows: 1, cols: 1 });

function whereValues(cond: Value, a: Value, b: Value): Value {
  if (typeof cond === "number" && typeof a === "number" && typeof b === "number") {
    return cond !== 0 ? a : b;
  }
  const shape = broadcastShapes(
    "where",
    broadcastShapes("where", shapeOf(cond), shapeOf(a)),
    shapeOf(b),
  )!;
  const out = alloc(shape[0], shape[1]);
  const operand = (x: Value) => typeof x === "number" ? scalarOperand(x) : x;
  k.whereInto(operand(cond), operand(a), operand(b), out.data, shape[0], shape[1]);
  return out;
}

/**
 * Element-wise square root (NaN below zero; its derivative is infinite at zero).
 *
 * @example
 * ```ts
 * import { Matrix, sqrt } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((sqrt(Matrix.from([[4, 9]])) as Matrix).toArray(), [[2, 3]]);
 * ```
 */
export function sqrt(a: Tensor): Tensor {
  return apply(elementwise.sqrt, [a], undefined);
}

/**
 * Element-wise absolute value. Its derivative at 0 is +1, as in JAX (`abs` differentiates as
 * `x >= 0 ? 1 : -1`), so a gradient is never NaN.
 *
 * @example
 * ```ts
 * import { abs, grad } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(abs(-2), 2);
 * assert.equal(grad(abs)(-2), -1);
 * assert.equal(grad(abs)(0), 1);
 * ```
 */
export function abs(a: Tensor): Tensor {
  return apply(elementwise.abs, [a], undefined);
}

/**
 * Element-wise sine (radians).
 *
 * @example
 * ```ts
 * import { grad, sin } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sin(0), 0);
 * assert.equal(grad(sin)(0), 1);
 * ```
 */
export function sin(a: Tensor): Tensor {
  return apply(elementwise.sin, [a], undefined);
}

/**
 * Element-wise cosine (radians).
 *
 * @example
 * ```ts
 * import { cos } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(cos(0), 1);
 * ```
 */
export function cos(a: Tensor): Tensor {
  return apply(elementwise.cos, [a], undefined);
}

/**
 * Element-wise logistic function `1 / (1 + e^-a)`, computed without overflow for any input
 * (`sigmoid(-1000)` is 0, `sigmoid(1000)` is 1) and with full relative accuracy in the tails.
 *
 * @example
 * ```ts
 * import { grad, sigmoid } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sigmoid(0), 0.5);
 * assert.equal(grad(sigmoid)(0), 0.25);
 * ```
 */
export function sigmoid(a: Tensor): Tensor {
  return apply(elementwise.sigmoid, [a], undefined);
}

/**
 * Element-wise rectifier `max(a, 0)`. Its derivative at 0 is 0, as in JAX, so a gradient is
 * never NaN; NaN stays NaN.
 *
 * @example
 * ```ts
 * import { grad, Matrix, relu } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((relu(Matrix.from([[-1, 0, 2]])) as Matrix).toArray(), [[0, 0, 2]]);
 * assert.equal(grad(relu)(0), 0);
 * assert.equal(grad(relu)(3), 1);
 * ```
 */
export function relu(a: Tensor): Tensor {
  return apply(elementwise.relu, [a], undefined);
}

/** @internal `g * (y (1 - y))`: the sigmoid derivative rule as one primitive. */
export function sigmoidGrad(y: Tensor, g: Tensor): Tensor {
  return apply(elementwise.sigmoidGrad, [y, g], undefined);
}

/** @internal `a > 0 ? g : 0`: the relu derivative rule as one primitive (constant in `a`). */
export function reluGrad(a: Tensor, g: Tensor): Tensor {
  return apply(elementwise.reluGrad, [a, g], undefined);
}

/**
 * Element-wise `ln(1 + e^a)`, computed as `max(a, 0) + log1p(e^-|a|)`: finite and accurate
 * for large |a| (`softplus(1000)` is 1000, `softplus(-1000)` is 0). Its derivative is
 * {@linkcode sigmoid}.
 *
 * @example
 * ```ts
 * import { grad, softplus } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(softplus(1000), 1000);
 * assert.ok(Math.abs((softplus(0) as number) - Math.LN2) < 1e-15);
 * assert.equal(grad(softplus)(0), 0.5);
 * ```
 */
export function softplus(a: Tensor): Tensor {
  return apply(elementwise.softplus, [a], undefined);
}

/**
 * Element-wise `max(a, b)`, broadcasting as {@linkcode add}. Where `a` and `b` are equal the
 * gradient is split half and half between them, as in JAX. NaN in either gives NaN.
 *
 * @example
 * ```ts
 * import { grad, Matrix, maximum } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((maximum(Matrix.from([[1, 5]]), 3) as Matrix).toArray(), [[3, 5]]);
 * assert.equal(grad(maximum)(2, 2), 0.5);
 * ```
 */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return apply(elementwise.maximum, [a, b], undefined);
}

/**
 * Element-wise `min(a, b)`, broadcasting as {@linkcode add}; ties split the gradient half
 * and half, as {@linkcode maximum} (it is `-maximum(-a, -b)`, which is exact).
 *
 * @example
 * ```ts
 * import { Matrix, minimum } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((minimum(Matrix.from([[1, 5]]), 3) as Matrix).toArray(), [[1, 3]]);
 * ```
 */
export function minimum(a: Tensor, b: Tensor): Tensor {
  checkTensor("minimum", a, 0), checkTensor("minimum", b, 1);
  return neg(maximum(neg(a), neg(b)));
}

/**
 * Limits `a` to `[lo, hi]` element-wise: `minimum(maximum(a, lo), hi)`, so `lo` and `hi`
 * broadcast (numbers or matrices) and are differentiable too. At a bound the gradient is
 * split half and half, as JAX's `clip`. A `RangeError` if `lo > hi` anywhere or a bound is NaN.
 *
 * @example
 * ```ts
 * import { clip, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((clip(Matrix.from([[-3, 0.5, 7]]), 0, 1) as Matrix).toArray(), [[0, 0.5, 1]]);
 * ```
 */
export function clip(a: Tensor, lo: Tensor, hi: Tensor): Tensor {
  checkTensor("clip", a, 0), checkTensor("clip", lo, 1), checkTensor("clip", hi, 2);
  const l = valueOf(lo), h = valueOf(hi);
  const bad = constant("clip", k.lessInto, (x, y) => x < y ? 1 : 0, h, l);
  const anyBad = typeof bad === "number" ? bad !== 0 : bad.data.some((x) => x !== 0);
  if (anyBad || (typeof l === "number" && l !== l) || (typeof h === "number" && h !== h)) {
    throw new RangeError(
      `clip: the lower bound must not exceed the upper bound, got lo ${describeBound(l)} and ` +
        `hi ${describeBound(h)}`,
    );
  }
  if (typeof l !== "number" && l.data.some((x) => x !== x)) {
    throw new RangeError("clip: the lower bound holds NaN");
  }
  if (typeof h !== "number" && h.data.some((x) => x !== x)) {
    throw new RangeError("clip: the upper bound holds NaN");
  }
  return minimum(maximum(a, lo), hi);
}

const describeBound = (v: Value) =>
  typeof v === "number" ? String(v) : `(a ${formatShape(shapeOf(v))} matrix)`;

/**
 * Picks `a` where `cond` is non-zero and `b` elsewhere, element-wise, with `cond`, `a` and
 * `b` broadcast together. `cond` is a constant (e.g. from {@linkcode greater}): the gradient
 * flows to `a` where it is picked and to `b` elsewhere, and never through `cond`. Unlike
 * `cond * a + (1 - cond) * b`, an infinite or NaN value that is not picked stays out of the
 * result (as in JAX, the branch not picked still gets a zero cotangent, which times an
 * infinite slope of its own is NaN: guard the input of such a branch too).
 *
 * @example
 * ```ts
 * import { greater, Matrix, where } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const x = Matrix.from([[-2, 3]]);
 * assert.deepEqual((where(greater(x, 0), x, 0) as Matrix).toArray(), [[0, 3]]);
 * ```
 */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return apply(elementwise.where, [a, b], valueOf(checkTensor("where", cond, 0)));
}

/**
 * Element-wise `a > b` as 1 or 0 (a number for two numbers, else a matrix), broadcasting. Not
 * differentiated: the result is a constant even inside `grad`.
 *
 * @example
 * ```ts
 * import { greater, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((greater(Matrix.from([[1, 2, 3]]), 2) as Matrix).toArray(), [[0, 0, 1]]);
 * ```
 */
export function greater(a: Tensor, b: Tensor): Value {
  checkTensor("greater", a, 0), checkTensor("greater", b, 1);
  return constant("greater", k.greaterInto, (x, y) => x > y ? 1 : 0, a, b);
}

/**
 * Element-wise `a < b` as 1 or 0, broadcasting; not differentiated (see {@linkcode greater}).
 *
 * @example
 * ```ts
 * import { less } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(less(1, 2), 1);
 * ```
 */
export function less(a: Tensor, b: Tensor): Value {
  checkTensor("less", a, 0), checkTensor("less", b, 1);
  return constant("less", k.lessInto, (x, y) => x < y ? 1 : 0, a, b);
}

/**
 * Element-wise `a === b` as 1 or 0, broadcasting; not differentiated (see
 * {@linkcode greater}). NaN equals nothing.
 *
 * @example
 * ```ts
 * import { equal, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((equal(Matrix.from([[1, 2]]), 2) as Matrix).toArray(), [[0, 1]]);
 * ```
 */
export function equal(a: Tensor, b: Tensor): Value {
  checkTensor("equal", a, 0), checkTensor("equal", b, 1);
  return constant("equal", k.equalInto, (x, y) => x === y ? 1 : 0, a, b);
}
