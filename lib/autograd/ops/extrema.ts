// Reductions built on the element-wise ops: max (a primitive) and the composites min,
// logsumexp, softmax and logSoftmax, then argmax and argmin (not differentiated). They live
// apart from ops/reductions.ts because their rules need the element-wise ops, which import
// that file.

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
import { add, div, exp, log, mul, neg, sub } from "./elementwise.ts";
import { broadcastTo, checkAxis, type ReduceOptions, sum } from "./reductions.ts";

type Axis = 0 | 1 | undefined;

/** The extrema family's primitives. */
export const extrema = {
  // Tied maxima share the gradient equally, as in HIPS autograd and JAX.
  max: {
    name: "max",
    forward: ([a], axis) => maxValue(a, axis),
    vjp: [(g, out, [a], axis) => mul(broadcastTo(g, shapeOf(a)), maxSlope(a, out, axis))],
    jvp: ([t], out, [a], axis) => sum(mul(t!, maxSlope(a, out, axis)), { axis }),
    label: (axis) => axis === undefined ? "" : ` axis=${axis}`,
  } as Primitive<Axis>,
} satisfies Record<string, Primitive<never>>;

/** A `RangeError` for a reduction with nothing to reduce along `axis`. */
function checkNotEmpty(op: string, shape: [number, number], axis: Axis): void {
  const n = axis === undefined ? shape[0] * shape[1] : shape[axis === 0 ? 0 : 1];
  if (n === 0) {
    const along = axis === undefined ? "" : ` along axis ${axis}`;
    throw new RangeError(`${op}: a ${formatShape(shape)} matrix has no elements${along}`);
  }
}

function maxValue(a: Value, axis: Axis): Value {
  if (typeof a === "number") return a;
  checkNotEmpty("max", [a.rows, a.cols], axis);
  if (axis === undefined) return k.maxAll(a.data);
  const out = axis === 0 ? alloc(1, a.cols) : alloc(a.rows, 1);
  (axis === 0 ? k.maxRows : k.maxCols)(a.data, a.rows, a.cols, out.data);
  return out;
}

/** The slope of max: 1 / (number of ties) at the maxima, 0 elsewhere; a constant. */
function maxSlope(a: Tensor, out: Tensor, axis: Axis): Value {
  const x = valueOf(a), m = valueOf(out);
  if (typeof x === "number") return 1;
  const slope = alloc(x.rows, x.cols);
  const md = typeof m === "number" ? new Float64Array([m]) : m.data;
  k.maxSlopeInto(x.data, x.rows, x.cols, md, axis, slope.data);
  return slope;
}

/**
 * The largest element (a number), or the largest along an axis (keeping two dimensions), as
 * {@linkcode sum}. Tied maxima share the gradient equally, as in HIPS autograd and JAX. NaN
 * if any element reduced is NaN; a `RangeError` if there is nothing to reduce.
 *
 * @example
 * ```ts
 * import { grad, Matrix, max } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = Matrix.from([[1, 5], [3, 3]]);
 * assert.equal(max(m), 5);
 * assert.deepEqual((max(m, { axis: 1 }) as Matrix).toArray(), [[5], [3]]);
 * assert.deepEqual((grad((x) => max(x))(Matrix.from([[2, 2]])) as Matrix).toArray(), [[0.5, 0.5]]);
 * ```
 */
export function max(a: Tensor, options: ReduceOptions = {}): Tensor {
  return apply(extrema.max, [a], checkAxis("max", options));
}

/**
 * The smallest element, or the smallest along an axis, as {@linkcode max} (it is
 * `-max(-a)`, which is exact); tied minima share the gradient equally.
 *
 * @example
 * ```ts
 * import { Matrix, min } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = Matrix.from([[1, 5], [3, 2]]);
 * assert.equal(min(m), 1);
 * assert.deepEqual((min(m, { axis: 0 }) as Matrix).toArray(), [[1, 2]]);
 * ```
 */
export function min(a: Tensor, options: ReduceOptions = {}): Tensor {
  checkAxis("min", options);
  return neg(max(neg(checkTensor("min", a)), options));
}

/**
 * The largest element of a plain value along `axis`, with the infinite or NaN maxima replaced
 * by 0: the shift that keeps `exp` in range in logsumexp, and a constant (its derivative
 * cancels, so it is not traced).
 */
function shift(a: Tensor, op: string, axis: Axis): Value {
  const v = valueOf(a);
  if (typeof v === "number") return Number.isFinite(v) ? v : 0;
  checkNotEmpty(op, [v.rows, v.cols], axis);
  const m = maxValue(v, axis);
  if (typeof m === "number") return Number.isFinite(m) ? m : 0;
  for (let i = 0; i < m.data.length; i++) if (!Number.isFinite(m.data[i])) m.data[i] = 0;
  return m;
}

