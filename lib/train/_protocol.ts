// The shared-memory protocol of the data-parallel step: control slots, run buffers, messages.

import { Matrix, type SharedMatrixHandle } from "../matrix.ts";
import type { Tensor } from "../autograd/tracer.ts";

/** Control block slots (an `Int32Array`): the barrier of the data-parallel step. */
export const GEN = 0; // bumped by the main thread to start a step (or to release workers on stop)
export const FINISHED = 1; // set to 1 by whichever thread completes the batch gradient
export const STOP = 2; // set once: workers leave their loop
export const NEXT = 3; // the next unclaimed shard of the step
export const RUNNING = 4; // slot RUNNING + i is 1 while thread i runs, 0 once it has left its loop

/** Slot of the control block holding 1 + the shard thread `index` is computing, or 0. */
export function busySlot(buffers: Buffers, index: number): number {
  return RUNNING + buffers.threads + index;
}

/**
 * How long (ms) a thread polls the control block before sleeping: a peer that arrives within
 * this is caught without a ~50 µs wake; polling longer would take a core from other work.
 */
export const SPIN_MS = 0.05;

/**
 * Where each parameter leaf lives in the flat parameter buffer. `skeleton` is the parameter
 * tree with leaf `i` replaced by the number `i` (plain arrays and objects, so it survives
 * `postMessage`); `shapes[i]` is leaf `i`'s `[rows, cols]`, or `null` for a number.
 */
export interface ParamLayout {
  skeleton: unknown;
  shapes: ([number, number] | null)[];
  /** Total elements: the length of the flat buffer. */
  size: number;
  /** Whether some leaf is a number (then views must be rebuilt to see new values). */
  scalars: boolean;
}

/**
 * Every buffer of one training run. In the parallel trainer each lives in a
 * `SharedArrayBuffer` and this object is posted to the workers as is (typed arrays over shared
 * memory are shared, not copied); in-process it may be plain memory.
 */
export interface Buffers {
  layout: ParamLayout;
  /** All parameters, flattened in leaf order: the live weights. */
  params: Float64Array;
  /** One gradient slab per shard (`shards × params.length`), weighted by its batch share. */
  slabs: Float64Array;
  /** Each shard's mean loss before the update, weighted by its share of the batch. */
  losses: Float64Array;
  /** Row indices of the current batch. */
  indices: Int32Array;
  /** Features and targets, samples × features and samples × outputs. */
  X: SharedMatrixHandle;
  Y: SharedMatrixHandle;
  /** The barrier, claim counter, stop, running and busy flags (see {@linkcode GEN} and after). */
  control: Int32Array;
  /** Per node of the reduction tree, how many of its two children are summed this step. */
  arrivals: Int32Array;
  /** Shards per batch: fixed for the run, independent of the number of threads. */
  shards: number;
  /** Threads computing shards, the main thread (index 0) included. */
  threads: number;
}

/** Messages between the main thread and a worker, either way. */
export type Message =
  /** Main → worker, once: the worker's index (from 1; the main thread is 0) and its run. */
  | { type: "init"; index: number; buffers: Buffers; loss: string }
  /** Worker → main: the loss module is loaded; the worker waits for steps. */
  | { type: "ready" }
  /** Worker → main: the worker failed and is leaving. */
  | { type: "fault"; message: string };

/** Rows `[start, end)` of the batch that shard `k` of `shards` covers. */
export function shardRows(k: number, shards: number, batch: number): [number, number] {
  return [Math.floor(k * batch / shards), Math.floor((k + 1) * batch / shards)];
}

/**
 * The parameter tree as the loss sees it, rebuilt from the skeleton: matrices viewing their
 * ranges of `flat` (no copies), numbers read from it now.
 */
export function viewParams(flat: Float64Array, layout: ParamLayout): unknown {
  const offsets: number[] = [];
  let offset = 0;
  for (const shape of layout.shapes) {
    offsets.push(offset);
    offset += shape === null ? 1 : shape[0] * shape[1];
  }
  const build = (node: unknown): unknown => {
    if (typeof node === "number") {
      const shape = layout.shapes[node], at = offsets[node];
      return shape === null
        ? flat[at]
        : new Matrix(shape[0], shape[1], flat.subarray(at, at + shape[0] * shape[1]));
    }
    if (Array.isArray(node)) return node.map(build);
    const entries = Object.entries(node as Record<string, unknown>);
    return Object.fromEntries(entries.map(([key, value]) => [key, build(value)]));
  };
  return build(layout.skeleton);
}

/** Copies rows `indices[start..end)` of `src` into `out` (one row of `out` per index). */
export function gatherRows(
  src: SharedMatrixHandle,
  indices: Int32Array,
  start: number,
  out: Matrix,
): void {
  const c = src.cols, s = src.data, o = out.data, rows = out.rows;
  if (c >= 64) {
    // Long rows: a native copy each (a subarray costs more than copying a short row).
    for (let j = 0; j < rows; j++) {
      const from = indices[start + j] * c;
      o.set(s.subarray(from, from + c), j * c);
    }
    return;
  }
  for (let j = 0, to = 0; j < rows; j++) {
    const from = indices[start + j] * c, end = to + c;
    for (let i = from; to < end;) o[to++] = s[i++];
  }
}

/**
 * Allocates the buffers of a run on `threads` threads: shared memory when workers will use
 * them (plain `X` and `Y` are copied there once), plain memory otherwise.
 */
export function allocateBuffers(
  layout: ParamLayout,
  data: { X: Matrix; Y: Matrix },
  batch: number,
  shards: number,
  threads: number,
): Buffers {
  const shared = threads > 1;
  const P = layout.size;
  const f64 = (n: number) =>
    shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
  const i32 = (n: number) =>
    shared ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n);
  return {
    layout,
    params: f64(P),
    slabs: f64(shards * P),
    losses: f64(shards),
    indices: i32(batch),
    X: shared ? data.X.toShared().share() : data.X,
    Y: shared ? data.Y.toShared().share() : data.Y,
    // Atomics.wait/notify need shared memory, even in-process (where nobody waits).
    control: new Int32Array(new SharedArrayBuffer((RUNNING + 2 * threads) * 4)),
    arrivals: i32(Math.max(1, shards - 1)),
    shards,
    threads,
  };
}

/** The scalar value of a loss, which may be a number or a 1x1 matrix. */
export function scalarOf(value: Tensor, where: string): number {
  if (typeof value === "number") return value;
  if (value instanceof Matrix && value.rows === 1 && value.cols === 1) return value.data[0];
  throw new TypeError(`${where}: the loss must return a number or a 1x1 matrix, got ${value}`);
}

/** A one-line description of something thrown. */
export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
