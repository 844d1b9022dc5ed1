// The linear-algebra family on square matrices: solve, triangular solve, Cholesky, inverse,
// determinant and log-determinant, each primitive's forward beside its VJP and JVP, then the
// public ops. The rules are the standard matrix-calculus ones (Giles 2008, "An extended
// collection of matrix derivative results"; Murray 2016 for Cholesky), written with public
// ops (solve, matmul, transpose, …) so they differentiate again. Raw loops: lib/_linalg_kernels.ts.

import { alloc } from "../../_arena.ts";
import * as k from "../../_linalg_kernels.ts";
import { Matrix } from "../../matrix.ts";
import {
  apply,
  checkTensor,
  formatShape,
  type Primitive,
  shapeOf,
  type Tensor,
} from "../tracer.ts";
import { add, mul, neg, sub } from "./elementwise.ts";
import { matmul, matmulT, transpose } from "./linear.ts";
import { broadcastTo, sum } from "./reductions.ts";

/** Which triangle of `T` a triangular solve reads, and whether it solves with `Tᵀ`. */
interface TriangularParams {
  lower: boolean;
  trans: boolean;
}

/** The linear-algebra family's primitives. */
export const linalg = {
  // X = op(A)⁻¹·B, op(A) = Aᵀ when trans. dX = op(A)⁻¹(dB − op(dA)·X), so
  // B̄ = op(A)⁻ᵀ·Ḡ and Ā = −B̄·Xᵀ (or its transpose, −X·B̄ᵀ, when trans).
  solve: {
    name: "solve",
    forward: ([a, b], trans) => solveValues(a as Matrix, b as Matrix, trans),
    vjp: [
      (g, x, [a], trans) => {
        const bBar = solveT(a, g, !trans);
        return neg(trans ? matmulT(x, bBar, false, true) : matmulT(bBar, x, false, true));
      },
      (g, _, [a], trans) => solveT(a, g, !trans),
    ],
    jvp: ([ta, tb], x, [a], trans) => {
      const da = ta && matmulT(ta, x, trans, false);
      return solveT(a, da === undefined ? tb! : tb === undefined ? neg(da) : sub(tb, da), trans);
    },
    label: (trans) => trans ? " Aᵀ" : "",
  } as Primitive<boolean>,
  // X = op(T)⁻¹·B reading one triangle of T: the solve rules, with T̄ and Ṫ masked to it.
  triangularSolve: {
    name: "triangularSolve",
    forward: ([t, b], p) => triangularValues(t as Matrix, b as Matrix, p),
    vjp: [
      (g, x, [t], { lower, trans }) => {
        const bBar = triangularSolveT(t, g, { lower, trans: !trans });
        const tBar = trans ? matmulT(x, bBar, false, true) : matmulT(bBar, x, false, true);
        return neg(mul(tBar, triangleMask(shapeOf(t)![0], lower)));
      },
      (g, _, [t], { lower, trans }) => triangularSolveT(t, g, { lower, trans: !trans }),
    ],
    jvp: ([tt, tb], x, [t], p) => {
      const dt = tt && matmulT(mul(tt, triangleMask(shapeOf(t)![0], p.lower)), x, p.trans, false);
      const rhs = dt === undefined ? tb! : tb === undefined ? neg(dt) : sub(tb, dt);
      return triangularSolveT(t, rhs, p);
    },
    label: ({ lower, trans }) => ` ${lower ? "lower" : "upper"}${trans ? " Tᵀ" : ""}`,
  } as Primitive<TriangularParams>,
  // L·Lᵀ = sym(A) = (A + Aᵀ)/2. With Φ(X) = the lower triangle of X, diagonal halved:
  // L̇ = L·Φ(L⁻¹·sym(Ȧ)·L⁻ᵀ) and Ā = sym(L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹) (Murray 2016).
  cholesky: {
    name: "cholesky",
    forward: ([a]) => choleskyValue(a as Matrix),
    vjp: [(g, l) => {
      const n = shapeOf(l)![0];
      const phi = mul(matmulT(l, g, true, false), phiMask(n));
      const s = rightSolveLower(l, triangularSolveT(l, phi, { lower: true, trans: true }), false);
      return mul(0.5, add(s, transpose(s)));
    }],
    jvp: ([ta], l) => {
      const n = shapeOf(l)![0];
      const sym = mul(0.5, add(ta!, transpose(ta!)));
      const p = rightSolveLower(l, triangularSolveT(l, sym, { lower: true, trans: false }), true);
      return matmul(l, mul(p, phiMask(n)));
    },
  },
  // Y = A⁻¹: dY = −Y·dA·Y, so Ā = −Yᵀ·Ḡ·Yᵀ.
  inv: {
    name: "inv",
    forward: ([a]) => invValue(a as Matrix),
    vjp: [(g, y) => neg(matmulT(matmulT(y, g, true, false), y, false, true))],
    jvp: ([ta], y) => neg(matmul(matmul(y, ta!), y)),
  },
  // d = det A: dd = d·tr(A⁻¹·dA), so Ā = ḡ·d·A⁻ᵀ (A must be invertible for the derivative).
  det: {
    name: "det",
    forward: ([a]) => detValue(a as Matrix),
    vjp: [(g, d, [a]) => mul(mul(g, d), transpose(inv(a)))],
    jvp: ([ta], d, [a]) => mul(d, sum(mul(transpose(inv(a)), ta!))),
  },
  // log det A (det A > 0): d(log det A) = tr(A⁻¹·dA), so Ā = ḡ·A⁻ᵀ.
  logdet: {
    name: "logdet",
    forward: ([a]) => logdetValue(a as Matrix),
    vjp: [(g, _, [a]) => mul(g, transpose(inv(a)))],
    jvp: ([ta], _, [a]) => sum(mul(transpose(inv(a)), ta!)),
  },
} satisfies Record<string, Primitive<never>>;

