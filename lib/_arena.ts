// The one owner of scratch memory: where op results live inside `withScratch`, and how long.
//
// Lifetime rule: inside the outermost `withScratch(f)` call, every matrix an op creates (the
// result of `f` and its gradients included) is a view on one memory that the *next outermost*
// `withScratch` call reuses. Such a matrix is valid until that next call begins; copy out
// what you keep. Nested calls share the outer call's memory. Outside `withScratch`, ops get
// fresh memory as usual.
//
// Why: a fresh Float64Array costs ~0.5 µs plus zeroing cold memory (a quarter of the seed
// step, measured), and a training step's intermediates all die together. The scratch memory
// is sized to the largest scope seen, so after the first step a loop allocates no matrix
// memory. Where WASM runs, the scratch sits at the start of the kernels' resident memory
// (lib/_wasm.ts), so the WASM kernels read and write scratch matrices in place. Every kernel
// writes its whole output, so the reused memory needs no zeroing.

import { Matrix } from "./matrix.ts";
import { even, residentSpace as resident } from "./_wasm.ts";

// Without WASM, scratch matrices live in a plain buffer, replaced (never grown) when too small.
let fallback = new Float64Array(0);
let depth = 0; // nesting of withScratch calls
let cap = 0, used = 0; // doubles at the start of the scratch memory
let wanted = 0; // what the current scope asked for, in doubles

/** Starts an outermost scope: reuses the memory, grown first to what the last scope wanted. */
function begin(): void {
  const next = Math.max(cap, wanted);
  try {
    if (resident !== undefined) {
      resident.reserve(next + resident.wantWork);
      resident.reserved = next;
    } else if (fallback.length < next) fallback = new Float64Array(next);
    cap = next;
  } catch {
    // Out of (WASM) memory: keep the old size; what does not fit is allocated as usual.
    if (resident !== undefined) resident.wantWork = 0;
  }
  used = wanted = 0;
}

/** Storage for `n` doubles from the scratch memory, or undefined when it is full. */
function take(n: number): Float64Array | undefined {
  const at = takeAt(n);
  if (at < 0) return undefined;
  return (resident === undefined ? fallback : resident.heap).subarray(at, at + n);
}

/** The offset in doubles of `n` doubles of scratch memory, or -1 when it is full. */
function takeAt(n: number): number {
  const size = even(n);
  wanted += size;
  if (used + size > cap) return -1;
  used += size;
  return used - size;
}

/**
 * @internal A matrix for an op's result, every element of which the caller will write: in
 * scratch memory inside {@linkcode withScratch}, else freshly allocated.
 *
 * @example
 * ```ts
 * import { alloc } from "./_arena.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(alloc(2, 3).shape, [2, 3]);
 * ```
 */
export function alloc(rows: number, cols: number): Matrix {
  if (replay !== undefined) return replayed(rows, cols);
  const m = new Matrix(
    rows,
    cols,
    depth > 0 && recorded === undefined ? take(rows * cols) : undefined,
  );
  recorded?.push(m);
  return m;
}

// A jit plan (lib/autograd/_plan.ts) runs primitives' forwards unchanged: it records the
// matrices each forward allocates once, lays them out in its own buffers, then hands the
// same matrices back, in the same order, on every call.
let recorded: Matrix[] | undefined;
let replay: readonly Matrix[] | undefined, next = 0;

function replayed(rows: number, cols: number): Matrix {
  const m = replay![next++];
  if (m === undefined || m.rows !== rows || m.cols !== cols) {
    throw new Error(`jit: a primitive allocated ${rows}x${cols} out of the order it was traced in`);
  }
  return m;
}

/**
 * @internal Records every matrix `alloc` makes during `f` (fresh memory, never scratch) into
 * `into`, for a jit plan to learn what each primitive's forward allocates.
 */
export function recordAllocs<T>(into: Matrix[], f: () => T): T {
  const [outerRecorded, outerReplay] = [recorded, replay];
  recorded = into;
  replay = undefined;
  try {
    return f();
  } finally {
    [recorded, replay] = [outerRecorded, outerReplay];
  }
}

/**
 * @internal Makes `alloc` return `matrices` in order from index `from` (a jit plan's
 * preallocated buffers) until
 * {@linkcode endReplay}; calls do not nest.
 */
export function beginReplay(matrices: readonly Matrix[], from = 0): void {
  replay = matrices;
  next = from;
}

/** @internal Ends {@linkcode beginReplay}. */
export function endReplay(): void {
  replay = undefined;
}

/**
 * @internal Inside {@linkcode withScratch}: the offset in doubles, in {@linkcode scratchHeap},
 * of `n` doubles of scratch memory for the current scope (a jit plan's buffers), or -1 when
 * outside a scope or the memory is full this time (it grows for the next scope).
 */
export function takeScratch(n: number): number {
  return depth === 0 ? -1 : takeAt(n);
}

/** @internal The memory {@linkcode takeScratch} offsets point into (it changes as it grows). */
export function scratchHeap(): Float64Array {
  return resident === undefined ? fallback : resident.heap;
}

/**
 * @internal Runs `f` with op results placed in reused scratch memory, for hot loops such as a
 * training step: every matrix the ops create during `f` (its result and gradients included)
 * is valid only until the next outermost `withScratch` call begins, so copy out what you keep.
 * Nested calls share the outer call's memory.
 *
 * @example
 * ```ts
 * import { withScratch } from "./_arena.ts";
 * import { add, Matrix } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const x = Matrix.from([[1, 2]]);
 * const kept = withScratch(() => (add(x, 1) as Matrix).toArray()); // copied out
 * withScratch(() => add(x, 10)); // reuses the memory of the first call's result
 * assert.deepEqual(kept, [[2, 3]]);
 * ```
 */
export function withScratch<T>(f: () => T): T {
  if (depth === 0) begin();
  depth++;
  try {
    return f();
  } finally {
    depth--;
  }
}
