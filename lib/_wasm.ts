// The WebAssembly SIMD kernels and the memory they work in, which also holds scratch matrices.

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
}

/** The kernels, copying operands in and out of WASM memory unless they already live there. */
export interface WasmKernels {
  /** As `gemm` in lib/_kernels.ts. */
  gemm(
    a: Float64Array,
    b: Float64Array,
    out: Float64Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): void;
  /** As `tanhInto` in lib/_kernels.ts. */
  tanh(a: Float64Array, out: Float64Array): void;
}

/** One instance of the module with its own memory, viewed as doubles. */
class Space {
  heap: Float64Array;
  constructor(readonly exports: Exports) {
    this.heap = new Float64Array(exports.memory.buffer);
  }
  /** Grows the memory to at least `doubles`; this detaches every view of the old memory. */
  reserve(doubles: number): void {
    if (doubles > this.heap.length) {
      this.exports.memory.grow(Math.ceil((doubles - this.heap.length) / 8192)); // 8192 a page
      this.heap = new Float64Array(this.exports.memory.buffer);
    }
  }
  /** Where `x` starts in this memory, in doubles, or -1 if it lives elsewhere. */
  offsetOf(x: Float64Array): number {
    return x.buffer === this.heap.buffer ? x.byteOffset / 8 : -1;
  }
}

// Two instances. "resident" holds the scratch matrices of withScratch (lib/autograd/ops.ts)
// from offset 0, then workspace; it grows only in scratchBegin, when by contract no scratch
// matrix is in use, so views of it stay valid. "staging" takes the calls whose operands do not
// fit in the resident workspace, copying everything, and grows whenever it needs to.
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

// Without WASM, scratch matrices live in a plain buffer, replaced (never grown) when too small.
let arena = new Float64Array(0);
let scratchCap = 0, scratchUsed = 0; // doubles at the start of the scratch memory
let wantScratch = 0, wantWork = 0; // what the current scratch scope asked for, in doubles

// Offsets in doubles are kept even so that vectors stay 16-byte aligned; the tanh kernel may
// read and write one double past an odd length, into that padding.
const even = (x: number) => x + (x & 1);

/**
 * Starts a scratch scope: earlier scratch matrices become invalid and the memory is reused,
 * grown first to what the previous scope wanted.
 */
export function scratchBegin(): void {
  scratchCap = Math.max(scratchCap, wantScratch);
  if (resident !== undefined) resident.reserve(scratchCap + wantWork);
  else if (arena.length < scratchCap) arena = new Float64Array(scratchCap);
  scratchUsed = wantScratch = 0;
}

/** Storage for `n` doubles from the scratch memory, or undefined when it is full. */
export function scratchAlloc(n: number): Float64Array | undefined {
  const size = even(n);
  wantScratch += size;
  if (scratchUsed + size > scratchCap) return undefined;
  const heap = resident === undefined ? arena : resident.heap;
  const view = heap.subarray(scratchUsed, scratchUsed + n);
  scratchUsed += size;
  return view;
}

// Keep in step with $MC and $KC in the .wat: gemm's packing buffers.
const MC = 64, KC = 256;
const gemmWork = (n: number) => MC * KC + KC * (n + 7) + 16;

/** Places `x` in `space` at `at` unless it already lives there; returns its offset. */
function place(space: Space, x: Float64Array, at: number): number {
  const offset = space.offsetOf(x);
  if (offset >= 0) return offset;
  space.heap.set(x, at);
  return at;
}

function gemm(
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  let space = resident!, base = scratchCap;
  const copies = (space.offsetOf(a) < 0 ? even(m * k) : 0) +
    (space.offsetOf(b) < 0 ? even(k * n) : 0) + (space.offsetOf(out) < 0 ? even(m * n) : 0);
  const need = copies + gemmWork(n);
  if (base + need > space.heap.length) {
    wantWork = Math.max(wantWork, need);
    space = staging!;
    base = 0;
    space.reserve(even(m * k) + even(k * n) + even(m * n) + gemmWork(n));
  }
  const pa = place(space, a, base);
  if (pa === base) base += even(m * k);
  const pb = place(space, b, base);
  if (pb === base) base += even(k * n);
  let pc = space.offsetOf(out);
  if (pc < 0) [pc, base] = [base, base + even(m * n)];
  space.exports.gemm(m, n, k, pa * 8, +transA, pb * 8, +transB, pc * 8, base * 8);
  if (out.buffer !== space.heap.buffer) out.set(space.heap.subarray(pc, pc + m * n));
}

function tanh(a: Float64Array, out: Float64Array): void {
  const n = a.length;
  let space = resident!, base = scratchCap;
  const need = (space.offsetOf(a) < 0 ? even(n) : 0) + (space.offsetOf(out) < 0 ? even(n) : 0);
  if (base + need > space.heap.length) {
    wantWork = Math.max(wantWork, need);
    space = staging!;
    base = 0;
    space.reserve(2 * even(n));
  }
  const px = place(space, a, base);
  if (px === base) base += even(n);
  let po = space.offsetOf(out);
  if (po < 0) po = base;
  space.exports.tanh(px * 8, po * 8, n);
  if (out.buffer !== space.heap.buffer) out.set(space.heap.subarray(po, po + n));
}

/** The WASM kernels, or `undefined` when this engine cannot run them. */
export const wasm: WasmKernels | undefined = resident === undefined ? undefined : { gemm, tanh };
