// Raw loops over row-major Float64Arrays: the only place that touches elements in bulk.
// Callers (the op families in lib/autograd/ops/) check shapes first; nothing here validates.
//
// Every loop is written out per op rather than built from a shared closure taking `f`:
// closures made at one site share one feedback vector in V8, so `f` would be a polymorphic
// call per element instead of an inlined expression. gemm, tanh and the broadcasting binary
// ops run in WebAssembly SIMD (lib/_wasm.ts) where the engine supports it; both paths give
// identical bits, so results never depend on the backend.

import type { BinaryKernel, GemmKernel, UnaryKernel } from "./_kernel_types.ts";
import { wasm } from "./_wasm.ts";

export type { BinaryKernel, GemmKernel, UnaryKernel } from "./_kernel_types.ts";

/** Which implementation `gemm`, `tanhInto` and the binary kernels use. */
export type KernelBackend = "wasm" | "ts";

let backend: KernelBackend = wasm === undefined ? "ts" : "wasm";

/**
 * @internal Selects the kernel backend (for tests and benchmarks) and returns the previous
 * one. Asking for "wasm" where WebAssembly SIMD is unavailable is a `RangeError`.
 */
export function setKernelBackend(next: KernelBackend): KernelBackend {
  if (next !== "ts" && (next !== "wasm" || wasm === undefined)) {
    throw new RangeError(`setKernelBackend: backend "${next}" is not available here`);
  }
  const previous = backend;
  backend = next;
  return previous;
}

/** The kernel backend in use: "wasm" by default where WebAssembly SIMD works, else "ts". */
export function kernelBackend(): KernelBackend {
  return backend;
}

/**
 * One row segment of an element-wise op: `out[o + j] = f(a[ai + j * as], b[bi + j * bs])` for
 * `j < n`, where each step is 0 (a value repeated along the row) or 1.
 */
type RowKernel = (
  a: Float64Array,
  ai: number,
  as: number,
  b: Float64Array,
  bi: number,
  bs: number,
  out: Float64Array,
  o: number,
  n: number,
) => void;

/** Runs `row` over the broadcast of a against b, flattening the cases without row repeats. */
const broadcast: (row: RowKernel, ...args: Parameters<BinaryKernel>) => void = (
  row,
  a,
  aRows,
  aCols,
  b,
  bRows,
  bCols,
  out,
  rows,
  cols,
) => {
  const aFull = aRows === rows && aCols === cols, bFull = bRows === rows && bCols === cols;
  const n = rows * cols;
  if (aFull && bFull) return row(a, 0, 1, b, 0, 1, out, 0, n);
  if (aFull && bRows === 1 && bCols === 1) return row(a, 0, 1, b, 0, 0, out, 0, n);
  if (bFull && aRows === 1 && aCols === 1) return row(a, 0, 0, b, 0, 1, out, 0, n);
  const aRowStep = aRows === 1 ? 0 : aCols, as = aCols === 1 ? 0 : 1;
  const bRowStep = bRows === 1 ? 0 : bCols, bs = bCols === 1 ? 0 : 1;
  for (let i = 0; i < rows; i++) row(a, i * aRowStep, as, b, i * bRowStep, bs, out, i * cols, cols);
};

// Each row kernel has three loops: both operands stepping, b repeated, a repeated (when both
// repeat, n is 1 and the last loop is right).
const addRow: RowKernel = (a, ai, as, b, bi, bs, out, o, n) => {
  if (as === 1 && bs === 1) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] + b[bi + j]; }
  else if (as === 1) {
    const y = b[bi];
    for (let j = 0; j < n; j++) out[o + j] = a[ai + j] + y;
  } else {
    const x = a[ai];
    for (let j = 0; j < n; j++) out[o + j] = x + b[bi + j * bs];
  }
};

const subRow: RowKernel = (a, ai, as, b, bi, bs, out, o, n) => {
  if (as === 1 && bs === 1) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] - b[bi + j]; }
  else if (as === 1) {
    const y = b[bi];
    for (let j = 0; j < n; j++) out[o + j] = a[ai + j] - y;
  } else {
    const x = a[ai];
    for (let j = 0; j < n; j++) out[o + j] = x - b[bi + j * bs];
  }
};

const mulRow: RowKernel = (a, ai, as, b, bi, bs, out, o, n) => {
  if (as === 1 && bs === 1) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] * b[bi + j]; }
  else if (as === 1) {
    const y = b[bi];
    for (let j = 0; j < n; j++) out[o + j] = a[ai + j] * y;
  } else {
    const x = a[ai];
    for (let j = 0; j < n; j++) out[o + j] = x * b[bi + j * bs];
  }
};

