// The primitive table (forward kernel, VJP and JVP side by side) and the public ops built on it.

import { Matrix } from "../matrix.ts";
import * as k from "../_kernels.ts";
import { apply, formatShape, type Primitive, shapeOf, type Tensor, type Value } from "./tracer.ts";

type Shape = [number, number] | undefined;

/** The numpy broadcast of two shapes, or a `TypeError` naming the op and both shapes. */
function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const dim = (x: number, y: number) => x === y || y === 1 ? x : x === 1 ? y : -1;
  const rows = dim(a[0], b[0]), cols = dim(a[1], b[1]);
  if (rows < 0 || cols < 0) {
    throw new TypeError(
      `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together`,
    );
  }
  return [rows, cols];
}

// Scratch memory. A fresh Float64Array costs ~0.5 µs plus zeroing cold memory (a quarter of
// the seed step, measured), and a training step's intermediates all die together. Inside
// withScratch, op results are views on one memory (lib/_wasm.ts, where the WASM kernels use
// them in place) that the next outermost withScratch call reuses, sized to the largest step
// seen: after the first step a loop allocates no matrix memory. Every kernel writes its
// whole output, so the reused memory needs no zeroing.
let scratchDepth = 0;

/** A matrix for an op's result, every element of which the caller will write. */
function alloc(rows: number, cols: number): Matrix {
  const data = scratchDepth > 0 ? k.scratchAlloc(rows * cols) : undefined;
  return new Matrix(rows, cols, data);
}

/**
 * @internal Runs `f` with op results placed in reused scratch memory, for hot loops such as a
 * training step: every matrix the ops create during `f` (its result and gradients included)
 * is valid only until the next outermost `withScratch` call begins, so copy out what you keep.
 * Nested calls share the outer call's memory.
 *
 * @example
 * ```ts
 * import { withScratch } from "./ops.ts";
 * import { add, Matrix } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const x = Matrix.from([[1, 2]]);
 * const kept = withScratch(() => (add(x, 1) as Matrix).toArray()); // copied out
 * withScratch(() => add(x, 10)); // reuses the memory of the first call's result
 * assert.deepEqual(kept, [[2, 3]]);
 * ```
 */
export function withScratch<T>(f: () => T): T {
  if (scratchDepth === 0) k.scratchBegin();
  scratchDepth++;
  try {
    return f();
  } finally {
    scratchDepth--;
  }
}

const scalarA = new Float64Array(1), scalarB = new Float64Array(1);

function binary(op: string, kernel: k.BinaryKernel, f: (x: number, y: number) => number) {
  return (a: Value, b: Value): Value => {
    if (typeof a === "number" && typeof b === "number") return f(a, b);
    const shape = broadcastShapes(op, shapeOf(a), shapeOf(b))!;
    const out = alloc(shape[0], shape[1]);
    let ad: Float64Array = scalarA, ar = 1, ac = 1, bd: Float64Array = scalarB, br = 1, bc = 1;
    if (typeof a === "number") scalarA[0] = a;
    else (ad = a.data, ar = a.rows, ac = a.cols);
    if (typeof b === "number") scalarB[0] = b;
    else (bd = b.data, br = b.rows, bc = b.cols);
    kernel(ad, ar, ac, bd, br, bc, out.data, shape[0], shape[1]);
    return out;
  };
}

function unary(f: (x: number) => number, kernel: (a: Float64Array, out: Float64Array) => void) {
  return (a: Value): Value => {
    if (typeof a === "number") return f(a);
    const out = alloc(a.rows, a.cols);
    kernel(a.data, out.data);
    return out;
  };
}

const addValues = binary("add", k.addInto, (x, y) => x + y);
const subValues = binary("sub", k.subInto, (x, y) => x - y);
const mulValues = binary("mul", k.mulInto, (x, y) => x * y);
const divValues = binary("div", k.divInto, (x, y) => x / y);
const tanhGradValues = binary("tanhGrad", k.tanhGradInto, (y, g) => g * (1 - y * y));

