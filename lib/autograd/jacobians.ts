// Transforms built on the reverse engine and `jvp`: `jacobian` (reverse mode), `jacfwd`
// (forward mode), `hessian`, `hvp` (forward-over-reverse) and `elementwiseGrad`.

import { Matrix } from "../matrix.ts";
import {
  checkArgnum,
  flatten,
  type Grad,
  jvp,
  makeVjp,
  ofArgument,
  unitCotangent,
} from "./transforms.ts";
import {
  describe,
  formatShape,
  sameShape,
  shapeOf,
  type Tensor,
  Traced,
  type Value,
} from "./tracer.ts";

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => unknown;

function outsideTransforms(where: string, what: string): TypeError {
  return new TypeError(
    `${where}: ${what} is traced by an enclosing transform; ${where} returns plain values and ` +
      "cannot be nested inside grad, jvp or vjp (use hessian or hvp for second derivatives)",
  );
}

/** The differentiated argument, which must be a plain number or matrix. */
function argumentValue(where: string, args: unknown[], argnum: number): Value {
  checkArgnum(where, argnum, args);
  const x = args[argnum];
  if (typeof x === "number" || x instanceof Matrix) return x;
  if (x instanceof Traced) throw outsideTransforms(where, `argument ${argnum + 1}`);
  throw new TypeError(
    `${where}: argument ${argnum + 1} is ${describe(x)}; expected a number or a Matrix ` +
      "(ravel a tree of them into one vector with ravel())",
  );
}

/** The function's result, which must be a plain number or matrix. */
function outputValue(where: string, y: unknown): Value {
  if (typeof y === "number" || y instanceof Matrix) return y;
  if (y instanceof Traced) throw outsideTransforms(where, "the function's result");
  throw new TypeError(
    `${where}: the function returned ${describe(y)}; expected a number or a Matrix ` +
      "(ravel a tree of outputs into one vector with ravel())",
  );
}

/** The elements of a derivative computed by a transform, which must be plain. */
function dataOf(where: string, t: unknown): ArrayLike<number> {
  if (typeof t === "number") return [t];
  if (t instanceof Matrix) return t.data;
  throw outsideTransforms(where, "a derivative");
}

function size(v: Value): number {
  return typeof v === "number" ? 1 : v.data.length;
}

/** The `k`th unit element shaped like `v`. */
function unitLike(v: Value, k: number): Value {
  if (typeof v === "number") return 1;
  const e = Matrix.zeros(v.rows, v.cols);
  e.data[k] = 1;
  return e;
}

/**
 * `jacobian(f, argnum)` returns a function with `f`'s arguments that computes the Jacobian
 * of `f` with respect to argument `argnum` in reverse mode (one pullback per output
 * element). For a matrix argument of shape r×c and a result of shape p×q it is a
 * (p·q)×(r·c) matrix in row-major order: entry (i, j) is the derivative of the result's
 * i-th element by the argument's j-th, numbering both row by row. Numbers count as 1×1, and
 * a number in and a number out give a number. The result is a plain value: `jacobian` does
 * not nest inside other transforms (use {@linkcode hessian} or {@linkcode hvp}).
 *
 * @example The Jacobian of A·x is A
 * ```ts
 * import { jacobian, matmul, Matrix, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const A = Matrix.from([[1, 2], [3, 4], [5, 6]]);
 * const J = jacobian((x: Tensor) => matmul(A, x))(Matrix.from([[1], [1]])) as Matrix;
 * assert.deepEqual(J.toArray(), A.toArray());
 * ```
 */
// deno-lint-ignore no-explicit-any
export function jacobian<A extends any[]>(
  f: (...args: A) => Tensor,
  argnum = 0,
): (...args: A) => Value {
  return (...args: A) => {
    const x = argumentValue("jacobian", args, argnum);
    const [y, pullback] = makeVjp(ofArgument(f, args, argnum), [x], "jacobian");
    const out = outputValue("jacobian", y);
    if (typeof x === "number" && typeof out === "number") {
      return dataOf("jacobian", pullback(1)[0])[0];
    }
    const n = size(x), J = Matrix.zeros(size(out), n);
    for (let i = 0; i < size(out); i++) {
      J.data.set(dataOf("jacobian", pullback(unitLike(out, i))[0]), i * n);
    }
    return J;
  };
}

