// Parameter trees as one flat Float64Array and back, plus the option checks lib/optim shares.

import { Matrix } from "../matrix.ts";
import { Traced } from "../autograd/tracer.ts";
import { flatten, type Tree } from "../autograd/transforms.ts";

/** A tree's leaves copied into one vector, in `flatten`'s fixed order, and the way back. */
export interface Raveled {
  /** The leaves' elements, one after another (a number takes one slot). */
  data: Float64Array;
  /** Builds a tree of the original structure and shapes from a vector (copying it). */
  unravel(data: Float64Array): Tree;
  /** Each leaf's shape, `undefined` for a number: for structure checks. */
  shapes: ([number, number] | undefined)[];
}

/** Copies a tree of numbers and matrices into one vector. */
export function ravel(tree: unknown, where: string, root: string): Raveled {
  const [leaves, rebuild, paths] = flatten(tree, where, root);
  const shapes: ([number, number] | undefined)[] = [];
  let size = 0;
  leaves.forEach((leaf, i) => {
    if (leaf instanceof Traced) {
      throw new TypeError(
        `${where}: ${paths[i]} is a traced value; pass plain numbers and matrices`,
      );
    }
    shapes.push(leaf instanceof Matrix ? [leaf.rows, leaf.cols] : undefined);
    size += leaf instanceof Matrix ? leaf.data.length : 1;
  });
  const data = new Float64Array(size);
  let offset = 0;
  for (const leaf of leaves) {
    if (leaf instanceof Matrix) {
      data.set(leaf.data, offset);
      offset += leaf.data.length;
    } else data[offset++] = leaf as number;
  }
  const unravel = (flat: Float64Array): Tree => {
    let at = 0;
    const values = shapes.map((s) => {
      if (s === undefined) return flat[at++];
      const m = new Matrix(s[0], s[1], flat.slice(at, at + s[0] * s[1]));
      at += s[0] * s[1];
      return m;
    });
    return rebuild(values) as Tree;
  };
  return { data, unravel, shapes };
}

/** Throws a TypeError unless two raveled trees have the same leaves and shapes. */
export function checkSameStructure(
  where: string,
  a: Raveled,
  aName: string,
  b: Raveled,
  bName: string,
): void {
  const same = a.shapes.length === b.shapes.length &&
    a.shapes.every((s, i) => s?.[0] === b.shapes[i]?.[0] && s?.[1] === b.shapes[i]?.[1]);
  if (!same) {
    throw new TypeError(
      `${where}: ${bName} (${describeShapes(b)}) does not have the structure of ${aName} ` +
        `(${describeShapes(a)})`,
    );
  }
}

function describeShapes(r: Raveled): string {
  const parts = r.shapes.map((s) => (s === undefined ? "scalar" : `${s[0]}x${s[1]}`));
  return parts.length > 6 ? `${parts.length} leaves` : `[${parts.join(", ")}]`;
}

/** A condition on a finite number, and how an error message states it. */
export interface Bound {
  /** Whether a finite number meets the condition. */
  test: (x: number) => boolean;
  /** The condition in words, after "must be". */
  expected: string;
}

/** x ≥ 0: learning rates, eps, weight decay. */
export const NON_NEGATIVE: Bound = { test: (x) => x >= 0, expected: "a finite number >= 0" };
/** x > 0. */
export const POSITIVE: Bound = { test: (x) => x > 0, expected: "a finite number > 0" };
/** A whole number ≥ 1: step and iteration counts. */
export const POSITIVE_INTEGER: Bound = {
  test: (x) => Number.isInteger(x) && x > 0,
  expected: "a positive integer",
};
/** x in [0, 1): decay factors of running averages (momentum, α, β₁, β₂). */
export const DECAY: Bound = { test: (x) => x >= 0 && x < 1, expected: "a number in [0, 1)" };

/** Throws a RangeError unless `value` is a finite number within `bound`; returns it. */
export function checkNumber(where: string, name: string, value: unknown, bound: Bound): number {
  if (typeof value !== "number" || !Number.isFinite(value) || !bound.test(value)) {
    throw new RangeError(`${where}: ${name} must be ${bound.expected}, got ${String(value)}`);
  }
  return value;
}

/** Throws a TypeError unless an optimizer's options are an object (they hold the required `lr`). */
export function checkOptionsObject(where: string, options: unknown): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${where}: options must be an object such as { lr: 0.01 }, got ${String(options)}`,
    );
  }
}