/** Sums `g` down to `shape`, undoing the broadcast that made the output bigger. */
function unbroadcast(g: Tensor, shape: Shape): Tensor {
  const gs = shapeOf(g);
  if (shape === undefined) return gs === undefined ? g : sum(g);
  if (gs === undefined) return broadcastTo(g, shape);
  if (shape[0] === 1 && gs[0] !== 1) g = sum(g, { axis: 0 });
  if (shape[1] === 1 && gs[1] !== 1) g = sum(g, { axis: 1 });
  return g;
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

const primitives = {
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
    forward: ([a]) => unaryKernels.neg(a),
    vjp: [(g) => neg(g)],
    jvp: ([t]) => neg(t!),
  },
  exp: {
    name: "exp",
    forward: ([a]) => unaryKernels.exp(a),
    vjp: [(g, out) => mul(g, out)],
    jvp: ([t], out) => mul(t!, out),
  },
  log: {
    name: "log",
    forward: ([a]) => unaryKernels.log(a),
    vjp: [(g, _, [a]) => div(g, a)],
    jvp: ([t], _, [a]) => div(t!, a),
  },
  tanh: {
    name: "tanh",
    forward: ([a]) => unaryKernels.tanh(a),
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
    forward: ([a]) => unaryKernels.square(a),
    vjp: [(g, _, [a]) => mul(mul(g, a), 2)],
    jvp: ([t], _, [a]) => mul(mul(t!, a), 2),
  },
  pow: {
    name: "pow",
    forward: ([a], p) => typeof a === "number" ? a ** p : powMatrix(a, p),
    vjp: [(g, _, [a], p) => mul(g, powSlope(a, p))],
    jvp: ([t], _, [a], p) => mul(t!, powSlope(a, p)),
  } as Primitive<number>,
  matmul: {
    name: "matmul",
    forward: ([a, b], flags) => matmulValues(a, b, flags),
    vjp: [
      (g, _, [, b], { transA, transB }) =>
        transA ? dot(b, g, transB, true) : dot(g, b, false, !transB),
      (g, _, [a], { transA, transB }) =>
        transB ? dot(g, a, true, transA) : dot(a, g, !transA, false),
    ],
    jvp: ([ta, tb], _, [a, b], { transA, transB }) => {
      const left = ta && dot(ta, b, transA, transB), right = tb && dot(a, tb, transA, transB);
      return left && right ? add(left, right) : (left ?? right)!;
    },
  } as Primitive<MatmulFlags>,
  transpose: {
    name: "transpose",
    forward: ([a]) => typeof a === "number" ? a : transposeMatrix(a),
    vjp: [(g) => transpose(g)],
    jvp: ([t]) => transpose(t!),
  },
  sum: {
    name: "sum",
    forward: ([a], axis) => sumValue(a, axis),
    vjp: [(g, _, [a]) => broadcastTo(g, shapeOf(a))],
    jvp: ([t], _, __, axis) => sum(t!, { axis }),
  } as Primitive<0 | 1 | undefined>,
  broadcastTo: {
    name: "broadcastTo",
    forward: ([a], shape) => broadcastValue(a, shape),
    vjp: [(g, _, [a]) => unbroadcast(g, shapeOf(a))],
    jvp: ([t], _, __, shape) => broadcastTo(t!, shape),
  } as Primitive<Shape>,
} satisfies Record<string, Primitive<never>>;

/** The names of the primitives; every one has a forward kernel, VJP rules and a JVP rule. */
export type PrimitiveName = keyof typeof primitives;

/** @internal The primitive table, for the tests and for graph rendering. */
export const PRIMITIVES: Readonly<Record<PrimitiveName, Primitive<never>>> = primitives;

const unaryKernels = {
  neg: unary((x) => -x, k.negInto),
  exp: unary(Math.exp, k.expInto),
  log: unary(Math.log, k.logInto),
  tanh: unary(Math.tanh, k.tanhInto),
  square: unary((x) => x * x, k.squareInto),
};

function powMatrix(a: Matrix, p: number): Matrix {
  const out = alloc(a.rows, a.cols);
  k.powInto(a.data, p, out.data);
  return out;
}

interface MatmulFlags {
  transA: boolean;
  transB: boolean;
}

function matmulValues(a: Value, b: Value, { transA, transB }: MatmulFlags): Matrix {
  if (typeof a === "number" || typeof b === "number") {
    throw new TypeError(
      `matmul: expected two matrices, got ${formatShape(shapeOf(a))} and ${
        formatShape(shapeOf(b))
      }; ` +
        "use mul() to scale by a number",
    );
  }
  const [m, ka] = transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [kb, n] = transB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (ka !== kb) {
    const name = (t: boolean) => t ? "transposed " : "";
    throw new TypeError(
      `matmul: inner dimensions differ (${name(transA)}${formatShape([a.rows, a.cols])} and ` +
        `${name(transB)}${formatShape([b.rows, b.cols])})`,
    );
  }
  const out = alloc(m, n);
  k.gemm(a.data, b.data, out.data, m, n, ka, transA, transB);
  return out;
}

