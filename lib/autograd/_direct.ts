// Direct kernel calls for a jit plan's most common primitives: the kernel the primitive's
// forward would call, with the shapes worked out once, writing into the plan's buffer. The
// plan checks each against the forward's bits when it compiles and keeps the forward for any
// primitive not listed here, or whose bits differ.

import type { Matrix } from "../matrix.ts";
import * as k from "../_kernels.ts";
import type { Primitive, Value } from "./tracer.ts";
import { elementwise } from "./ops/elementwise.ts";
import { linear } from "./ops/linear.ts";
import { reductions } from "./ops/reductions.ts";

/** Computes a step from its arguments into `views[out]` (its one buffer); returns the value. */
export type Direct = (args: Value[], views: readonly Matrix[]) => Value;

const BINARY = new Map<unknown, k.BinaryKernel>([
  [elementwise.add, k.addInto],
  [elementwise.sub, k.subInto],
  [elementwise.mul, k.mulInto],
  [elementwise.div, k.divInto],
  [elementwise.tanhGrad, k.tanhGradInto],
]);

const UNARY = new Map<unknown, k.UnaryKernel>([
  [elementwise.neg, k.negInto],
  [elementwise.exp, k.expInto],
  [elementwise.log, k.logInto],
  [elementwise.tanh, k.tanhInto],
  [elementwise.square, k.squareInto],
]);

/**
 * The direct call for `primitive` at the traced arguments `args` with its output buffer at
 * `views[out]`, or undefined if there is none (a number result of numbers, another primitive).
 */
export function directFor(
  // deno-lint-ignore no-explicit-any
  primitive: Primitive<any>,
  params: unknown,
  args: readonly Value[],
  out: number,
): Direct | undefined {
  const [a, b] = args;
  const binary = BINARY.get(primitive);
  if (binary !== undefined) {
    if (typeof a === "number" && typeof b === "number") return undefined;
    const [ar, ac] = typeof a === "number" ? [1, 1] : [a.rows, a.cols];
    const [br, bc] = typeof b === "number" ? [1, 1] : [b.rows, b.cols];
    const sa = typeof a === "number" ? new Float64Array(1) : undefined;
    const sb = typeof b === "number" ? new Float64Array(1) : undefined;
    return (args, views) => {
      const o = views[out];
      let ad: Float64Array, bd: Float64Array;
      if (sa !== undefined) (sa[0] = args[0] as number, ad = sa);
      else ad = (args[0] as Matrix).data;
      if (sb !== undefined) (sb[0] = args[1] as number, bd = sb);
      else bd = (args[1] as Matrix).data;
      binary(ad, ar, ac, bd, br, bc, o.data, o.rows, o.cols);
      return o;
    };
  }
  if (typeof a === "number") return undefined;
  const unary = UNARY.get(primitive);
  if (unary !== undefined) {
    return (args, views) => (unary((args[0] as Matrix).data, views[out].data), views[out]);
  }
  if (primitive === elementwise.pow) {
    const p = params as number;
    return (args, views) => (k.powInto((args[0] as Matrix).data, p, views[out].data), views[out]);
  }
  if (primitive === linear.matmul && typeof b !== "number") {
    const { transA, transB } = params as { transA: boolean; transB: boolean };
    const m = transA ? a.cols : a.rows, n = transB ? b.rows : b.cols;
    const inner = transA ? a.rows : a.cols;
    return (args, views) => {
      const o = views[out];
      k.gemm(
        (args[0] as Matrix).data,
        (args[1] as Matrix).data,
        o.data,
        m,
        n,
        inner,
        transA,
        transB,
      );
      return o;
    };
  }
  if (primitive === linear.transpose) {
    const { rows, cols } = a;
    return (args, views) => {
      k.transposeInto((args[0] as Matrix).data, rows, cols, views[out].data);
      return views[out];
    };
  }
  if (primitive === reductions.sum) {
    const { rows, cols } = a;
    if (params === undefined) return (args) => k.sumAll((args[0] as Matrix).data);
    const reduce = params === 0 ? k.sumRows : k.sumCols;
    return (
      args,
      views,
    ) => (reduce((args[0] as Matrix).data, rows, cols, views[out].data), views[out]);
  }
  if (primitive === reductions.broadcastTo && params !== undefined) {
    const { rows, cols } = a;
    return (args, views) => {
      const o = views[out];
      k.broadcastInto((args[0] as Matrix).data, rows, cols, o.data, o.rows, o.cols);
      return o;
    };
  }
  return undefined;
}
