// Raw loops over row-major Float64Arrays: the only place that touches elements in bulk.
// Callers (the op families in lib/autograd/ops/) check shapes first; nothing here validates.
//
// Every loop is written out per op rather than built from a shared closure taking `f`:
// closures made at one site share one feedback vector in V8, so `f` would be a polymorphic
// call per element instead of an inlined expression. gemm, tanh, sqrt, abs, relu, sigmoid,
// softplus, the broadcasting binary ops (arithmetic, maximum and the tanh, sigmoid and relu
// backward rules) and the row maxima run in WebAssembly SIMD (lib/_wasm.ts) where the engine supports
// it; both paths give identical bits, so results never depend on the backend. Transcendentals
// with a WASM twin (tanh, sigmoid, softplus) are computed by our own branch-free algorithms
// on both paths, never by Math.exp or Math.log, whose bits are the engine's.

import type { BinaryKernel, GemmKernel, UnaryKernel } from "./_kernel_types.ts";
import { wasm } from "./_wasm.ts";

export type { BinaryKernel, GemmKernel, UnaryKernel } from "./_kernel_types.ts";

/** Which implementation the kernels with a WASM twin (`gemm`, `tanhInto`, ...) use. */
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

// ---- Element-wise functions, comparisons and selections added with issue 10 ----

/** `out = √a`. */
export const sqrtInto: UnaryKernel = (a, out) => {
  if (backend !== "wasm" || a.length < 32 || !wasm!.unary(0, a, out)) {
    for (let i = 0; i < a.length; i++) out[i] = Math.sqrt(a[i]);
  }
};

/** `out = |a|`. */
export const absInto: UnaryKernel = (a, out) => {
  if (backend !== "wasm" || a.length < 32 || !wasm!.unary(1, a, out)) {
    for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]);
  }
};

/** `out = max(a, 0)`, with NaN staying NaN (as `Math.max` and WASM's `f64x2.max`). */
export const reluInto: UnaryKernel = (a, out) => {
  if (backend !== "wasm" || a.length < 32 || !wasm!.unary(2, a, out)) {
    for (let i = 0; i < a.length; i++) out[i] = Math.max(a[i], 0);
  }
};

/** `out = 1 / (1 + e^-a)`, by {@linkcode sigmoidScalar} (the WASM kernel's algorithm). */
export const sigmoidInto: UnaryKernel = (a, out) => {
  if (backend !== "wasm" || a.length < 32 || !wasm!.unary(3, a, out)) {
    for (let i = 0; i < a.length; i++) out[i] = sigmoidScalar(a[i]);
  }
};

/** `out = ln(1 + e^a)`, by {@linkcode softplusScalar} (the WASM kernel's algorithm). */
export const softplusInto: UnaryKernel = (a, out) => {
  if (backend !== "wasm" || a.length < 32 || !wasm!.unary(4, a, out)) {
    for (let i = 0; i < a.length; i++) out[i] = softplusScalar(a[i]);
  }
};

/** `out = sin a` (TypeScript only: no WASM twin, so `Math.sin` is the one algorithm). */
export function sinInto(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.sin(a[i]);
}

/** `out = cos a` (TypeScript only, as {@linkcode sinInto}). */
export function cosInto(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.cos(a[i]);
}

/** `out = a >= 0 ? 1 : -1`: the slope of |a|, +1 at zero as JAX's `abs` (NaN gives -1). */
export function absSlopeInto(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = a[i] >= 0 ? 1 : -1;
}

// 2^-h for the whole h that e^-c needs (c ≤ 750: h ≤ 541), each exact (halving is).
const POW2NEG = new Float64Array(545);
POW2NEG[0] = 1;
for (let h = 1; h < POW2NEG.length; h++) POW2NEG[h] = POW2NEG[h - 1] / 2;

/**
 * e^-|x|, within 2 ulp of `Math.exp(-Math.abs(x))` for normal results, by the Padé form of
 * Cephes' exp that tanh uses (see {@linkcode tanhInto}), written without branches so that the
 * WASM kernels run it two lanes at a time and give the same bits:
 *
 *   c = min(|x|, 750) = t ln2 + v (|v| <= ln2 / 2); e^-v = 1 - 2p / (q + p);
 *   e^-c = (e^-v · 2^-h) · 2^-(t-h) with h = floor(t / 2), so both powers stay normal and a
 *   result below the smallest normal number rounds gradually down to 0 (c = 750 gives 0).
 */
