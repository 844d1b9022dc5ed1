// The WebAssembly SIMD kernels and the memory they work in; lib/_arena.ts keeps its scratch
// matrices at the start of that memory so that the kernels use them in place.

import type { BinaryKernel, Fallible, GemmKernel, UnaryKernel } from "./_kernel_types.ts";
import { WASM_BASE64 } from "./_wasm_bytes.ts";

/** Entry points of lib/_wasm_kernels.wat; pointers are byte offsets into `memory`. */
interface Exports {
  memory: WebAssembly.Memory;
  gemm(
    m: number,
    n: number,
    k: number,
    a: number,
    transA: number,
    b: number,
    transB: number,
    c: number,
    work: number,
  ): void;
  tanh(x: number, out: number, n: number): void;
  unary(op: number, x: number, out: number, n: number): void;
  maxCols(a: number, rows: number, cols: number, out: number): void;
  binary(
    op: number,
    a: number,
    aRow: number,
    b: number,
    bRow: number,
    bStep: number,
    out: number,
    rows: number,
    cols: number,
  ): void;
}

/**
 * The kernels, copying operands in and out of WASM memory unless they already live there. Each
 * returns false, doing nothing, when it cannot run (operands too big for WASM memory).
 */
export interface WasmKernels {
  /** As `gemm` in lib/_kernels.ts. */
  gemm: Fallible<GemmKernel>;
  /** As `tanhInto` in lib/_kernels.ts. */
  tanh: Fallible<UnaryKernel>;
  /**
   * As the BinaryKernels of lib/_kernels.ts (op 0 add, 1 sub, 2 mul, 3 div, 4 tanhGrad,
   * 5 maximum, 6 reluGrad, 7 sigmoidGrad), when
   * `a` has the output's shape (else it returns false).
   */
  binary(op: number, ...args: Parameters<BinaryKernel>): boolean;
  /**
   * As the UnaryKernels `sqrtInto` (op 0), `absInto` (1), `reluInto` (2), `sigmoidInto` (3)
   * and `softplusInto` (4) of lib/_kernels.ts.
   */
  unary(op: number, ...args: Parameters<UnaryKernel>): boolean;
  /** As `maxCols` in lib/_kernels.ts: the maximum of each row. */
  maxCols(a: Float64Array, rows: number, cols: number, out: Float64Array): boolean;
}

/** One instance of the module with its own memory, viewed as doubles. */
export class Space {
  heap: Float64Array;
  /** The memory's current buffer, kept because reading `.buffer` costs ~10 ns. */
  buffer: ArrayBufferLike;
  /** Doubles at the start of the memory that lib/_arena.ts owns; kernel workspace follows. */
  reserved = 0;
  /** The most workspace a call wanted but did not find, so the arena can grow to it. */
  wantWork = 0;
  constructor(readonly exports: Exports) {
    this.heap = new Float64Array(exports.memory.buffer);
    this.buffer = this.heap.buffer;
  }
  /** Grows the memory to at least `doubles`; this detaches every view of the old memory. */
  reserve(doubles: number): void {
    if (doubles > this.heap.length) {
      this.exports.memory.grow(Math.ceil((doubles - this.heap.length) / 8192)); // 8192 a page
      this.heap = new Float64Array(this.exports.memory.buffer);
      this.buffer = this.heap.buffer;
    }
  }
}

