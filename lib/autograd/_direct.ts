// Direct kernel calls for a jit plan's most common primitives: the kernel the primitive's
// forward would call, with the shapes worked out once, writing into the plan's buffer. The
// plan checks each against the forward's bits when it compiles and keeps the forward for any
// primitive not listed here, or whose bits differ.
//
// gemm, tanh and the binary ops call the WebAssembly export itself when every operand is in
// the kernels' resident memory (a plan inside withScratch keeps its buffers and a copy of its
// inputs there): the same function on the same numbers as lib/_wasm.ts would call, so the
// same bits, without its per-call glue (operand checks, copies, a closure).

import type { Matrix } from "../matrix.ts";
import * as k from "../_kernels.ts";
import { residentSpace as space } from "../_wasm.ts";
import type { Primitive, Value } from "./tracer.ts";
import { elementwise } from "./ops/elementwise.ts";
import { linear } from "./ops/linear.ts";
import { reductions } from "./ops/reductions.ts";

/** Computes a step from its arguments into `views[out]` (its one buffer); returns the value. */
export type Direct = (args: Value[], views: readonly Matrix[]) => Value;

// Each binary primitive's kernel, its op number in lib/_wasm_kernels.wat, and whether its
// operands may swap (as lib/_kernels.ts lets the WASM kernel swap add and mul).
const BINARY = new Map<unknown, [k.BinaryKernel, number, boolean]>([
  [elementwise.add, [k.addInto, 0, true]],
  [elementwise.sub, [k.subInto, 1, false]],
  [elementwise.mul, [k.mulInto, 2, true]],
  [elementwise.div, [k.divInto, 3, false]],
  [elementwise.tanhGrad, [k.tanhGradInto, 4, false]],
]);

// The forwards' arithmetic on two numbers, by op number (checked against them like the rest).
const SCALAR = new Map<number, Direct>([
  [0, (args) => (args[0] as number) + (args[1] as number)],
  [1, (args) => (args[0] as number) - (args[1] as number)],
  [2, (args) => (args[0] as number) * (args[1] as number)],
  [3, (args) => (args[0] as number) / (args[1] as number)],
  [4, (args) => (args[1] as number) * (1 - (args[0] as number) * (args[0] as number))],
]);

// Keep in step with gemmWork in lib/_wasm.ts ($MC and $KC in the .wat): gemm's workspace.
const gemmWork = (n: number) => 64 * 256 + 256 * (n + 7) + 16;

/** Whether the WASM exports can run on these (resident) arrays with `work` doubles free. */
function inWasm(work: number, a: Float64Array, b: Float64Array, out: Float64Array): boolean {
  if (space === undefined || k.kernelBackend() !== "wasm") return false;
  const buffer = space.buffer;
  return a.buffer === buffer && b.buffer === buffer && out.buffer === buffer &&
    space.reserved + work <= space.heap.length;
}

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
  const entry = BINARY.get(primitive);
  if (entry !== undefined) return directBinary(entry, a, b, out);
  if (typeof a === "number") return undefined;
  const unary = UNARY.get(primitive);
  if (unary !== undefined) return directUnary(unary, out);
  if (primitive === elementwise.pow) {
    const p = params as number;
    return (args, views) => (k.powInto((args[0] as Matrix).data, p, views[out].data), views[out]);
  }
  if (primitive === linear.matmul && typeof b !== "number") {
    return directMatmul(params as MatmulFlags, a, b, out);
  }
  return directShaping(primitive, params, a, out);
}

interface MatmulFlags {
  transA: boolean;
  transB: boolean;
}