function transposeMatrix(a: Matrix): Matrix {
  const out = alloc(a.cols, a.rows);
  k.transposeInto(a.data, a.rows, a.cols, out.data);
  return out;
}

function sumValue(a: Value, axis: 0 | 1 | undefined): Value {
  if (typeof a === "number") return a;
  if (axis === undefined) return k.sumAll(a.data);
  if (axis === 0) {
    const out = alloc(1, a.cols);
    k.sumRows(a.data, a.rows, a.cols, out.data);
    return out;
  }
  const out = alloc(a.rows, 1);
  k.sumCols(a.data, a.rows, a.cols, out.data);
  return out;
}

function broadcastValue(a: Value, shape: Shape): Value {
  if (shape === undefined) return a;
  const out = alloc(shape[0], shape[1]);
  if (typeof a === "number") out.data.fill(a);
  else {
    if ((a.rows !== shape[0] && a.rows !== 1) || (a.cols !== shape[1] && a.cols !== 1)) {
      throw new TypeError(
        `broadcastTo: cannot broadcast ${formatShape([a.rows, a.cols])} to ${formatShape(shape)}`,
      );
    }
    k.broadcastInto(a.data, a.rows, a.cols, out.data, shape[0], shape[1]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Public ops. Each accepts matrices, numbers or traced values and records itself when traced.

/**
 * Element-wise `a + b`, broadcasting `(r,c)` with `(r,1)`, `(1,c)`, `(1,1)` and numbers.
 *
 * @example
 * ```ts
 * import { add, Matrix } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = add(Matrix.from([[1, 2], [3, 4]]), Matrix.from([[10], [20]])) as Matrix;
 * assert.deepEqual(m.toArray(), [[11, 12], [23, 24]]);
 * ```
 */
export function add(a: Tensor, b: Tensor): Tensor {
  return apply(primitives.add, [a, b], undefined);
}

/**
 * Element-wise `a - b`, broadcasting as {@linkcode add}.
 *
 * @example
 * ```ts
 * import { sub } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sub(5, 3), 2);
 * ```
 */
export function sub(a: Tensor, b: Tensor): Tensor {
  return apply(primitives.sub, [a, b], undefined);
}

/**
 * Element-wise `a * b`, broadcasting as {@linkcode add}.
 *
 * @example
 * ```ts
 * import { Matrix, mul } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((mul(2, Matrix.from([[1, 2]])) as Matrix).toArray(), [[2, 4]]);
 * ```
 */
export function mul(a: Tensor, b: Tensor): Tensor {
  return apply(primitives.mul, [a, b], undefined);
}

/**
 * Element-wise `a / b`, broadcasting as {@linkcode add}.
 *
 * @example
 * ```ts
 * import { div } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(div(1, 4), 0.25);
 * ```
 */
export function div(a: Tensor, b: Tensor): Tensor {
  return apply(primitives.div, [a, b], undefined);
}

/**
 * Element-wise `-a`.
 *
 * @example
 * ```ts
 * import { neg } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(neg(2), -2);
 * ```
 */
export function neg(a: Tensor): Tensor {
  return apply(primitives.neg, [a], undefined);
}

/**
 * Element-wise `e^a`.
 *
 * @example
 * ```ts
 * import { exp } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(exp(0), 1);
 * ```
 */
export function exp(a: Tensor): Tensor {
  return apply(primitives.exp, [a], undefined);
}

/**
 * Element-wise natural logarithm.
 *
 * @example
 * ```ts
 * import { log } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(log(1), 0);
 * ```
 */
export function log(a: Tensor): Tensor {
  return apply(primitives.log, [a], undefined);
}

/**
 * Element-wise hyperbolic tangent.
 *
 * @example
 * ```ts
 * import { tanh } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tanh(0), 0);
 * ```
 */
export function tanh(a: Tensor): Tensor {
  return apply(primitives.tanh, [a], undefined);
}

/** @internal `g * (1 - y²)`: the tanh derivative rule as one primitive. */
export function tanhGrad(y: Tensor, g: Tensor): Tensor {
  return apply(primitives.tanhGrad, [y, g], undefined);
}

/**
 * Element-wise `a²`.
 *
 * @example
 * ```ts
 * import { square } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(square(-3), 9);
 * ```
 */
export function square(a: Tensor): Tensor {
  return apply(primitives.square, [a], undefined);
}

/**
 * Element-wise `a ** p` for a number exponent `p`.
 *
 * @example
 * ```ts
 * import { pow } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pow(2, 3), 8);
 * ```
 */
export function pow(a: Tensor, p: number): Tensor {
  if (typeof p !== "number") {
    throw new TypeError(`pow: the exponent must be a number, got ${String(p)}`);
  }
  return apply(primitives.pow, [a], p);
}

/**
 * Matrix product `a · b`; a `TypeError` names both shapes when the inner dimensions differ.
 *
 * @example
 * ```ts
 * import { Matrix, matmul } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const c = matmul(Matrix.from([[1, 2]]), Matrix.from([[3], [4]])) as Matrix;
 * assert.deepEqual(c.toArray(), [[11]]);
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return dot(a, b, false, false);
}

/** @internal `op(a) · op(b)`, transposing without copying where a flag is set. */
export function dot(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return apply(primitives.matmul, [a, b], { transA, transB });
}

/**
 * The transpose of a matrix (a number is its own transpose).
 *
 * @example
 * ```ts
 * import { Matrix, transpose } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((transpose(Matrix.from([[1, 2]])) as Matrix).toArray(), [[1], [2]]);
 * ```
 */
export function transpose(a: Tensor): Tensor {
  return apply(primitives.transpose, [a], undefined);
}

/** Options for the reductions {@linkcode sum} and {@linkcode mean}. */
export interface ReduceOptions {
  /**
   * `0` reduces down the rows (giving `1 x cols`), `1` across the columns (giving `rows x 1`);
   * omitted, the whole matrix reduces to a number.
   */
  axis?: 0 | 1;
}

/**
 * Sum of all elements (a number), or along an axis (keeping two dimensions).
 *
 * @example
 * ```ts
 * import { Matrix, sum } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = Matrix.from([[1, 2], [3, 4]]);
 * assert.equal(sum(m), 10);
 * assert.deepEqual((sum(m, { axis: 0 }) as Matrix).toArray(), [[4, 6]]);
 * ```
 */
export function sum(a: Tensor, options: ReduceOptions = {}): Tensor {
  const axis = options.axis;
  if (axis !== undefined && axis !== 0 && axis !== 1) {
    throw new RangeError(`sum: axis must be 0, 1 or omitted, got ${String(axis)}`);
  }
  return apply(primitives.sum, [a], axis);
}

/**
 * Mean of all elements (a number), or along an axis (keeping two dimensions).
 *
 * @example
 * ```ts
 * import { Matrix, mean } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = Matrix.from([[1, 2], [3, 4]]);
 * assert.equal(mean(m), 2.5);
 * assert.deepEqual((mean(m, { axis: 1 }) as Matrix).toArray(), [[1.5], [3.5]]);
 * ```
 */
export function mean(a: Tensor, options: ReduceOptions = {}): Tensor {
  const shape = shapeOf(a);
  if (shape === undefined) return sum(a, options);
  const count = options.axis === undefined
    ? shape[0] * shape[1]
    : options.axis === 0
    ? shape[0]
    : shape[1];
  return div(sum(a, options), count);
}

/**
 * Repeats `a` to `shape` along its size-1 dimensions (a number fills the whole matrix).
 *
 * @example
 * ```ts
 * import { broadcastTo, Matrix } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((broadcastTo(Matrix.from([[1], [2]]), [2, 2]) as Matrix).toArray(), [
 *   [1, 1],
 *   [2, 2],
 * ]);
 * ```
 */
export function broadcastTo(a: Tensor, shape: [number, number] | undefined): Tensor {
  const from = shapeOf(a);
  if (shape === undefined) {
    if (from !== undefined) {
      throw new TypeError(`broadcastTo: cannot broadcast ${formatShape(from)} to a scalar`);
    }
    return a;
  }
  if (from !== undefined && from[0] === shape[0] && from[1] === shape[1]) return a;
  return apply(primitives.broadcastTo, [a], shape);
}
