// Raw loops for the shape ops (block copies, row gathers and scatters) and for linear algebra
// (LU with partial pivoting, Cholesky, triangular solves), on row-major Float64Arrays.

/** Where a block sits in a row-major matrix: its storage, row length and top-left corner. */
export interface Block {
  data: Float64Array;
  cols: number;
  row: number;
  col: number;
}

/** Copies a `rows`×`cols` block from `src` to `dst`. */
export function copyBlock(src: Block, dst: Block, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const s = (src.row + i) * src.cols + src.col;
    const d = (dst.row + i) * dst.cols + dst.col;
    dst.data.set(src.data.subarray(s, s + cols), d);
  }
}

/** `out` row i = `a` row `indices[i]` (rows of length `cols`). */
export function gatherRowsInto(
  a: Float64Array,
  cols: number,
  indices: Int32Array,
  out: Float64Array,
): void {
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i] * cols;
    out.set(a.subarray(s, s + cols), i * cols);
  }
}

/** `out` = zeros, then `out` row `indices[i]` += `g` row i, in order of i (so deterministic). */
export function scatterAddRowsInto(
  g: Float64Array,
  cols: number,
  indices: Int32Array,
  out: Float64Array,
): void {
  out.fill(0);
  for (let i = 0; i < indices.length; i++) {
    const d = indices[i] * cols, s = i * cols;
    for (let j = 0; j < cols; j++) out[d + j] += g[s + j];
  }
}

/** An LU factorization with partial pivoting, `P·A = L·U`, packed in one n×n array. */
export interface LU {
  n: number;
  /** Unit lower `L` below the diagonal, `U` on and above it. */
  lu: Float64Array;
  /** Row `i` of `P·A` is row `perm[i]` of `A`. */
  perm: Int32Array;
  /** The permutation's sign, ±1. */
  sign: number;
  /** The first column whose pivot is exactly zero (the matrix is singular), or -1. */
  zeroPivot: number;
}

/** Factors the n×n matrix `a` (Doolittle, partial pivoting by largest magnitude). */
export function luFactor(a: Float64Array, n: number): LU {
  const lu = a.slice(0, n * n);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let sign = 1, zeroPivot = -1;
  for (let k = 0; k < n; k++) {
    let p = k, best = Math.abs(lu[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]);
      if (v > best) (best = v, p = i);
    }
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j];
        lu[k * n + j] = lu[p * n + j];
        lu[p * n + j] = t;
      }
      const t = perm[k];
      perm[k] = perm[p];
      perm[p] = t;
      sign = -sign;
    }
    const pivot = lu[k * n + k];
    if (pivot === 0) {
      if (zeroPivot < 0) zeroPivot = k;
      continue;
    }
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k] /= pivot);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j] -= f * lu[k * n + j];
    }
  }
  return { n, lu, perm, sign, zeroPivot };
}

/**
 * `out` (n×m) = `A⁻¹·b`, or `A⁻ᵀ·b` when `trans`, from a non-singular factorization of `A`.
 * `out` may not alias `b`.
 */
export function luSolveInto(
  f: LU,
  b: Float64Array,
  m: number,
  trans: boolean,
  out: Float64Array,
): void {
  const { n, lu, perm } = f;
  if (!trans) {
    // P·A = L·U: solve L·y = P·b, then U·x = y.
    for (let i = 0; i < n; i++) out.set(b.subarray(perm[i] * m, perm[i] * m + m), i * m);
    lowerSolve(lu, n, out, m, true);
    upperSolve(lu, n, out, m);
    return;
  }
  // Aᵀ = Uᵀ·Lᵀ·P: solve Uᵀ·z = b, Lᵀ·w = z, then x = Pᵀ·w.
  const w = b.slice(0, n * m);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const u = lu[k * n + i];
      if (u !== 0) { for (let j = 0; j < m; j++) w[i * m + j] -= u * w[k * m + j]; }
    }
    const d = lu[i * n + i];
    for (let j = 0; j < m; j++) w[i * m + j] /= d;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const l = lu[k * n + i];
      if (l !== 0) { for (let j = 0; j < m; j++) w[i * m + j] -= l * w[k * m + j]; }
    }
  }
  for (let i = 0; i < n; i++) out.set(w.subarray(i * m, i * m + m), perm[i] * m);
}

/** In place, `x = L⁻¹·x` for the lower triangle of `t` (unit diagonal when `unit`). */
function lowerSolve(t: Float64Array, n: number, x: Float64Array, m: number, unit: boolean) {
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const l = t[i * n + k];
      if (l !== 0) { for (let j = 0; j < m; j++) x[i * m + j] -= l * x[k * m + j]; }
    }
    if (!unit) {
      const d = t[i * n + i];
      for (let j = 0; j < m; j++) x[i * m + j] /= d;
    }
  }
}

/** In place, `x = U⁻¹·x` for the upper triangle of `t`. */
function upperSolve(t: Float64Array, n: number, x: Float64Array, m: number) {
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const u = t[i * n + k];
      if (u !== 0) { for (let j = 0; j < m; j++) x[i * m + j] -= u * x[k * m + j]; }
    }
    const d = t[i * n + i];
    for (let j = 0; j < m; j++) x[i * m + j] /= d;
  }
}

/**
 * The lower Cholesky factor of the symmetric part `(a + aᵀ)/2` of the n×n matrix `a` into
 * `out` (upper triangle zeroed). Returns -1, or the first row whose pivot is not positive
 * (then `pivots[0]` holds its value and `out` is incomplete).
 */
export function choleskyInto(
  a: Float64Array,
  n: number,
  out: Float64Array,
  pivots: Float64Array,
): number {
  out.fill(0);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= out[j * n + k] * out[j * n + k];
    if (!(d > 0)) {
      pivots[0] = d;
      return j;
    }
    const ljj = Math.sqrt(d);
    out[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = (a[i * n + j] + a[j * n + i]) / 2;
      for (let k = 0; k < j; k++) s -= out[i * n + k] * out[j * n + k];
      out[i * n + j] = s / ljj;
    }
  }
  return -1;
}

/**
 * `out` (n×m) = `op(T)⁻¹·b` for the lower (or upper) triangle `T` of the n×n `t`, where
 * `op(T)` is `Tᵀ` when `trans`. Returns -1, or the first zero on the diagonal (singular).
 */
export function triangularSolveInto(
  t: Float64Array,
  n: number,
  lower: boolean,
  trans: boolean,
  b: Float64Array,
  m: number,
  out: Float64Array,
): number {
  for (let i = 0; i < n; i++) if (t[i * n + i] === 0) return i;
  out.set(b.subarray(0, n * m));
  const at = trans
    ? (i: number, k: number) => t[k * n + i]
    : (i: number, k: number) => t[i * n + k];
  // op(T) is lower when exactly one of `lower` and `trans` holds: forward substitution.
  const forward = lower !== trans;
  for (let s = 0; s < n; s++) {
    const i = forward ? s : n - 1 - s;
    for (let r = 0; r < s; r++) {
      const k = forward ? r : n - 1 - r;
      const v = at(i, k);
      if (v !== 0) { for (let j = 0; j < m; j++) out[i * m + j] -= v * out[k * m + j]; }
    }
    const d = at(i, i);
    for (let j = 0; j < m; j++) out[i * m + j] /= d;
  }
  return -1;
}