function solveT(a: Tensor, b: Tensor, trans: boolean): Tensor {
  return apply(linalg.solve, [a, b], trans);
}

function triangularSolveT(t: Tensor, b: Tensor, p: TriangularParams): Tensor {
  return apply(linalg.triangularSolve, [t, b], p);
}

/** `y·op(L)⁻¹` for lower `l`, as `(op(L)⁻ᵀ·yᵀ)ᵀ`. */
function rightSolveLower(l: Tensor, y: Tensor, trans: boolean): Tensor {
  return transpose(triangularSolveT(l, transpose(y), { lower: true, trans: !trans }));
}

/** A constant n×n mask: 1 on and below (or above) the diagonal, 0 elsewhere. */
function triangleMask(n: number, lower: boolean): Matrix {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) if (lower ? j <= i : j >= i) m.data[i * n + j] = 1;
  }
  return m;
}

/** Murray's Φ as a constant mask: 1 below the diagonal, ½ on it, 0 above. */
function phiMask(n: number): Matrix {
  const m = triangleMask(n, true);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 0.5;
  return m;
}

function singular(op: string, column: number, n: number): RangeError {
  return new RangeError(
    `${op}: the matrix is singular (its LU factorization has a zero pivot in column ` +
      `${column} of ${n}, counting from 0)`,
  );
}

function factor(op: string, a: Matrix): k.LU {
  const f = k.luFactor(a.data, a.rows);
  if (f.zeroPivot >= 0) throw singular(op, f.zeroPivot, a.rows);
  return f;
}

function solveValues(a: Matrix, b: Matrix, trans: boolean): Matrix {
  const out = alloc(b.rows, b.cols);
  k.luSolveInto(factor("solve", a), b.data, b.cols, trans, out.data);
  return out;
}

