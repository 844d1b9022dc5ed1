// Reductions and their adjoint, broadcasting: `sum` and `broadcastTo` (each one's VJP is the
// other), and `unbroadcast`, which every broadcasting op's VJP uses.

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
} from "../tracer.ts";
import type { Shape } from "./_helpers.ts";

/** The reduction family's primitives. */
export const reductions = {
  sum: {
    name: "sum",
    forward: ([a], axis) => sumValue(a, axis),
    vjp: [(g, _, [a]) => broadcastTo(g, shapeOf(a))],
    jvp: ([t], _, __, axis) => sum(t!, { axis }),
    label: (axis) => axis === undefined ? "" : ` axis=${axis}`,
  } as Primitive<0 | 1 | undefined>,
  broadcastTo: {
    name: "broadcastTo",
    forward: ([a], shape) => broadcastValue(a, shape),
    vjp: [(g, _, [a]) => unbroadcast(g, shapeOf(a))],
    jvp: ([t], _, __, shape) => broadcastTo(t!, shape),
  } as Primitive<Shape>,
} satisfies Record<string, Primitive<never>>;

/** @internal Sums `g` down to `shape`, undoing the broadcast that made the output bigger. */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  const gs = shapeOf(g);
  if (shape === undefined) return gs === undefined ? g : sum(g);
  if (gs === undefined) return broadcastTo(g, shape);
  if (shape[0] === 1 && gs[0] !== 1) g = sum(g, { axis: 0 });
  if (shape[1] === 1 && gs[1] !== 1) g = sum(g, { axis: 1 });
  return g;
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

/** Options for the reductions {@linkcode sum} and `mean`. */
export interface ReduceOptions {
  /**
   * `0` reduces down the rows (giving `1 x cols`), `1` across the columns (giving `rows x 1`);
   * omitted, the whole matrix reduces to a number.
   */
  axis?: 0 | 1;
}

/** @internal The axis of reduce options, or a `RangeError` naming the op. */
export function checkAxis(op: string, options: ReduceOptions): 0 | 1 | undefined {
  const axis = options.axis;
  if (axis !== undefined && axis !== 0 && axis !== 1) {
    throw new RangeError(`${op}: axis must be 0, 1 or omitted, got ${String(axis)}`);
  }
  return axis;
}

/**
 * Sum of all elements (a number), or along an axis (keeping two dimensions).
 *
 * @example
 * ```ts
 * import { Matrix, sum } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const m = Matrix.from([[1, 2], [3, 4]]);
 * assert.equal(sum(m), 10);
 * assert.deepEqual((sum(m, { axis: 0 }) as Matrix).toArray(), [[4, 6]]);
 * ```
 */
export function sum(a: Tensor, options: ReduceOptions = {}): Tensor {
  return apply(reductions.sum, [a], checkAxis("sum", options));
}

/**
 * Repeats `a` to `shape` along its size-1 dimensions (a number fills the whole matrix).
 *
 * @example
 * ```ts
 * import { broadcastTo, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual((broadcastTo(Matrix.from([[1], [2]]), [2, 2]) as Matrix).toArray(), [
 *   [1, 1],
 *   [2, 2],
 * ]);
 * ```
 */
export function broadcastTo(a: Tensor, shape: [number, number] | undefined): Tensor {
  const from = shapeOf(checkTensor("broadcastTo", a));
  if (shape === undefined) {
    if (from !== undefined) {
      throw new TypeError(`broadcastTo: cannot broadcast ${formatShape(from)} to a scalar`);
    }
    return a;
  }
  if (!Array.isArray(shape) || shape.length !== 2 || !isSize(shape[0]) || !isSize(shape[1])) {
    const got = Array.isArray(shape) ? `[${shape.join(", ")}]` : String(shape);
    throw new TypeError(
      `broadcastTo: the shape must be [rows, cols] or undefined (a scalar), got ${got}`,
    );
  }
  if (from !== undefined && from[0] === shape[0] && from[1] === shape[1]) return a;
  return apply(reductions.broadcastTo, [a], shape);
}

/** Whether `n` can be a number of rows or columns. */
function isSize(n: unknown): boolean {
  return Number.isInteger(n) && (n as number) >= 0;
}
