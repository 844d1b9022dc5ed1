// Raw loops over row-major Float64Arrays: the only place that touches elements in bulk.
// Callers (lib/autograd/ops.ts) check shapes first; nothing here validates.

/** Element-wise binary kernel with numpy broadcasting of (r,c) against (r,1), (1,c), (1,1). */
export type BinaryKernel = (
  a: Float64Array,
  aRows: number,
  aCols: number,
  b: Float64Array,
  bRows: number,
  bCols: number,
  out: Float64Array,
  rows: number,
  cols: number,
) => void;

/**
 * Makes a broadcasting kernel for `f`. Each kernel is its own closure, so V8 sees one `f` at
 * its call site and inlines it.
 */
export function makeBinaryKernel(f: (x: number, y: number) => number): BinaryKernel {
  return (a, aRows, aCols, b, bRows, bCols, out, rows, cols) => {
    const n = rows * cols;
    if (aRows === rows && aCols === cols && bRows === rows && bCols === cols) {
      for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
      return;
    }
    if (bRows === 1 && bCols === 1 && aRows === rows && aCols === cols) {
      const y = b[0];
      for (let i = 0; i < n; i++) out[i] = f(a[i], y);
      return;
    }
    if (aRows === 1 && aCols === 1 && bRows === rows && bCols === cols) {
      const x = a[0];
      for (let i = 0; i < n; i++) out[i] = f(x, b[i]);
      return;
    }
    const aRowStep = aRows === 1 ? 0 : aCols, aColStep = aCols === 1 ? 0 : 1;
    const bRowStep = bRows === 1 ? 0 : bCols, bColStep = bCols === 1 ? 0 : 1;
    let o = 0;
    for (let i = 0; i < rows; i++) {
      const ai = i * aRowStep, bi = i * bRowStep;
      for (let j = 0; j < cols; j++) out[o++] = f(a[ai + j * aColStep], b[bi + j * bColStep]);
    }
  };
}

/** Element-wise unary kernel. */
export type UnaryKernel = (a: Float64Array, out: Float64Array) => void;

/** Makes an element-wise kernel for `f` (one closure per op, as for binary kernels). */
export function makeUnaryKernel(f: (x: number) => number): UnaryKernel {
  return (a, out) => {
    for (let i = 0; i < a.length; i++) out[i] = f(a[i]);
  };
}

/**
 * `out = op(A) · op(B)` where op transposes when the flag is set; `out` is m×n and zeroed,
 * the inner dimension is k. Each case walks memory contiguously in its innermost loop.
 */
export function gemm(
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  if (!transA && !transB) {
    // A m×k, B k×n: row i of out accumulates A[i,p] * row p of B.
    for (let i = 0; i < m; i++) {
      const o = i * n;
      for (let p = 0; p < k; p++) {
        const x = a[i * k + p], bp = p * n;
        for (let j = 0; j < n; j++) out[o + j] += x * b[bp + j];
      }
    }
  } else if (!transA && transB) {
    // A m×k, B n×k: dot products of rows.
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
        out[i * n + j] = s;
      }
    }
  } else if (transA && !transB) {
    // A k×m, B k×n: for each p, out += outer(A[p,:], B[p,:]).
    for (let p = 0; p < k; p++) {
      const ap = p * m, bp = p * n;
      for (let i = 0; i < m; i++) {
        const x = a[ap + i], o = i * n;
        for (let j = 0; j < n; j++) out[o + j] += x * b[bp + j];
      }
    }
  } else {
    // A k×m, B n×k.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
        out[i * n + j] = s;
      }
    }
  }
}

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

/** Column sums (axis 0) of a rows×cols matrix into `out` (length cols, zeroed). */
export function sumRows(a: Float64Array, rows: number, cols: number, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[j] += a[o + j];
  }
}

/** Row sums (axis 1) of a rows×cols matrix into `out` (length rows). */
export function sumCols(a: Float64Array, rows: number, cols: number, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += a[o + j];
    out[i] = s;
  }
}
