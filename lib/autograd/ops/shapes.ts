// The shapes-and-selection family: reshape, slice (and its adjoint, pad), row gathers (and
// their adjoint, a scatter-add), concatenation and stopGradient, each primitive's forward
// beside its VJP and JVP, then the public ops. Every rule here is linear, written with these
// same ops, so derivatives of any order stay in the family.

import { alloc } from "../../_arena.ts";
import * as k from "../../_linalg_kernels.ts";
import type { Matrix } from "../../matrix.ts";
import {
  apply,
  checkTensor,
  formatShape,
  type Primitive,
  shapeOf,
  type Tensor,
} from "../tracer.ts";
import { broadcastTo } from "./reductions.ts";

/** A half-open block `[r0, r1) × [c0, c1)`. */
interface Range2 {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** Where `pad` puts its argument: the output shape and the argument's top-left corner. */
interface PadParams {
  rows: number;
  cols: number;
  r0: number;
  c0: number;
}

/** The rows `scatterRows` adds into, and the output's row count. */
interface ScatterParams {
  indices: Int32Array;
  rows: number;
}

/** The axis of a concatenation and each piece's extent along it. */
interface ConcatParams {
  axis: 0 | 1;
  sizes: readonly number[];
}

type ConcatRule = (g: Tensor, out: Tensor, args: Tensor[], p: ConcatParams) => Tensor;

// One VJP rule per argument; concat takes any number, so rules are made as lists grow.
const concatRules: ConcatRule[] = [];

function concatRule(i: number): ConcatRule {
  return (g, _, __, { axis, sizes }) => {
    let start = 0;
    for (let j = 0; j < i; j++) start += sizes[j];
    const [rows, cols] = shapeOf(g)!;
    return axis === 0
      ? applySlice(g, { r0: start, r1: start + sizes[i], c0: 0, c1: cols })
      : applySlice(g, { r0: 0, r1: rows, c0: start, c1: start + sizes[i] });
  };
}

/** A zero of `t`'s shape that no transform traces (a number for a number). */
function zerosLike(t: Tensor): Tensor {
  return broadcastTo(0, shapeOf(t));
}

/** The shapes family's primitives. */
export const shapes = {
  reshape: {
    name: "reshape",
    forward: ([a], [rows, cols]) => {
      const m = a as Matrix, out = alloc(rows, cols);
      out.data.set(m.data);
      return out;
    },
    vjp: [(g, _, [a]) => applyReshape(g, shapeOf(a)!)],
    jvp: ([t], _, __, shape) => applyReshape(t!, shape),
    label: ([r, c]) => ` ${r}x${c}`,
  } as Primitive<[number, number]>,
  slice: {
    name: "slice",
    forward: ([a], { r0, r1, c0, c1 }) => {
      const m = a as Matrix, out = alloc(r1 - r0, c1 - c0);
      k.copyBlock(
        { data: m.data, cols: m.cols, row: r0, col: c0 },
        { data: out.data, cols: out.cols, row: 0, col: 0 },
        out.rows,
        out.cols,
      );
      return out;
    },
    vjp: [(g, _, [a], { r0, c0 }) => {
      const [rows, cols] = shapeOf(a)!;
      return apply(shapes.pad, [g], { rows, cols, r0, c0 });
    }],
    jvp: ([t], _, __, range) => applySlice(t!, range),
    label: ({ r0, r1, c0, c1 }) => ` [${r0}:${r1}, ${c0}:${c1}]`,
  } as Primitive<Range2>,
  pad: {
    name: "pad",
    forward: ([a], { rows, cols, r0, c0 }) => {
      const m = a as Matrix, out = alloc(rows, cols);
      out.data.fill(0);
      k.copyBlock(
        { data: m.data, cols: m.cols, row: 0, col: 0 },
        { data: out.data, cols, row: r0, col: c0 },
        m.rows,
        m.cols,
      );
      return out;
    },
    vjp: [(g, _, [a], { r0, c0 }) => {
      const [rows, cols] = shapeOf(a)!;
      return applySlice(g, { r0, r1: r0 + rows, c0, c1: c0 + cols });
    }],
    jvp: ([t], _, __, params) => apply(shapes.pad, [t!], params),
    label: ({ rows, cols, r0, c0 }) => ` ${rows}x${cols} at (${r0}, ${c0})`,
  } as Primitive<PadParams>,
  gatherRows: {
    name: "gatherRows",
    forward: ([a], indices) => {
      const m = a as Matrix, out = alloc(indices.length, m.cols);
      k.gatherRowsInto(m.data, m.cols, indices, out.data);
      return out;
    },
    vjp: [
      (g, _, [a], indices) => apply(shapes.scatterRows, [g], { indices, rows: shapeOf(a)![0] }),
    ],
    jvp: ([t], _, __, indices) => apply(shapes.gatherRows, [t!], indices),
    label: (indices) => ` ${indices.length} rows`,
  } as Primitive<Int32Array>,
  // The adjoint of gatherRows: row i of the argument is added into row indices[i].
  scatterRows: {
    name: "scatterRows",
    forward: ([a], { indices, rows }) => {
      const m = a as Matrix, out = alloc(rows, m.cols);
      k.scatterAddRowsInto(m.data, m.cols, indices, out.data);
      return out;
    },
    vjp: [(g, _, __, { indices }) => apply(shapes.gatherRows, [g], indices)],
    jvp: ([t], _, __, params) => apply(shapes.scatterRows, [t!], params),
    label: ({ rows }) => ` into ${rows} rows`,
  } as Primitive<ScatterParams>,
  concat: {
    name: "concat",
    forward: (args, { axis }) => concatValues(args as Matrix[], axis),
    vjp: concatRules,
    jvp: (tangents, _, args, params) =>
      apply(shapes.concat, tangents.map((t, i) => t ?? zerosLike(args[i])), params),
    label: ({ axis }) => ` axis=${axis}`,
  } as Primitive<ConcatParams>,
  stopGradient: {
    name: "stopGradient",
    forward: ([a]) => a,
    vjp: [(_, __, [a]) => zerosLike(a)],
    jvp: (_, out) => zerosLike(out),
  },
} satisfies Record<string, Primitive<never>>;

function concatValues(ms: Matrix[], axis: 0 | 1): Matrix {
  let rows = 0, cols = 0;
  for (const m of ms) {
    axis === 0 ? (rows += m.rows, cols = m.cols) : (cols += m.cols, rows = m.rows);
  }
  const out = alloc(rows, cols);
  let at = 0;
  for (const m of ms) {
    k.copyBlock(
      { data: m.data, cols: m.cols, row: 0, col: 0 },
      { data: out.data, cols, row: axis === 0 ? at : 0, col: axis === 0 ? 0 : at },
      m.rows,
      m.cols,
    );
    at += axis === 0 ? m.rows : m.cols;
  }
  return out;
}

function applyReshape(a: Tensor, shape: [number, number]): Tensor {
  const from = shapeOf(a)!;
  return from[0] === shape[0] && from[1] === shape[1] ? a : apply(shapes.reshape, [a], shape);
}

function applySlice(a: Tensor, range: Range2): Tensor {
  const [rows, cols] = shapeOf(a)!;
  const whole = range.r0 === 0 && range.r1 === rows && range.c0 === 0 && range.c1 === cols;
  return whole ? a : apply(shapes.slice, [a], range);
}

/** `a` as a matrix: a number becomes 1x1 (through broadcastTo, so it stays differentiable). */
function asMatrix(op: string, a: Tensor, i = 0): [Tensor, [number, number]] {
  const shape = shapeOf(checkTensor(op, a, i));
  return shape === undefined ? [broadcastTo(a, [1, 1]), [1, 1]] : [a, shape];
}

/**
 * `a`'s elements, in row-major order, as a `rows`×`cols` matrix; one dimension may be `-1`,
 * inferred from the other (as in numpy). A number acts as 1x1.
 *
 * @throws {RangeError} If a dimension is not a non-negative integer (or the one `-1`).
 * @throws {TypeError} If the element counts differ, naming both shapes.
 *
 * @example
 * ```ts
 * import { Matrix, reshape } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const a = Matrix.from([[1, 2, 3], [4, 5, 6]]);
 * assert.deepEqual((reshape(a, [3, 2]) as Matrix).toArray(), [[1, 2], [3, 4], [5, 6]]);
 * assert.deepEqual((reshape(a, [-1, 1]) as Matrix).shape, [6, 1]);
 * ```
 */
export function reshape(a: Tensor, shape: readonly [number, number]): Tensor {
  const [m, from] = asMatrix("reshape", a);
  const size = from[0] * from[1];
  if (!Array.isArray(shape) || shape.length !== 2) {
    throw new TypeError(`reshape: the shape must be [rows, cols], got ${String(shape)}`);
  }
  let [rows, cols] = shape;
  const ok = (d: number) => Number.isInteger(d) && d >= -1;
  if (!ok(rows) || !ok(cols) || (rows === -1 && cols === -1)) {
    throw new RangeError(
      `reshape: dimensions must be non-negative integers (one may be -1), got [${rows}, ${cols}]`,
    );
  }
  if (rows === -1 && cols > 0 && size % cols === 0) rows = size / cols;
  if (cols === -1 && rows > 0 && size % rows === 0) cols = size / rows;
  if (rows * cols !== size || rows < 0 || cols < 0) {
    throw new TypeError(
      `reshape: cannot reshape ${formatShape(from)} (${size} elements) to [${shape[0]}, ${
        shape[1]
      }]`,
    );
  }
  return applyReshape(m, [rows, cols]);
}

/** The half-open ranges {@linkcode slice} selects; an omitted one selects everything. */
export interface SliceOptions {
  /** `[start, end)` of the rows, `0 <= start <= end <= rows`. */
  rows?: readonly [number, number];
  /** `[start, end)` of the columns, `0 <= start <= end <= cols`. */
  cols?: readonly [number, number];
}

function checkRange(
  what: "rows" | "cols",
  range: readonly [number, number] | undefined,
  size: number,
  shape: [number, number],
): [number, number] {
  if (range === undefined) return [0, size];
  const [start, end] = Array.isArray(range) ? range : [NaN, NaN];
  if (
    !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > size
  ) {
    throw new RangeError(
      `slice: ${what} [${String(range)}] is out of range for a ${formatShape(shape)} matrix; ` +
        `need integers 0 <= start <= end <= ${size}`,
    );
  }
  return [start, end];
}

/**
 * The block of `a` in the half-open ranges `rows: [start, end)` and `cols: [start, end)`
 * (an omitted range selects all; an empty range gives a matrix with no rows or columns).
 * Negative indices are not accepted. A number acts as 1x1.
 *
 * @throws {RangeError} If a range is out of bounds, naming the range and the shape.
 *
 * @example
 * ```ts
 * import { Matrix, slice } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const a = Matrix.from([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
 * assert.deepEqual((slice(a, { rows: [1, 3], cols: [0, 2] }) as Matrix).toArray(), [[4, 5], [7, 8]]);
 * assert.deepEqual((slice(a, { cols: [2, 3] }) as Matrix).toArray(), [[3], [6], [9]]);
 * assert.deepEqual((slice(a, { rows: [0, 0] }) as Matrix).shape, [0, 3]);
 * ```
 */
export function slice(a: Tensor, options: SliceOptions): Tensor {
  const [m, shape] = asMatrix("slice", a);
  const [r0, r1] = checkRange("rows", options?.rows, shape[0], shape);
  const [c0, c1] = checkRange("cols", options?.cols, shape[1], shape);
  return applySlice(m, { r0, r1, c0, c1 });
}

/**
 * The rows of `a` at `indices`, in that order (repeats allowed): row i of the result is row
 * `indices[i]` of `a`. Its gradient adds each result row's cotangent back into the row it
 * came from, so a repeated index collects every copy's. A number acts as 1x1.
 *
 * @throws {RangeError} If an index is not an integer in `[0, rows)`, naming it and the shape.
 *
 * @example
 * ```ts
 * import { gatherRows, grad, Matrix, sum, type Tensor } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const a = Matrix.from([[1, 2], [3, 4], [5, 6]]);
 * assert.deepEqual((gatherRows(a, [2, 0, 2]) as Matrix).toArray(), [[5, 6], [1, 2], [5, 6]]);
 * const g = grad((x: Tensor) => sum(gatherRows(x, [2, 0, 2])))(a) as Matrix;
 * assert.deepEqual(g.toArray(), [[1, 1], [0, 0], [2, 2]]);
 * ```
 */
export function gatherRows(a: Tensor, indices: ArrayLike<number>): Tensor {
  const [m, shape] = asMatrix("gatherRows", a);
  if (indices === null || typeof indices !== "object" || typeof indices.length !== "number") {
    throw new TypeError(
      `gatherRows: indices must be an array of row numbers, got ${String(indices)}`,
    );
  }
  const idx = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= shape[0]) {
      throw new RangeError(
        `gatherRows: index ${String(r)} at position ${i} is out of range for a ` +
          `${formatShape(shape)} matrix; need integers 0 <= index < ${shape[0]}`,
      );
    }
    idx[i] = r;
  }
  return apply(shapes.gatherRows, [m], idx);
}

