// `ravel`: a tree of numbers and matrices as one column vector, and the way back (HIPS
// autograd's `flatten`, JAX's `ravel_pytree`).

import { Matrix } from "../matrix.ts";
import { flatten, type Grad, type Tree } from "./transforms.ts";
import { describe, formatShape, shapeOf, Traced } from "./tracer.ts";

/**
 * Copies the leaves of `tree` (a number, a matrix, or arrays and plain objects nesting them)
 * into one column vector, an n×1 matrix, leaf after leaf in the order of the tree (array
 * items in order, object keys in insertion order) and each matrix row by row; a number takes
 * one slot. Returns `[vector, unravel]`, where `unravel(v)` builds a new tree of the same
 * structure and shapes from an n×1 matrix `v` (numbers come back as numbers). Both work on
 * plain values: take gradients with respect to the tree and ravel them, as HIPS autograd's
 * `flatten_func` does.
 *
 * @example Round trip of a parameter tree
 * ```ts
 * import { Matrix, ravel } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const params = { w: Matrix.from([[1, 2], [3, 4]]), b: [5, Matrix.from([[6]])] };
 * const [v, unravel] = ravel(params);
 * assert.deepEqual(v.toArray(), [[1], [2], [3], [4], [5], [6]]);
 * const back = unravel(v);
 * assert.deepEqual(back.w.toArray(), [[1, 2], [3, 4]]);
 * assert.equal(back.b[0], 5);
 * ```
 */
export function ravel<T extends Tree>(tree: T): [Matrix, (vector: Matrix) => Grad<T>] {
  const [leaves, rebuild, paths] = flatten(tree, "ravel", "tree");
  const shapes = leaves.map((leaf, i) => {
    if (leaf instanceof Traced) {
      throw new TypeError(
        `ravel: ${paths[i]} is a traced value; ravel works on plain values (ravel the ` +
          "gradient a transform returns, or call ravel outside the function being transformed)",
      );
    }
    return shapeOf(leaf);
  });
  const n = shapes.reduce((sum, s) => sum + (s === undefined ? 1 : s[0] * s[1]), 0);
  if (n === 0) throw new RangeError("ravel: the tree has no numbers or matrices to ravel");
  const vector = Matrix.zeros(n, 1);
  let at = 0;
  for (const leaf of leaves) {
    if (leaf instanceof Matrix) (vector.data.set(leaf.data, at), at += leaf.data.length);
    else vector.data[at++] = leaf as number;
  }
  const unravel = (v: Matrix): Grad<T> => {
    if (!(v instanceof Matrix) || v.rows !== n || v.cols !== 1) {
      const x: unknown = v;
      const got = x instanceof Matrix
        ? `a ${formatShape(shapeOf(x))} matrix`
        : x instanceof Traced
        ? "a traced value (unravel works on plain values)"
        : describe(x);
      throw new TypeError(`unravel: expected a plain ${n}x1 matrix, got ${got}`);
    }
    let i = 0;
    return rebuild(shapes.map((s) => {
      if (s === undefined) return v.data[i++];
      const m = new Matrix(s[0], s[1], v.data.slice(i, i + s[0] * s[1]));
      i += s[0] * s[1];
      return m;
    })) as Grad<T>;
  };
  return [vector, unravel];
}
