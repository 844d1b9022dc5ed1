// The public ops and the one primitive table, assembled from the op families in ./ops/:
// element-wise, reductions and broadcasting, extrema, linear, shapes and selection, and linear
// algebra. Each family file declares its primitives with forward, VJP and JVP side by side (and
// its graph label); adding an op means touching its family file, the finite-difference test
// table and, to make it public, mod.ts. Composites with no rules of their own, such as `mean`,
// live in their family or below the table.

import { checkTensor, type Primitive, shapeOf, type Tensor } from "./tracer.ts";
import { div, elementwise } from "./ops/elementwise.ts";
import { extrema } from "./ops/extrema.ts";
import { linear } from "./ops/linear.ts";
import { checkAxis, type ReduceOptions, reductions, sum } from "./ops/reductions.ts";
import { shapes } from "./ops/shapes.ts";
import { linalg } from "./ops/linalg.ts";

export { withScratch } from "../_arena.ts";
export * from "./ops/elementwise.ts";
export * from "./ops/extrema.ts";
export * from "./ops/linear.ts";
export * from "./ops/reductions.ts";
export * from "./ops/shapes.ts";
export * from "./ops/linalg.ts";

const primitives = {
  ...elementwise,
  ...reductions,
  ...linear,
  ...extrema,
  ...shapes,
  ...linalg,
};

/** The names of the primitives; every one has a forward kernel, VJP rules and a JVP rule. */
export type PrimitiveName = keyof typeof primitives;

/** @internal The primitive table, for the tests and for graph rendering. */
export const PRIMITIVES: Readonly<Record<PrimitiveName, Primitive<never>>> = primitives;

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
  const axis = checkAxis("mean", options);
  const shape = shapeOf(checkTensor("mean", a));
  if (shape === undefined) return sum(a, options);
  const count = axis === undefined ? shape[0] * shape[1] : axis === 0 ? shape[0] : shape[1];
  return div(sum(a, options), count);
}
