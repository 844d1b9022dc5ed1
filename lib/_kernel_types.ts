// The kernel signatures, stated once for the TypeScript loops (lib/_kernels.ts) and the WASM
// kernels (lib/_wasm.ts) that implement them.

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
 * `out = op(A) · op(B)` into the m×n `out`; op transposes when its flag is set and k is the
 * inner dimension.
 */
export type GemmKernel = (
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
) => void;

/** Element-wise unary kernel: `out[i] = f(a[i])` over the whole of `a`. */
export type UnaryKernel = (a: Float64Array, out: Float64Array) => void;

/** A WASM version of a kernel: the same arguments, false (having done nothing) if it cannot run. */
export type Fallible<K extends (...args: never[]) => void> = (...args: Parameters<K>) => boolean;
