// Helpers shared by the op families: the broadcast rule and the wrappers that turn a raw kernel
// into a forward function on plain values, with its output storage from the arena.

import { alloc } from "../../_arena.ts";
import type { BinaryKernel, UnaryKernel } from "../../_kernels.ts";
import { formatShape, shapeOf, type Value } from "../tracer.ts";

/** A matrix shape `[rows, cols]`, or `undefined` for a number. */
export type Shape = [number, number] | undefined;

/** The numpy broadcast of two shapes, or a `TypeError` naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
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

const scalarA = new Float64Array(1), scalarB = new Float64Array(1);

/** A broadcasting binary forward: `f` on two numbers, else `kernel` into arena storage. */
export function binary(
  op: string,
  kernel: BinaryKernel,
  f: (x: number, y: number) => number,
): (a: Value, b: Value) => Value {
  return (a, b) => {
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

/** A unary forward: `f` on a number, else `kernel` into arena storage. */
export function unary(f: (x: number) => number, kernel: UnaryKernel): (a: Value) => Value {
  return (a) => {
    if (typeof a === "number") return f(a);
    const out = alloc(a.rows, a.cols);
    kernel(a.data, out.data);
    return out;
  };
}