const divRow: RowKernel = (a, ai, as, b, bi, bs, out, o, n) => {
  if (as === 1 && bs === 1) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j] / b[bi + j]; }
  else if (as === 1) {
    const y = b[bi];
    for (let j = 0; j < n; j++) out[o + j] = a[ai + j] / y;
  } else {
    const x = a[ai];
    for (let j = 0; j < n; j++) out[o + j] = x / b[bi + j * bs];
  }
};

// The backward rule of tanh, g * (1 - y²), with a = y and b = g.
const tanhGradRow: RowKernel = (a, ai, as, b, bi, bs, out, o, n) => {
  if (as === 1 && bs === 1) {
    for (let j = 0; j < n; j++) {
      const y = a[ai + j];
      out[o + j] = b[bi + j] * (1 - y * y);
    }
  } else if (as === 1) {
    const g = b[bi];
    for (let j = 0; j < n; j++) {
      const y = a[ai + j];
      out[o + j] = g * (1 - y * y);
    }
  } else {
    const y = a[ai], d = 1 - y * y;
    for (let j = 0; j < n; j++) out[o + j] = b[bi + j * bs] * d;
  }
};

// Repeats a into out (b is ignored): broadcasting a value to a bigger shape.
const copyRow: RowKernel = (a, ai, as, _b, _bi, _bs, out, o, n) => {
  if (as === 1) { for (let j = 0; j < n; j++) out[o + j] = a[ai + j]; }
  else out.fill(a[ai], o, o + n);
};

/**
 * A broadcasting kernel: the WASM one (op numbered as in lib/_wasm_kernels.wat) where it applies
 * and the output is big enough to repay the call, else `row` over the broadcast. Add and mul
 * may swap their operands: IEEE addition and multiplication are commutative, bit for bit.
 */
function binaryKernel(op: number, row: RowKernel, commutative: boolean): BinaryKernel {
  return (a, ar, ac, b, br, bc, out, rows, cols) => {
    if (backend === "wasm" && rows * cols >= 32) {
      if (wasm!.binary(op, a, ar, ac, b, br, bc, out, rows, cols)) return;
      if (commutative && wasm!.binary(op, b, br, bc, a, ar, ac, out, rows, cols)) return;
    } // else, or if WASM could not run it:
    broadcast(row, a, ar, ac, b, br, bc, out, rows, cols);
  };
}

/** `out = a + b`, broadcasting. */
export const addInto: BinaryKernel = binaryKernel(0, addRow, true);
/** `out = a - b`, broadcasting. */
export const subInto: BinaryKernel = binaryKernel(1, subRow, false);
/** `out = a * b`, broadcasting. */
export const mulInto: BinaryKernel = binaryKernel(2, mulRow, true);
/** `out = a / b`, broadcasting. */
export const divInto: BinaryKernel = binaryKernel(3, divRow, false);
/** `out = b * (1 - a²)` (a = tanh's output, b = the incoming gradient), broadcasting. */
export const tanhGradInto: BinaryKernel = binaryKernel(4, tanhGradRow, false);

/** `out` (rows×cols) = `a` (rows×cols, rows×1, 1×cols or 1×1) repeated along its size-1 axes. */
export function broadcastInto(
  a: Float64Array,
  aRows: number,
  aCols: number,
  out: Float64Array,
  rows: number,
  cols: number,
): void {
  broadcast(copyRow, a, aRows, aCols, a, 1, 1, out, rows, cols);
}

/** `out = -a`. */
export function negInto(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = -a[i];
}

/** `out = a²`. */
export function squareInto(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = a[i] * a[i];
}

/** `out = e^a`. */
export function expInto(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.exp(a[i]);
}

/** `out = ln a`. */
export function logInto(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.log(a[i]);
}

/** `out = a ** p`. */
export function powInto(a: Float64Array, p: number, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = a[i] ** p;
}

// 2^t for the integer exponents tanh's exp step needs (t ≤ 64 since its input is clamped).
const POW2 = new Float64Array(65).map((_, t) => 2 ** t);

/**
 * `out = tanh(a)`, within 1e-15 relative of `Math.tanh` (6.5e-16 measured), without branches
 * so that the WASM kernel, which performs the same operations in the same order and so gives
 * identical bits, computes two lanes at once:
 *
 *   tanh|x| = E / (E + 2) with E = e^y - 1, y = 2|x| = t ln2 + u (|u| <= ln2 / 2);
 *   e^u = (q + p) / (q - p) by Cephes' exp Padé form, so with d = q - p and s = 2^t,
 *   E = (2 s p + (s - 1) d) / d = A / d, and tanh|x| = A / (A + 2d).
 *
 * A's terms cancel at most mildly (for t = 0 it is 2p, relatively accurate for tiny x): one formula
 * serves the whole range with one division. |x| is clamped to 22, past which tanh is ±1 in
 * doubles, to keep 2^t finite.
 */
