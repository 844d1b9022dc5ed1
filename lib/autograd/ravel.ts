// `ravel`: a tree of numbers and matrices as one column vector, and the way back (HIPS
// autograd's `flatten`, JAX's `ravel_pytree`).

import { Matrix } from "../matrix.ts";
import { add } from "./ops.ts";
import { definePrimitive } from "./primitive.ts";
import { flatten, type Grad, type Tree } from "./transforms.ts";
import { describe, formatShape, shapeOf, type Tensor, Traced } from "./tracer.ts";

/** Whether a tree type may hold traced values (then `ravel` gives a traced vector). */
export type MayBeTraced<T> = Tree extends T ? true
  : T extends Traced ? true
  : T extends number | Matrix ? false
  : T extends readonly (infer U)[] ? MayBeTraced<U>
  : T extends object ? MayBeTraced<T[keyof T]>
  : false;

/** The vector `ravel` returns: a matrix, or a tensor when the tree may be traced. */
export type Raveled<T> = true extends MayBeTraced<T> ? Tensor : Matrix;

/** `unravel`: a plain vector gives plain values; a traced one, traced values. */
export interface Unravel<T> {
  /** Rebuilds the tree from a plain n×1 matrix (copying it). */
  (vector: Matrix): Tree extends T ? Tree : Grad<T>;
  /** Rebuilds the tree from an n×1 tensor, differentiably (inside a transform). */
  (vector: Tensor): Tree;
}

/**
 * Copies the leaves of `tree` (a number, a matrix, or arrays and plain objects nesting them)
 * into one column vector, an n×1 matrix, leaf after leaf in the order of the tree (array
 * items in order, object keys in insertion order) and each matrix row by row; a number takes
 * one slot. Returns `[vector, unravel]`, where `unravel(v)` builds a new tree of the same
 * structure and shapes from an n×1 matrix `v` (numbers come back as numbers). Both are
 * differentiable: inside a transform, traced leaves give a traced vector and a traced vector
 * gives traced leaves (HIPS autograd's `flatten` and JAX's `ravel_pytree` work the same way).
 *
 * @example Round trip of a parameter tree, and a loss of the flat vector
 * ```ts
 * import { grad, Matrix, ravel, sum, square, type Tensor } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const params = { w: Matrix.from([[1, 2], [3, 4]]), b: [5, Matrix.from([[6]])] };
 * const [v, unravel] = ravel(params);
 * assert.deepEqual(v.toArray(), [[1], [2], [3], [4], [5], [6]]);
 * const back = unravel(v);
 * assert.deepEqual(back.w.toArray(), [[1, 2], [3, 4]]);
 * assert.equal(back.b[0], 5);
 * // the L2 norm² of all parameters, differentiated with respect to the tree
 * const g = grad((p: typeof params) => sum(square(ravel(p)[0])))(params);
 * assert.deepEqual(g.w.toArray(), [[2, 4], [6, 8]]);
 * assert.equal(g.b[0], 10);
 * ```
 */
export function ravel<T extends Tree>(tree: T): [Raveled<T>, Unravel<T>] {
  const [leaves, rebuild] = flatten(tree, "ravel", "tree");
  const shapes = leaves.map(shapeOf);
  const offsets: number[] = [];
  const n = shapes.reduce(
    (at, s) => (offsets.push(at), at + (s === undefined ? 1 : s[0] * s[1])),
    0,
  );
  if (n === 0) throw new RangeError("ravel: the tree has no numbers or matrices to ravel");
  const parts = shapes.map((s, i) => leafPrimitives(s, offsets[i], n, i));
  let vector: Tensor;
  if (leaves.some((leaf) => leaf instanceof Traced)) {
    vector = leaves.map((leaf, i) => parts[i].put(leaf)).reduce((sum, t) => add(sum, t));
  } else {
    const plain = Matrix.zeros(n, 1);
    leaves.forEach((leaf, i) => {
      if (leaf instanceof Matrix) plain.data.set(leaf.data, offsets[i]);
      else plain.data[offsets[i]] = leaf as number;
    });
    vector = plain;
  }
  const unravel = (v: Tensor) => {
    const s = v instanceof Matrix || v instanceof Traced ? shapeOf(v) : undefined;
    if (s === undefined || s[0] !== n || s[1] !== 1) {
      const got = s === undefined ? describe(v) : `a ${formatShape(s)} matrix`;
      throw new TypeError(`unravel: expected a vector of shape ${n}x1, got ${got}`);
    }
    return rebuild(parts.map((part) => part.take(v)));
  };
  return [vector as Raveled<T>, unravel as Unravel<T>];
}

/**
 * The two linear maps between leaf `index` (of shape `shape`, at `offset` in a vector of
 * `n`): `take` reads it out of the vector, `put` places it in a vector of zeros. Each is the
 * other's transpose, which gives their VJPs; being linear, each is its own JVP.
 */
function leafPrimitives(
  shape: [number, number] | undefined,
  offset: number,
  n: number,
  index: number,
) {
  const size = shape === undefined ? 1 : shape[0] * shape[1];
  const take = definePrimitive({
    name: `unravel[${index}]`,
    forward: (v) => {
      const data = (v as Matrix).data;
      if (shape === undefined) return data[offset];
      return new Matrix(shape[0], shape[1], data.slice(offset, offset + size));
    },
    vjp: [(g) => put(g)],
    jvp: ([t]) => take(t!),
  });
  const put = definePrimitive({
    name: `ravel[${index}]`,
    forward: (x) => {
      const out = Matrix.zeros(n, 1);
      if (typeof x === "number") out.data[offset] = x;
      else out.data.set(x.data, offset);
      return out;
    },
    vjp: [(g) => take(g)],
    jvp: ([t]) => put(t!),
  });
  return { take, put };
}