/**
 * `jacfwd(f, argnum)` computes the same Jacobian as {@linkcode jacobian} in forward mode: one
 * `jvp` per element of the argument, each giving a column. Cheaper than `jacobian` when the
 * argument has fewer elements than the result.
 *
 * @example Forward and reverse mode agree
 * ```ts
 * import { jacfwd, jacobian, Matrix, mul, sum, tanh, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const f = (x: Tensor) => tanh(mul(x, sum(x)));
 * const x = Matrix.from([[0.1, 0.2, 0.3]]);
 * const fwd = (jacfwd(f)(x) as Matrix).toArray(), rev = (jacobian(f)(x) as Matrix).toArray();
 * fwd.flat().forEach((v, i) => assert.ok(Math.abs(v - rev.flat()[i]) < 1e-15));
 * ```
 */
// deno-lint-ignore no-explicit-any
export function jacfwd<A extends any[]>(
  f: (...args: A) => Tensor,
  argnum = 0,
): (...args: A) => Value {
  return (...args: A) => {
    const x = argumentValue("jacfwd", args, argnum);
    const g = ofArgument(f, args, argnum);
    const forward = jvp as unknown as (f: Fn, p: unknown[], t: unknown[]) => [unknown, unknown];
    const n = size(x);
    let J: Matrix | undefined;
    for (let k = 0; k < n; k++) {
      const [y, t] = forward(g, [x], [unitLike(x, k)]);
      const out = outputValue("jacfwd", y);
      if (typeof x === "number" && typeof out === "number") return dataOf("jacfwd", t)[0];
      J ??= Matrix.zeros(size(out), n);
      const column = dataOf("jacfwd", t);
      for (let i = 0; i < column.length; i++) J.data[i * n + k] = column[i];
    }
    return J!;
  };
}

/**
 * `hessian(f, argnum)` computes the Hessian of the scalar function `f` with respect to
 * argument `argnum` (forward mode over reverse mode, as JAX's `jacfwd(jacrev(f))`): for a
 * matrix argument of shape r×c, an (r·c)×(r·c) matrix with the elements numbered row by row;
 * for a number, a number.
 *
 * @example The Hessian of xᵀAx is A + Aᵀ
 * ```ts
 * import { hessian, matmul, Matrix, mul, type Tensor, transpose } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const A = Matrix.from([[1, 2], [3, 4]]);
 * const f = (x: Tensor) => matmul(transpose(x), matmul(A, x));
 * assert.deepEqual((hessian(f)(Matrix.from([[1], [-1]])) as Matrix).toArray(), [[2, 5], [5, 8]]);
 * assert.equal(hessian((x: Tensor) => mul(x, mul(x, x)))(2), 12); // (x³)'' = 6x
 * ```
 */
// deno-lint-ignore no-explicit-any
export function hessian<A extends any[]>(
  f: (...args: A) => Tensor,
  argnum = 0,
): (...args: A) => Value {
  const jac = jacfwd(scalarGradient("hessian", f, argnum) as (...a: A) => Tensor, argnum);
  return (...args: A) => {
    argumentValue("hessian", args, argnum);
    return jac(...args);
  };
}