function triangularValues(t: Matrix, b: Matrix, { lower, trans }: TriangularParams): Matrix {
  const out = alloc(b.rows, b.cols);
  const zero = k.triangularSolveInto(t.data, t.rows, lower, trans, b.data, b.cols, out.data);
  if (zero >= 0) {
    throw new RangeError(
      `solveTriangular: the matrix is singular (diagonal element ${zero} of ${t.rows} is 0)`,
    );
  }
  return out;
}

function choleskyValue(a: Matrix): Matrix {
  const n = a.rows, out = alloc(n, n), pivot = new Float64Array(1);
  const row = k.choleskyInto(a.data, n, out.data, pivot);
  if (row >= 0) {
    throw new RangeError(
      `cholesky: the matrix is not positive definite (the pivot of row ${row} of ${n}, ` +
        `counting from 0, is ${pivot[0]}, not > 0)`,
    );
  }
  return out;
}

function invValue(a: Matrix): Matrix {
  const n = a.rows, out = alloc(n, n);
  k.luSolveInto(factor("inv", a), Matrix.eye(n).data, n, false, out.data);
  return out;
}

function detValue(a: Matrix): number {
  const { n, lu, sign, zeroPivot } = k.luFactor(a.data, a.rows);
  if (zeroPivot >= 0) return 0;
  let d = sign;
  for (let i = 0; i < n; i++) d *= lu[i * n + i];
  return d;
}

function logdetValue(a: Matrix): number {
  const { n, lu, sign, zeroPivot } = k.luFactor(a.data, a.rows);
  if (zeroPivot >= 0) {
    throw new RangeError(
      "logdet: the determinant is 0 (the matrix is singular); logdet needs a positive determinant",
    );
  }
  let s = sign, l = 0;
  for (let i = 0; i < n; i++) {
    const u = lu[i * n + i];
    if (u < 0) s = -s;
    l += Math.log(Math.abs(u));
  }
  if (s < 0) {
    throw new RangeError(
      `logdet: the determinant is negative (-exp(${l})); logdet needs a positive ` +
        "determinant (for log|det A| take the log of the absolute value of det(A))",
    );
  }
  return l;
}

/** `a` as a square matrix (a number acts as 1x1, through broadcastTo), or a `TypeError`. */
function square(op: string, a: Tensor, i = 0, what = "a square matrix"): [Tensor, number] {
  const shape = shapeOf(checkTensor(op, a, i));
  if (shape === undefined) return [broadcastTo(a, [1, 1]), 1];
  if (shape[0] !== shape[1]) {
    throw new TypeError(`${op}: expected ${what}, got ${formatShape(shape)}`);
  }
  return [a, shape[0]];
}

/** `b` as a matrix with `n` rows (a number acts as 1x1), or a `TypeError` naming both shapes. */
function rightSide(op: string, b: Tensor, n: number): Tensor {
  const shape = shapeOf(checkTensor(op, b, 1));
  const m = shape === undefined ? broadcastTo(b, [1, 1]) : b;
  const rows = shape?.[0] ?? 1;
  if (rows !== n) {
    throw new TypeError(
      `${op}: A is ${n}x${n} but B is ${formatShape(shape ?? [1, 1])}; B needs ${n} rows`,
    );
  }
  return m;
}

/**
 * The solution `X` of `A·X = B` for a square, invertible `A` (by LU with partial pivoting),
 * differentiable in `A` and `B`. Numbers act as 1x1.
 *
 * @throws {TypeError} If `A` is not square or `B` has not as many rows as `A`.
 * @throws {RangeError} If `A` is singular (a zero pivot).
 *
 * @example
 * ```ts
 * import { Matrix, solve } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const x = solve(Matrix.from([[2, 0], [1, 1]]), Matrix.from([[4], [3]])) as Matrix;
 * assert.deepEqual(x.toArray(), [[2], [1]]);
 * ```
 */
export function solve(a: Tensor, b: Tensor): Tensor {
  const [sa, n] = square("solve", a);
  return solveT(sa, rightSide("solve", b, n), false);
}

