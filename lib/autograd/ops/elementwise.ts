// The element-wise family: arithmetic with numpy broadcasting and the unary functions, each
// primitive's forward kernel beside its VJP and JVP, then the public ops.

import { alloc } from "../../_arena.ts";
import * as k from "../../_kernels.ts";
import { apply, type Primitive, shapeOf, type Tensor, type Value } from "../tracer.ts";
import { binary, unary } from "./_helpers.ts";
import { broadcastTo, unbroadcast } from "./reductions.ts";

const addValues = binary("add", k.addInto, (x, y) => x + y);
const subValues = binary("sub", k.subInto, (x, y) => x - y);
const mulValues = binary("mul", k.mulInto, (x, y) => x * y);
const divValues = binary("div", k.divInto, (x, y) => x / y);
const tanhGradValues = binary("tanhGrad", k.tanhGradInto, (y, g) => g * (1 - y * y));

const unaryForward = {
  neg: unary((x) => -x, k.negInto),
  exp: unary(Math.exp, k.expInto),
  log: unary(Math.log, k.logInto),
  tanh: unary(Math.tanh, k.tanhInto),
  square: unary((x) => x * x, k.squareInto),
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