export function expNegAbs(x: number): number {
  const c = Math.min(Math.abs(x), 750);
  const t = Math.floor(c * 1.4426950408889634 + 0.5); // c log2(e), rounded
  const v = (c - t * 6.93145751953125e-1) - t * 1.42860682030941723212e-6; // ln2 in 2 parts
  const vv = v * v;
  const p = v + (v * vv) * (1.26177193074810590878e-4 * vv + 3.029944077074419613e-2);
  const q = (3.00198505138664455042e-6 * vv + 2.52448340349684104192e-3) * (vv * vv) +
    (2.27265548208155028766e-1 * vv + 2);
  const r = 1 - (p + p) / (q + p);
  const h = Math.floor(t * 0.5);
  return (r * POW2NEG[h]) * POW2NEG[t - h];
}

/** The logistic function 1 / (1 + e^-x), with e^-|x| from {@linkcode expNegAbs}: no overflow. */
export function sigmoidScalar(x: number): number {
  const e = expNegAbs(x), d = 1 + e;
  return x < 0 ? e / d : 1 / d;
}

/**
 * ln(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for every finite x, exact to rounding for
 * large |x| (softplus(1000) = 1000, softplus(-1000) = 0). log1p(e) for e in [0, 1] is fdlibm's
 * (s_log1p.c): 1 + e = 2^k (1 + f) with k = 1 when e >= √2 - 1, s = f / (2 + f), and
 * log1p(f) = f - (f²/2 - s (f²/2 + R(s²))), written with k as a number so that the WASM
 * kernel computes both cases the same way, without branches.
 */
export function softplusScalar(x: number): number {
  const e = expNegAbs(x);
  const k = e >= 0.41421356237309503 ? 1 : 0;
  const f = k === 1 ? (e - 1) * 0.5 : e;
  const hfsq = 0.5 * f * f, s = f / (2 + f), z = s * s;
  const R = z * (6.666666666666735130e-01 + z * (3.999999999940941908e-01 +
        z * (2.857142874366239149e-01 + z * (2.222219843214978396e-01 +
                z * (1.818357216161805012e-01 + z * (1.531383769920937332e-01 +
                        z * 1.479819860511658591e-01))))));
  const log1p = k * 6.93147180369123816490e-01 -
    ((hfsq - (s * (hfsq + R) + k * 1.90821492927058770002e-10)) - f);
  return (x > 0 ? x : 0) + log1p;
}

const maximumRow: RowKernel = (a, ai, as, b, bi, bs, out, o, n) => {
  if (as === 1 && bs === 1) {
    for (let j = 0; j < n; j++) out[o + j] = Math.max(a[ai + j], b[bi + j]);
  } else if (as === 1) {
    const y = b[bi];
    for (let j = 0; j < n; j++) out[o + j] = Math.max(a[ai + j], y);
  } else {
    const x = a[ai];
    for (let j = 0; j < n; j++) out[o + j] = Math.max(x, b[bi + j * bs]);
  }
};

// The backward rule of relu, a > 0 ? g : 0, with a = relu's input and b = g.
const reluGradRow: RowKernel = (a, ai, as, b, bi, bs, out, o, n) => {
  if (as === 1 && bs === 1) {
    for (let j = 0; j < n; j++) out[o + j] = a[ai + j] > 0 ? b[bi + j] : 0;
  } else if (as === 1) {
    const g = b[bi];
    for (let j = 0; j < n; j++) out[o + j] = a[ai + j] > 0 ? g : 0;
  } else {
    const positive = a[ai] > 0;
    for (let j = 0; j < n; j++) out[o + j] = positive ? b[bi + j * bs] : 0;
  }
};

// The backward rule of sigmoid, g * (y * (1 - y)), with a = y and b = g.
const sigmoidGradRow: RowKernel = (a, ai, as, b, bi, bs, out, o, n) => {
  if (as === 1 && bs === 1) {
    for (let j = 0; j < n; j++) {
      const y = a[ai + j];
      out[o + j] = b[bi + j] * (y * (1 - y));
    }
  } else if (as === 1) {
    const g = b[bi];
    for (let j = 0; j < n; j++) {
      const y = a[ai + j];
      out[o + j] = g * (y * (1 - y));
    }
  } else {
    const y = a[ai], d = y * (1 - y);
    for (let j = 0; j < n; j++) out[o + j] = b[bi + j * bs] * d;
  }
};

/** `out = b * (a (1 - a))` (a = sigmoid's output, b = the incoming gradient), broadcasting. */
export const sigmoidGradInto: BinaryKernel = binaryKernel(7, sigmoidGradRow, false);
/** `out = max(a, b)`, broadcasting; NaN if either is NaN, and max(-0, 0) = 0. */
export const maximumInto: BinaryKernel = binaryKernel(5, maximumRow, true);
/** `out = a > 0 ? b : 0` (a = relu's input, b = the incoming gradient), broadcasting. */
export const reluGradInto: BinaryKernel = binaryKernel(6, reluGradRow, false);

// Comparisons and the tie weights of maximum: cold paths, so one generic loop serves them.
function compareRow(f: (x: number, y: number) => number): RowKernel {
  return (a, ai, as, b, bi, bs, out, o, n) => {
    for (let j = 0; j < n; j++) out[o + j] = f(a[ai + j * as], b[bi + j * bs]);
  };
}