/** Options for {@linkcode solveTriangular}. */
export interface SolveTriangularOptions {
  /** Read the lower triangle of `A` (the default) or, when `false`, the upper one. */
  lower?: boolean;
  /** Solve `Aᵀ·X = B` instead of `A·X = B` (default `false`). */
  transpose?: boolean;
}

/**
 * The solution `X` of `A·X = B` (or `Aᵀ·X = B`) reading only the lower (or upper) triangle
 * of the square `A`, by substitution: the other triangle is ignored, and so gets no gradient.
 *
 * @throws {TypeError} If `A` is not square or `B` has not as many rows as `A`.
 * @throws {RangeError} If a diagonal element of `A` is 0.
 *
 * @example
 * ```ts
 * import { cholesky, Matrix, solveTriangular } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const l = cholesky(Matrix.from([[4, 2], [2, 5]])); // [[2, 0], [1, 2]]
 * const y = solveTriangular(l, Matrix.from([[2], [5]])) as Matrix;
 * assert.deepEqual(y.toArray(), [[1], [2]]);
 * ```
 */
export function solveTriangular(
  a: Tensor,
  b: Tensor,
  options: SolveTriangularOptions = {},
): Tensor {
  const [sa, n] = square("solveTriangular", a);
  const lower = options.lower ?? true, trans = options.transpose ?? false;
  return triangularSolveT(sa, rightSide("solveTriangular", b, n), { lower, trans });
}

/**
 * The lower-triangular Cholesky factor `L` of a symmetric positive-definite matrix, with
 * `L·Lᵀ = A`. It reads the symmetric part `(A + Aᵀ)/2`, which is `A` itself for a symmetric
 * `A`; its derivatives are those of that symmetric part (so `grad` returns a symmetric matrix).
 *
 * @throws {TypeError} If `A` is not square.
 * @throws {RangeError} If `A` is not positive definite, naming the row whose pivot fails.
 *
 * @example
 * ```ts
 * import { cholesky, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const l = cholesky(Matrix.from([[4, 2], [2, 5]])) as Matrix;
 * assert.deepEqual(l.toArray(), [[2, 0], [1, 2]]);
 * ```
 */
export function cholesky(a: Tensor): Tensor {
  return apply(linalg.cholesky, [square("cholesky", a)[0]], undefined);
}

/**
 * The inverse of a square, invertible matrix (by LU with partial pivoting). To apply an
 * inverse to a matrix, {@linkcode solve} is cheaper and more accurate.
 *
 * @throws {TypeError} If `A` is not square.
 * @throws {RangeError} If `A` is singular.
 *
 * @example
 * ```ts
 * import { inv, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((inv(Matrix.from([[2, 0], [0, 4]])) as Matrix).toArray(), [[0.5, 0], [0, 0.25]]);
 * ```
 */
export function inv(a: Tensor): Tensor {
  return apply(linalg.inv, [square("inv", a)[0]], undefined);
}

/**
 * The determinant of a square matrix (a number; 0 for a singular matrix). Its derivative
 * `det(A)·A⁻ᵀ` needs `A` invertible: differentiating at a singular `A` throws `inv`'s error.
 *
 * @throws {TypeError} If `A` is not square.
 *
 * @example
 * ```ts
 * import { det, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(det(Matrix.from([[1, 2], [3, 4]])), -2);
 * ```
 */
export function det(a: Tensor): Tensor {
  return apply(linalg.det, [square("det", a)[0]], undefined);
}

/**
 * The natural log of the determinant of a square matrix with a positive determinant (such
 * as a symmetric positive-definite one), computed from the LU factors without forming the
 * determinant, so it neither overflows nor underflows.
 *
 * @throws {TypeError} If `A` is not square.
 * @throws {RangeError} If the determinant is 0 or negative.
 *
 * @example
 * ```ts
 * import { logdet, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(logdet(Matrix.from([[2, 0], [0, 3]])), Math.log(6));
 * ```
 */
export function logdet(a: Tensor): Tensor {
  return apply(linalg.logdet, [square("logdet", a)[0]], undefined);
}
