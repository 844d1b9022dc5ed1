// Parameter trees in the flat parameter buffer: the layout, copying in and out, gradient leaves.

import { Matrix } from "../matrix.ts";
import { flatten } from "../autograd/transforms.ts";
import type { ParamLayout } from "./_protocol.ts";

/**
 * The layout of a parameter tree (any tree `grad` accepts: numbers and matrices nested in
 * arrays and plain objects) and its leaves in layout order, with each leaf's path for messages.
 */
export function layoutOf(
  params: unknown,
): { layout: ParamLayout; leaves: (Matrix | number)[]; paths: string[] } {
  const [leaves, rebuild, paths] = flatten(params, "train", "params");
  if (leaves.length === 0) {
    throw new TypeError("train: params must hold at least one matrix or number");
  }
  const shapes = leaves.map((leaf, i): [number, number] | null => {
    if (typeof leaf === "number") return null;
    if (leaf instanceof Matrix) return [leaf.rows, leaf.cols];
    throw new TypeError(`train: ${paths[i]} is being traced; pass plain values to train`);
  });
  const size = shapes.reduce((n, s) => n + (s === null ? 1 : s[0] * s[1]), 0);
  const skeleton = rebuild(leaves.map((_, i) => i));
  const scalars = shapes.includes(null);
  const layout = { skeleton, shapes, size, scalars };
  return { layout, leaves: leaves as (Matrix | number)[], paths };
}

/** Writes the leaves' values into `flat`, in layout order. */
export function copyIn(leaves: readonly (Matrix | number)[], flat: Float64Array): void {
  let offset = 0;
  for (const leaf of leaves) {
    if (typeof leaf === "number") flat[offset++] = leaf;
    else {
      flat.set(leaf.data, offset);
      offset += leaf.data.length;
    }
  }
}

/**
 * Writes `flat` back: into each matrix leaf in place, and returns the leaves with numbers
 * replaced by their trained values.
 */
export function copyOut(
  flat: Float64Array,
  leaves: readonly (Matrix | number)[],
): (Matrix | number)[] {
  let offset = 0;
  return leaves.map((leaf) => {
    if (typeof leaf === "number") return flat[offset++];
    leaf.data.set(flat.subarray(offset, offset + leaf.data.length));
    offset += leaf.data.length;
    return leaf;
  });
}

/**
 * Calls `write(i, leaf)` for each leaf of a gradient tree that mirrors `skeleton` (leaf `i`
 * sits where the skeleton holds `i`). A gradient of another structure throws, naming `where`.
 */
export function forEachLeaf(
  tree: unknown,
  skeleton: unknown,
  write: (i: number, leaf: unknown) => void,
  where: string,
): void {
  if (typeof skeleton === "number") return write(skeleton, tree);
  if (tree === null || typeof tree !== "object") {
    throw new TypeError(`${where}: the gradient does not mirror the parameter tree`);
  }
  if (Array.isArray(skeleton)) {
    for (let i = 0; i < skeleton.length; i++) {
      forEachLeaf((tree as unknown[])[i], skeleton[i], write, where);
    }
    return;
  }
  for (const key in skeleton as Record<string, unknown>) {
    const part = (tree as Record<string, unknown>)[key];
    forEachLeaf(part, (skeleton as Record<string, unknown>)[key], write, where);
  }
}