export const tanhInto: UnaryKernel = (a, out) => {
  if (backend !== "wasm" || !wasm!.tanh(a, out)) tanhTS(a, out);
};

function tanhTS(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const c = Math.min(Math.abs(x), 22);
    const t = Math.floor(c * 2.8853900817779268 + 0.5); // 2 log2(e): y log2(e), rounded
    const u = (2 * c - t * 6.93145751953125e-1) - t * 1.42860682030941723212e-6; // ln2 in 2 parts
    const uu = u * u;
    // p and q split (Estrin) to shorten the chain of dependent operations
    const p = u + (u * uu) * (1.26177193074810590878e-4 * uu + 3.029944077074419613e-2);
    const q = (3.00198505138664455042e-6 * uu + 2.52448340349684104192e-3) * (uu * uu) +
      (2.27265548208155028766e-1 * uu + 2);
    const d = q - p, s = POW2[t];
    const A = s * (p + p) + (s - 1) * d;
    const r = A / (A + (d + d));
    out[i] = x < 0 ? -r : x === 0 ? x : r; // x === 0 keeps the sign of -0
  }
}

/**
 * `out = op(A) · op(B)`, overwriting the m×n `out`; op transposes when its flag is set and
 * k is the inner dimension. Each output element is summed over p = 0..k-1 in order, so the
 * result does not depend on the blocking (and equals the WASM kernel's bit for bit).
 */
export const gemm: GemmKernel = (a, b, out, m, n, k, transA, transB) => {
  if (backend !== "wasm" || !wasm!.gemm(a, b, out, m, n, k, transA, transB)) {
    gemmTS(a, b, out, m, n, k, transA, transB);
  }
};

const gemmTS: GemmKernel = (a, b, out, m, n, k, transA, transB) => {
  // A(i,p) = a[i * ai + p * ap] and B(p,j) = b[p * bp + j * bj]: one loop nest for all four
  // transpose cases. Blocks of 4 rows × 2 columns keep 8 sums in registers; each step loads
  // 6 numbers for 8 multiply-adds.
  const ai = transA ? 1 : k, ap = transA ? m : 1;
  const bp = transB ? 1 : n, bj = transB ? k : 1;
  const n2 = n - (n & 1);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const o = i * n;
    for (let j = 0; j < n2; j += 2) {
      let c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0, c30 = 0, c31 = 0;
      let x = i * ai, y = j * bj;
      for (let p = 0; p < k; p++) {
        const a0 = a[x], a1 = a[x + ai], a2 = a[x + 2 * ai], a3 = a[x + 3 * ai];
        const b0 = b[y], b1 = b[y + bj];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c30 += a3 * b0;
        c31 += a3 * b1;
        x += ap;
        y += bp;
      }
      out[o + j] = c00;
      out[o + j + 1] = c01;
      out[o + n + j] = c10;
      out[o + n + j + 1] = c11;
      out[o + 2 * n + j] = c20;
      out[o + 2 * n + j + 1] = c21;
      out[o + 3 * n + j] = c30;
      out[o + 3 * n + j + 1] = c31;
    }
  }
  for (; i < m; i++) {
    for (let j = 0; j < n2; j += 2) {
      let c0 = 0, c1 = 0, x = i * ai, y = j * bj;
      for (let p = 0; p < k; p++) {
        const v = a[x];
        c0 += v * b[y];
        c1 += v * b[y + bj];
        x += ap;
        y += bp;
      }
      out[i * n + j] = c0;
      out[i * n + j + 1] = c1;
    }
  }
  if (n2 < n) {
    for (let r = 0; r < m; r++) {
      let s = 0, x = r * ai, y = n2 * bj;
      for (let p = 0; p < k; p++) {
        s += a[x] * b[y];
        x += ap;
        y += bp;
      }
      out[r * n + n2] = s;
    }
  }
};

/** `out` (cols×rows) = transpose of `a` (rows×cols). */
export function transposeInto(a: Float64Array, rows: number, cols: number, out: Float64Array) {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  }
}

/** Sum of all elements, in index order. */
export function sumAll(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Column sums (axis 0) of a rows×cols matrix into `out` (length cols). */
export function sumRows(a: Float64Array, rows: number, cols: number, out: Float64Array): void {
  out.fill(0, 0, cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[j] += a[o + j];
  }
}

/**
 * Row sums (axis 1) of a rows×cols matrix into `out` (length rows), each in index order. Four
 * rows at a time: one running sum waits on its previous addition, four interleave (10x faster
 * on 256x1000).
 */
export function sumCols(a: Float64Array, rows: number, cols: number, out: Float64Array): void {
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const o0 = i * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < cols; j++) {
      s0 += a[o0 + j];
      s1 += a[o1 + j];
      s2 += a[o2 + j];
      s3 += a[o3 + j];
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += a[o + j];
    out[i] = s;
  }
}
