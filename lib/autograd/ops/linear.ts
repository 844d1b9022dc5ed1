// The linear family: the matrix product (with transposes folded in) and the transpose, each
// primitive's forward kernel beside its VJP and JVP, then the public ops.

import { alloc } from "../../_arena.ts";
import type { Matrix } from "../../matrix.ts";
import * as k from "../../_kernels.ts";
import { apply, formatShape, type Primitive, shapeOf, type Tensor, type Value } from "../tracer.ts";
import { add } from "./elementwise.ts";

/** Which operands of a matrix product are transposed. */
interface MatmulFlags {
  transA: boolean;
  transB: boolean;
}

/** The linear family's primitives. */
export const linear = {
  matmul: {
    name: "matmul",
    forward: ([a, b], flags) => matmulValues(a, b, flags),
    vjp: [
      (g, _, [, b], { transA, transB }) =>
        transA ? matmulT(b, g, transB, true) : matmulT(g, b, false, !transB),
      (g, _, [a], { transA, transB }) =>
        transB ? matmulT(g, a, true, transA) : matmulT(a, g, !transA, false),
    ],
    jvp: ([ta, tb], _, [a, b], { transA, transB }) => {
      const left = ta && matmulT(ta, b, transA, transB),
        right = tb && matmulT(a, tb, transA, transB);
      return left && right ? add(left, right) : (left ?? right)!;
    },
    label: ({ transA, transB }) =>
      transA || transB ? ` ${transA ? "Aᵀ" : "A"}${transB ? "Bᵀ" : "B"}` : "",
  } as Primitive<MatmulFlags>,
  transpose: {
    name: "transpose",
    forward: ([a]) => typeof a === "number" ? a : transposeMatrix(a),
    vjp: [(g) => transpose(g)],
    jvp: ([t]) => transpose(t!),
  },
} satisfies Record<string, Primitive<never>>;

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

/**
 * Matrix product `a · b`; a `TypeError` names both shapes when the inner dimensions differ.
 *
 * @example
 * ```ts
 * import { Matrix, matmul } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const c = matmul(Matrix.from([[1, 2]]), Matrix.from([[3], [4]])) as Matrix;
 * assert.deepEqual(c.toArray(), [[11]]);
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return matmulT(a, b, false, false);
}

/** @internal `op(a) · op(b)`, transposing without copying where a flag is set. */
export function matmulT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return apply(linear.matmul, [a, b], { transA, transB });
}

/**
 * The transpose of a matrix (a number is its own transpose).
 *
 * @example
 * ```ts
 * import { Matrix, transpose } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((transpose(Matrix.from([[1, 2]])) as Matrix).toArray(), [[1], [2]]);
 * ```
 */
export function transpose(a: Tensor): Tensor {
  return apply(linear.transpose, [a], undefined);
}