/** `grad(f, argnum)` with `where` in its messages, for the second-order transforms. */
function scalarGradient(where: string, f: Fn, argnum: number): Fn {
  return (...args: unknown[]) => {
    const [y, pullback] = makeVjp(ofArgument(f, args, argnum), [args[argnum]], where);
    return pullback(unitCotangent(where, y, "reduce it with sum() or mean()"))[0];
  };
}
/**
 * `hvp(f, argnum)` returns a function taking `f`'s arguments followed by a vector `v` shaped
 * like argument `argnum` (a number, a matrix or a tree of them) that computes the
 * Hessian-vector product `H·v` of the scalar `f`, shaped like `v`, forward-over-reverse
 * (`jvp` of `grad`) without forming `H`: it costs about two gradients.
 *
 * @example The Hessian of xᵀAx is A + Aᵀ, so H·v = (A + Aᵀ)v
 * ```ts
 * import { hvp, matmul, Matrix, type Tensor, transpose } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const A = Matrix.from([[1, 2], [3, 4]]);
 * const f = (x: Tensor) => matmul(transpose(x), matmul(A, x));
 * const Hv = hvp(f)(Matrix.from([[1], [-1]]), Matrix.from([[1], [0]])) as Matrix;
 * assert.deepEqual(Hv.toArray(), [[2], [5]]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function hvp<A extends any[], N extends number = 0>(
  f: (...args: A) => Tensor,
  argnum: N = 0 as N,
): (...argsAndV: [...A, unknown]) => Grad<A[N]> {
  const gradient = scalarGradient("hvp", f, argnum);
  const forward = jvp as unknown as (f: Fn, p: unknown[], t: unknown[]) => [unknown, unknown];
  return (...argsAndV) => {
    if (argsAndV.length < 2) {
      throw new TypeError(
        `hvp: expected the function's arguments followed by the vector v, got ` +
          `${argsAndV.length} argument(s)`,
      );
    }
    const args = argsAndV.slice(0, -1), v = argsAndV.at(-1);
    checkArgnum("hvp", argnum, args);
    checkStructure(args[argnum], v, argnum);
    const g = ofArgument(gradient, args, argnum);
    return forward(g, [args[argnum]], [v])[1] as Grad<A[N]>;
  };
}

/**
 * `elementwiseGrad(f, argnum)` is HIPS autograd's `elementwise_grad`: the vector-Jacobian
 * product of `f` with a cotangent of ones (of the result's structure). For an element-wise
 * `f` this is the derivative at every element at once, shaped like the argument.
 *
 * @example The derivative of tanh over a grid: 1 − tanh²
 * ```ts
 * import { elementwiseGrad, Matrix, tanh } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const xs = Matrix.from([[-1, 0, 1]]);
 * const d = elementwiseGrad(tanh)(xs) as Matrix;
 * assert.deepEqual(d.toArray(), [[-1, 0, 1].map((x) => 1 - Math.tanh(x) ** 2)]);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function elementwiseGrad<A extends any[], N extends number = 0>(
  f: (...args: A) => unknown,
  argnum: N = 0 as N,
): (...args: A) => Grad<A[N]> {
  return (...args: A) => {
    checkArgnum("elementwiseGrad", argnum, args);
    const [y, pullback] = makeVjp(ofArgument(f, args, argnum), [args[argnum]], "elementwiseGrad");
    const [leaves, rebuild] = flatten(y, "elementwiseGrad", "the result");
    const ones = leaves.map((leaf) => {
      const s = shapeOf(leaf);
      return s === undefined ? 1 : Matrix.full(s[0], s[1], 1);
    });
    return pullback(rebuild(ones))[0] as Grad<A[N]>;
  };
}

/** A TypeError unless `v` has the structure and shapes of argument `argnum`, `x`. */
function checkStructure(x: unknown, v: unknown, argnum: number): void {
  const [xs, , paths] = flatten(x, "hvp", `argument ${argnum + 1}`);
  const [vs] = flatten(v, "hvp", "v");
  const i = xs.findIndex((leaf, i) => i >= vs.length || !sameShape(leaf, vs[i]));
  if (i < 0 && xs.length === vs.length) return;
  const at = i < 0
    ? ""
    : ` (${paths[i]} is ${formatShape(shapeOf(xs[i]))}${
      i < vs.length ? `, v's leaf ${formatShape(shapeOf(vs[i]))}` : ""
    })`;
  throw new TypeError(
    `hvp: v must have the structure and shapes of argument ${argnum + 1}${at}`,
  );
}