/** A binary op: the scalar arithmetic, the WASM export, or the TS kernel. */
function directBinary(
  [binary, op, commutative]: [k.BinaryKernel, number, boolean],
  a: Value,
  b: Value,
  out: number,
): Direct | undefined {
  if (typeof a === "number" && typeof b === "number") return SCALAR.get(op);
  const [ar, ac] = typeof a === "number" ? [1, 1] : [a.rows, a.cols];
  const [br, bc] = typeof b === "number" ? [1, 1] : [b.rows, b.cols];
  const scalar = typeof a === "number" || typeof b === "number";
  const wasm = binaryInWasm(op, commutative, ar, ac, br, bc, scalar);
  if (wasm !== undefined) return wasm(binary, out);
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

/** A unary op on a matrix; tanh calls the WASM export when its arrays are resident. */
function directUnary(unary: (a: Float64Array, out: Float64Array) => void, out: number): Direct {
  if (unary !== k.tanhInto) {
    return (args, views) => (unary((args[0] as Matrix).data, views[out].data), views[out]);
  }
  return (args, views) => {
    const x = (args[0] as Matrix).data, o = views[out];
    if (inWasm(0, x, x, o.data)) space!.exports.tanh(x.byteOffset, o.data.byteOffset, x.length);
    else k.tanhInto(x, o.data);
    return o;
  };
}

/** A matrix product: the WASM gemm export when resident (workspace after the arena), else TS. */
function directMatmul(flags: MatmulFlags, a: Matrix, b: Matrix, out: number): Direct {
  const { transA, transB } = flags;
  const m = transA ? a.cols : a.rows, n = transB ? b.rows : b.cols;
  const inner = transA ? a.rows : a.cols;
  const work = gemmWork(n), ta = +transA, tb = +transB;
  return (args, views) => {
    const x = (args[0] as Matrix).data, y = (args[1] as Matrix).data, o = views[out];
    if (inWasm(work, x, y, o.data)) {
      const at = space!.reserved * 8; // the workspace follows the arena's memory
      space!.exports.gemm(m, n, inner, x.byteOffset, ta, y.byteOffset, tb, o.data.byteOffset, at);
    } else k.gemm(x, y, o.data, m, n, inner, transA, transB);
    return o;
  };
}

/** transpose, sum (all, by rows or by columns) and broadcastTo of a matrix. */
function directShaping(
  // deno-lint-ignore no-explicit-any
  primitive: Primitive<any>,
  params: unknown,
  a: Matrix,
  out: number,
): Direct | undefined {
  const { rows, cols } = a;
  if (primitive === linear.transpose) {
    return (args, views) => {
      k.transposeInto((args[0] as Matrix).data, rows, cols, views[out].data);
      return views[out];
    };
  }
  if (primitive === reductions.sum) {
    if (params === undefined) return (args) => k.sumAll((args[0] as Matrix).data);
    const reduce = params === 0 ? k.sumRows : k.sumCols;
    return (args, views) => (
      reduce((args[0] as Matrix).data, rows, cols, views[out].data), views[out]
    );
  }
  if (primitive === reductions.broadcastTo && params !== undefined) {
    return (args, views) => {
      const o = views[out];
      k.broadcastInto((args[0] as Matrix).data, rows, cols, o.data, o.rows, o.cols);
      return o;
    };
  }
  return undefined;
}

/**
 * The direct WASM call of a binary op on matrices, as lib/_kernels.ts and lib/_wasm.ts would
 * make it: for outputs of 32 numbers or more, with the operand of the output's shape first
 * (swapped only for add and mul). Undefined where they would not call WASM, or where an
 * operand is a number (it would need copying in).
 */
function binaryInWasm(
  op: number,
  commutative: boolean,
  ar: number,
  ac: number,
  br: number,
  bc: number,
  scalarOperand: boolean,
): ((binary: k.BinaryKernel, out: number) => Direct) | undefined {
  if (space === undefined || scalarOperand) return undefined;
  const rows = Math.max(ar, br), cols = Math.max(ac, bc);
  const aFull = ar === rows && ac === cols, bFull = br === rows && bc === cols;
  if (rows * cols < 32 || !(aFull || (commutative && bFull))) return undefined;
  const swap = !aFull;
  const yr = swap ? ar : br, yc = swap ? ac : bc;
  // As `binary` in lib/_wasm.ts: y (r,c) or (1,1) is one long row; (r,1) a number per row;
  // (1,c) one row repeated.
  const scalar = yr === 1 && yc === 1, flat = scalar || (yr === rows && yc === cols);
  const yStep = scalar || (!flat && yc === 1) ? 0 : 8;
  const yRow = flat || yr === 1 ? 0 : 8 * yc;
  const r = flat ? 1 : rows, c = flat ? rows * cols : cols;
  return (binary, out) => (args, views) => {
    const a = (args[0] as Matrix).data, b = (args[1] as Matrix).data, o = views[out];
    const x = swap ? b : a, y = swap ? a : b;
    if (inWasm(0, x, y, o.data)) {
      space!.exports.binary(
        op,
        x.byteOffset,
        8 * c,
        y.byteOffset,
        yRow,
        yStep,
        o.data.byteOffset,
        r,
        c,
      );
    } else binary(a, ar, ac, b, br, bc, o.data, rows, cols);
    return o;
  };
}