/** Options for {@linkcode concat}. */
export interface ConcatOptions {
  /** `0` stacks the matrices vertically (rows after rows, the default), `1` side by side. */
  axis?: 0 | 1;
}

/**
 * Joins matrices along an axis: `axis: 0` (the default) stacks them vertically, so all need
 * the same number of columns; `axis: 1` puts them side by side, so all need the same number
 * of rows. Numbers act as 1x1.
 *
 * @throws {TypeError} If the list is empty or the shapes do not fit, naming the shapes.
 *
 * @example
 * ```ts
 * import { concat, Matrix } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const a = Matrix.from([[1, 2]]), b = Matrix.from([[3, 4], [5, 6]]);
 * assert.deepEqual((concat([a, b]) as Matrix).toArray(), [[1, 2], [3, 4], [5, 6]]);
 * assert.deepEqual((concat([a, 7], { axis: 1 }) as Matrix).toArray(), [[1, 2, 7]]);
 * ```
 */
export function concat(list: readonly Tensor[], options: ConcatOptions = {}): Tensor {
  const axis = options.axis ?? 0;
  if (axis !== 0 && axis !== 1) {
    throw new RangeError(`concat: axis must be 0 or 1, got ${String(axis)}`);
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(
      `concat: expected a non-empty array of matrices, got ${
        Array.isArray(list) ? "an empty array" : String(list)
      }`,
    );
  }
  const ms: Tensor[] = [], sizes: number[] = [];
  let first: [number, number] | undefined;
  for (let i = 0; i < list.length; i++) {
    const [m, shape] = asMatrix("concat", list[i], i);
    first ??= shape;
    const other = 1 - axis;
    if (shape[other] !== first[other]) {
      throw new TypeError(
        `concat: along axis ${axis} every matrix needs ${first[other]} ${
          axis === 0 ? "columns" : "rows"
        } (as the first, ${formatShape(first)}), but matrix ${i} is ${formatShape(shape)}`,
      );
    }
    ms.push(m);
    sizes.push(shape[axis]);
  }
  if (ms.length === 1) return ms[0];
  while (concatRules.length < ms.length) concatRules.push(concatRule(concatRules.length));
  return apply(shapes.concat, ms, { axis, sizes });
}

/**
 * `a`'s value, with a derivative of zero in every transform (`grad`, `vjp`, `jvp`, at any
 * order), as JAX's `stop_gradient`: the value is treated as a constant.
 *
 * @example
 * ```ts
 * import { grad, mul, stopGradient, type Tensor } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * // d/dx [x · c] with c = x held constant is c, not 2x.
 * assert.equal(grad((x: Tensor) => mul(x, stopGradient(x)))(3), 3);
 * ```
 */
export function stopGradient(a: Tensor): Tensor {
  return apply(shapes.stopGradient, [checkTensor("stopGradient", a)], undefined);
}

/** @internal `a` placed at (r0, c0) in a rows×cols matrix of zeros (slice's adjoint). */
export function padTo(a: Tensor, rows: number, cols: number, r0: number, c0: number): Tensor {
  return apply(shapes.pad, [a], { rows, cols, r0, c0 });
}

/** @internal A rows-row matrix of zeros with row i of `a` added into row `indices[i]`. */
export function scatterRows(a: Tensor, indices: readonly number[], rows: number): Tensor {
  return apply(shapes.scatterRows, [a], { indices: Int32Array.from(indices), rows });
}