const greaterRow = compareRow((x, y) => x > y ? 1 : 0);
const lessRow = compareRow((x, y) => x < y ? 1 : 0);
const equalRow = compareRow((x, y) => x === y ? 1 : 0);
const maxWeightRow = compareRow((x, y) => x > y ? 1 : x === y ? 0.5 : 0);

/** `out = a > b ? 1 : 0`, broadcasting. */
export const greaterInto: BinaryKernel = (...args) => broadcast(greaterRow, ...args);
/** `out = a < b ? 1 : 0`, broadcasting. */
export const lessInto: BinaryKernel = (...args) => broadcast(lessRow, ...args);
/** `out = a === b ? 1 : 0`, broadcasting. */
export const equalInto: BinaryKernel = (...args) => broadcast(equalRow, ...args);
/**
 * `out` = the share of max(a, b)'s slope that goes to a: 1 where a > b, 0.5 at ties (as JAX),
 * 0 where a < b; b's share is 1 minus it. Broadcasting.
 */
export const maxWeightInto: BinaryKernel = (...args) => broadcast(maxWeightRow, ...args);

/** A matrix shape with its data, for the three-way broadcast of {@linkcode whereInto}. */
export interface Operand {
  data: Float64Array;
  rows: number;
  cols: number;
}

/** `out = cond ≠ 0 ? a : b` over rows×cols, each operand broadcast from its own shape. */
export function whereInto(
  cond: Operand,
  a: Operand,
  b: Operand,
  out: Float64Array,
  rows: number,
  cols: number,
): void {
  const at = (m: Operand, i: number, j: number) =>
    m.data[(m.rows === 1 ? 0 : i) * m.cols + (m.cols === 1 ? 0 : j)];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      out[i * cols + j] = at(cond, i, j) !== 0 ? at(a, i, j) : at(b, i, j);
    }
  }
}

/**
 * Row maxima (axis 1) of a rows×cols matrix into `out` (length rows); NaN where a row holds
 * a NaN. The WASM kernel takes two columns at a time: max is exact and order-free, so the
 * bits are the same.
 */
export function maxCols(a: Float64Array, rows: number, cols: number, out: Float64Array): void {
  if (backend === "wasm" && rows * cols >= 32 && wasm!.maxCols(a, rows, cols, out)) return;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, a[o + j]);
    out[i] = m;
  }
}

/** Column maxima (axis 0) of a rows×cols matrix into `out` (length cols). */
export function maxRows(a: Float64Array, rows: number, cols: number, out: Float64Array): void {
  out.fill(-Infinity, 0, cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[j] = Math.max(out[j], a[o + j]);
  }
}

/** The largest element (NaN if any is NaN; -Infinity for none). */
export function maxAll(a: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, a[i]);
  return m;
}

/**
 * The slope of a max reduction: `out(i,j) = [a(i,j) = m] / (ties in its row or column)`,
 * where `m` is the maximum it was reduced to (rows×1 for axis 1, 1×cols for axis 0, one
 * number for all), so that tied maxima share the gradient equally.
 */
export function maxSlopeInto(
  a: Float64Array,
  rows: number,
  cols: number,
  m: Float64Array,
  axis: 0 | 1 | undefined,
  out: Float64Array,
): void {
  const at = (i: number, j: number) => axis === 1 ? m[i] : axis === 0 ? m[j] : m[0];
  const count = new Float64Array(axis === 1 ? rows : axis === 0 ? cols : 1);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const tie = a[i * cols + j] === at(i, j);
      out[i * cols + j] = tie ? 1 : 0;
      if (tie) count[axis === 1 ? i : axis === 0 ? j : 0]++;
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      out[i * cols + j] /= count[axis === 1 ? i : axis === 0 ? j : 0];
    }
  }
}

/**
 * Index of the largest element of each row (axis 1, into rows×1), of each column (axis 0,
 * into 1×cols), or of the whole matrix in row-major order (one number): the first on ties and
 * the first NaN if there is one, as numpy's argmax. `sign` -1 gives argmin.
 */
export function argmaxInto(
  a: Float64Array,
  rows: number,
  cols: number,
  axis: 0 | 1 | undefined,
  sign: 1 | -1,
  out: Float64Array,
): void {
  const [outer, inner, so, si] = axis === 1
    ? [rows, cols, cols, 1]
    : axis === 0
    ? [cols, rows, 1, cols]
    : [1, rows * cols, 0, 1];
  for (let o = 0; o < outer; o++) {
    let best = 0, value = sign * a[o * so];
    for (let i = 1; i < inner && value === value; i++) {
      const x = sign * a[o * so + i * si];
      if (x > value || x !== x) [best, value] = [i, x];
    }
    out[o] = best;
  }
}