/**
 * `log(sum(exp(a)))` over all elements, or along an axis (keeping two dimensions), computed
 * as `m + log(sum(exp(a - m)))` with `m` the maximum, so that it is finite for inputs like
 * 1000 or -1000. Its gradient is {@linkcode softmax}.
 *
 * @example
 * ```ts
 * import { logsumexp, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(logsumexp(Matrix.from([[1000, 1000]])), 1000 + Math.LN2);
 * ```
 */
export function logsumexp(a: Tensor, options: ReduceOptions = {}): Tensor {
  const axis = checkAxis("logsumexp", options);
  const m = shift(checkTensor("logsumexp", a), "logsumexp", axis);
  return add(m, log(sum(exp(sub(a, m)), { axis })));
}

/** Options for {@linkcode softmax} and {@linkcode logSoftmax}. */
export interface SoftmaxOptions {
  /**
   * The axis that is normalised: `1` (the default) makes each row sum to 1, for a matrix of
   * samples as rows and classes as columns; `0` makes each column sum to 1.
   */
  axis?: 0 | 1;
}

function softmaxAxis(op: string, options: SoftmaxOptions): 0 | 1 {
  return checkAxis(op, options) ?? 1;
}

/**
 * `exp(a) / sum(exp(a))` along each row (the default, axis 1: rows are samples and columns
 * classes) or each column (axis 0), stable for large inputs. A number's softmax is 1.
 *
 * @example
 * ```ts
 * import { Matrix, softmax } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const p = softmax(Matrix.from([[0, 0], [1000, 1000]])) as Matrix;
 * assert.deepEqual(p.toArray(), [[0.5, 0.5], [0.5, 0.5]]);
 * ```
 */
export function softmax(a: Tensor, options: SoftmaxOptions = {}): Tensor {
  const axis = softmaxAxis("softmax", options);
  if (shapeOf(checkTensor("softmax", a)) === undefined) return add(sub(a, a), 1);
  const e = exp(sub(a, shift(a, "softmax", axis)));
  return div(e, sum(e, { axis }));
}

/**
 * `a - logsumexp(a)` along each row (the default, axis 1: rows are samples) or each column
 * (axis 0): the log of {@linkcode softmax}, finite where softmax would underflow to 0.
 *
 * @example
 * ```ts
 * import { logSoftmax, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const l = logSoftmax(Matrix.from([[0, -1000]])) as Matrix;
 * assert.deepEqual(l.toArray(), [[0, -1000]]);
 * ```
 */
export function logSoftmax(a: Tensor, options: SoftmaxOptions = {}): Tensor {
  const axis = softmaxAxis("logSoftmax", options);
  if (shapeOf(checkTensor("logSoftmax", a)) === undefined) return sub(a, a);
  // (a - m) - log(sum(exp(a - m))): subtracting logsumexp itself would round m + log(sum)
  // first, an error of half an ulp of m (1e-13 for m = 1000).
  const shifted = sub(a, shift(a, "logSoftmax", axis));
  return sub(shifted, log(sum(exp(shifted), { axis })));
}

function argExtreme(op: string, a: Tensor, options: ReduceOptions, sign: 1 | -1): Value {
  const axis = checkAxis(op, options);
  const v = valueOf(checkTensor(op, a));
  if (typeof v === "number") return 0;
  checkNotEmpty(op, [v.rows, v.cols], axis);
  if (axis === undefined) {
    const out = new Float64Array(1);
    k.argmaxInto(v.data, v.rows, v.cols, axis, sign, out);
    return out[0];
  }
  const out = axis === 0 ? alloc(1, v.cols) : alloc(v.rows, 1);
  k.argmaxInto(v.data, v.rows, v.cols, axis, sign, out.data);
  return out;
}

/**
 * The index of the largest element: along axis 1 the column of each row's maximum (a rows×1
 * matrix), along axis 0 the row of each column's (1×cols), else the row-major position in
 * the whole matrix (a number; 0 for a number). The first one on ties, and the first NaN if
 * any (as numpy). Not differentiated: the result is a constant even inside `grad`.
 *
 * @example
 * ```ts
 * import { argmax, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const scores = Matrix.from([[0.1, 0.9], [0.8, 0.2]]);
 * assert.deepEqual((argmax(scores, { axis: 1 }) as Matrix).toArray(), [[1], [0]]);
 * assert.equal(argmax(scores), 1);
 * ```
 */
export function argmax(a: Tensor, options: ReduceOptions = {}): Value {
  return argExtreme("argmax", a, options, 1);
}

/**
 * The index of the smallest element, as {@linkcode argmax}.
 *
 * @example
 * ```ts
 * import { argmin, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((argmin(Matrix.from([[3, 1, 2]]), { axis: 1 }) as Matrix).toArray(), [[1]]);
 * ```
 */
export function argmin(a: Tensor, options: ReduceOptions = {}): Value {
  return argExtreme("argmin", a, options, -1);
}