// Two instances. "resident" holds the arena's scratch matrices from offset 0 (lib/_arena.ts
// grows it only when by contract no scratch matrix is in use, so views of it stay valid), then
// workspace. "staging" takes the calls whose operands do not fit in the resident workspace,
// copying everything, and grows whenever it needs to.
let resident: Space | undefined, staging: Space | undefined;
try {
  const binary = atob(WASM_BASE64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  // Compiling throws where SIMD is unsupported (an old engine, or one with SIMD disabled).
  const module = new WebAssembly.Module(bytes);
  const instance = () => new WebAssembly.Instance(module).exports as unknown as Exports;
  [resident, staging] = [new Space(instance()), new Space(instance())];
} catch {
  [resident, staging] = [undefined, undefined];
}

/** @internal The memory the arena places scratch matrices in, or undefined without WASM. */
export const residentSpace: Space | undefined = resident;

/** Offsets in doubles are kept even so that vectors stay 16-byte aligned (see tanh). */
export const even = (x: number): number => x + (x & 1);

// Keep in step with $MC and $KC in the .wat: gemm's packing buffers.
const MC = 64, KC = 256;
const gemmWork = (n: number) => MC * KC + KC * (n + 7) + 16;

/**
 * Runs a kernel on `a` (and `b`) into `out` with `work` doubles of workspace: in the resident
 * memory if what must be copied there fits its workspace (scratch matrices are used in place),
 * else in the staging memory. The kernel gets byte offsets. Returns false, having done
 * nothing, if the staging memory cannot grow enough (a 32-bit memory holds 4 GiB at most).
 */
function run(
  a: Float64Array,
  b: Float64Array | undefined,
  out: Float64Array,
  work: number,
  kernel: (e: Exports, pa: number, pb: number, po: number, pw: number) => void,
): boolean {
  let space = resident!, base = space.reserved;
  // Which operands already live in the resident memory (each `.buffer` read once: ~10 ns).
  let inA = a.buffer === space.buffer, inB = b !== undefined && b.buffer === space.buffer;
  let inOut = out.buffer === space.buffer;
  const need = (inA ? 0 : even(a.length)) + (b === undefined || inB ? 0 : even(b.length)) +
    (inOut ? 0 : even(out.length)) + work;
  if (base + need > space.heap.length) {
    space.wantWork = Math.max(space.wantWork, need);
    space = staging!;
    base = 0;
    inA = inB = inOut = false;
    try {
      space.reserve(even(a.length) + even(b?.length ?? 0) + even(out.length) + work);
    } catch {
      return false;
    }
  }
  const heap = space.heap;
  let pa = a.byteOffset / 8, pb = 0, po = out.byteOffset / 8;
  if (!inA) {
    heap.set(a, pa = base);
    base += even(a.length);
  }
  if (b !== undefined) {
    pb = b.byteOffset / 8;
    if (!inB) {
      heap.set(b, pb = base);
      base += even(b.length);
    }
  }
  if (!inOut) {
    po = base;
    base += even(out.length);
  }
  kernel(space.exports, pa * 8, pb * 8, po * 8, base * 8);
  if (!inOut) out.set(heap.subarray(po, po + out.length));
  return true;
}

const gemm: Fallible<GemmKernel> = (a, b, out, m, n, k, transA, transB) =>
  run(a, b, out, gemmWork(n), (e, pa, pb, po, pw) => {
    e.gemm(m, n, k, pa, +transA, pb, +transB, po, pw);
  });

const tanh: Fallible<UnaryKernel> = (a, out) =>
  run(a, undefined, out, 0, (e, pa, _, po) => e.tanh(pa, po, a.length));

const unary: WasmKernels["unary"] = (op, a, out) =>
  run(a, undefined, out, 0, (e, pa, _, po) => e.unary(op, pa, po, a.length));

const maxCols: WasmKernels["maxCols"] = (a, rows, cols, out) =>
  run(a, undefined, out, 0, (e, pa, _, po) => e.maxCols(pa, rows, cols, po));

const binary: WasmKernels["binary"] = (op, a, aRows, aCols, b, bRows, bCols, out, rows, cols) => {
  if (aRows !== rows || aCols !== cols) return false;
  // b (r,c) or (1,1): one long row; (r,1): a number per row; (1,c): one row repeated.
  const scalar = bRows === 1 && bCols === 1, flat = scalar || (bRows === rows && bCols === cols);
  const bStep = scalar || (!flat && bCols === 1) ? 0 : 8;
  const bRow = flat || bRows === 1 ? 0 : 8 * bCols;
  const [r, c] = flat ? [1, rows * cols] : [rows, cols];
  return run(a, b, out, 0, (e, pa, pb, po) => e.binary(op, pa, 8 * c, pb, bRow, bStep, po, r, c));
};

/** The WASM kernels, or `undefined` when this engine cannot run them. */
export const wasm: WasmKernels | undefined = resident === undefined
  ? undefined
  : { gemm, tanh, binary, unary, maxCols };
