// What the main thread and workers share: memory layout, messages, loss loading, shard work.

import { Matrix, type SharedMatrixHandle } from "../matrix.ts";
import type { Tensor } from "../autograd/tracer.ts";
import { valueAndGrad } from "../autograd/transforms.ts";

/** A loss as a loss module exports it: `loss(params, X, Y)` → a scalar tensor. */
export type LossFn = (params: Tensor[], X: Tensor, Y: Tensor) => Tensor;

/** Control block slots (an `Int32Array`): the barrier of the data-parallel step. */
export const GEN = 0; // bumped by the main thread to start a step (or to release workers on stop)
export const DONE = 1; // workers that finished the current step
export const STOP = 2; // set once: workers leave their loop
export const RUNNING = 3; // slot RUNNING + i is 1 while worker i runs, 0 once it has left its loop

/**
 * How long (ms) a thread polls the control block before sleeping: a peer that arrives within
 * this is caught without a ~50 µs wake; polling longer would take a core from other work.
 */
export const SPIN_MS = 0.05;

/**
 * Every buffer of one training run. In the parallel trainer each lives in a
 * `SharedArrayBuffer` and this object is posted to the workers as is (typed arrays over shared
 * memory are shared, not copied); in-process it may be plain memory.
 */
export interface Buffers {
  /** Parameter shapes, in the order of the weight list. */
  shapes: [number, number][];
  /** All parameters, flattened in order: the live weights. */
  params: Float64Array;
  /** One gradient slab per micro-shard (`shards × params.length`), weighted by its batch share. */
  slabs: Float64Array;
  /** Each micro-shard's mean loss before the update, weighted by its share of the batch. */
  losses: Float64Array;
  /** Row indices of the current batch. */
  indices: Int32Array;
  /** Features and targets, samples × features and samples × outputs. */
  X: SharedMatrixHandle;
  Y: SharedMatrixHandle;
  /** The barrier, stop flag and running flags (see {@linkcode GEN} and the slots after it). */
  control: Int32Array;
  /** Micro-shards per batch: fixed for the run, independent of the number of threads. */
  shards: number;
}

/** Rows `[start, end)` of the batch that micro-shard `k` of `shards` covers. */
export function shardRows(k: number, shards: number, batch: number): [number, number] {
  return [Math.floor(k * batch / shards), Math.floor((k + 1) * batch / shards)];
}

/**
 * Micro-shards `[start, end)` that thread `t` of `threads` computes (thread 0 is the main
 * thread). Rounding up gives the first threads the spare shards, so with fewer shards than
 * threads the main thread works instead of waiting for a worker.
 */
export function threadShards(t: number, threads: number, shards: number): [number, number] {
  return [Math.ceil(t * shards / threads), Math.ceil((t + 1) * shards / threads)];
}

/** Matrices viewing consecutive ranges of one flat buffer, with the given shapes. */
export function viewParams(flat: Float64Array, shapes: [number, number][]): Matrix[] {
  let offset = 0;
  return shapes.map(([r, c]) => {
    const m = new Matrix(r, c, flat.subarray(offset, offset + r * c));
    offset += r * c;
    return m;
  });
}

/** Copies rows `indices[start..end)` of `src` into `out` (one row of `out` per index). */
export function gatherRows(
  src: SharedMatrixHandle,
  indices: Int32Array,
  start: number,
  out: Matrix,
): void {
  const c = src.cols, s = src.data, o = out.data;
  for (let j = 0; j < out.rows; j++) {
    const from = indices[start + j] * c, to = j * c;
    for (let i = 0; i < c; i++) o[to + i] = s[from + i];
  }
}

/** The scalar value of a loss, which may be a number or a 1x1 matrix. */
export function scalarOf(value: Tensor, where: string): number {
  if (typeof value === "number") return value;
  if (value instanceof Matrix && value.rows === 1 && value.cols === 1) return value.data[0];
  throw new TypeError(`${where}: the loss must return a number or a 1x1 matrix, got ${value}`);
}

type LossAndGrad = (params: Matrix[], X: Matrix, Y: Matrix) => [Tensor, Tensor[]];

/**
 * Computes micro-shards into their slabs: gathers the shard's rows, takes the gradient of the
 * mean loss with the autograd, and writes it weighted by rows / batch to slab `k` (so the
 * slabs sum to the gradient of the batch mean), the weighted loss to `losses[k]`. The same
 * code runs on the main thread and in every worker.
 */
export class ShardRunner {
  readonly #buffers: Buffers;
  readonly #params: Matrix[];
  readonly #valueAndGrad: LossAndGrad;
  readonly #where: string;
  // Gather buffers, one pair per micro-shard size (there are at most two sizes).
  readonly #scratch = new Map<number, [Matrix, Matrix]>();

  constructor(buffers: Buffers, loss: LossFn, where: string) {
    this.#buffers = buffers;
    this.#params = viewParams(buffers.params, buffers.shapes);
    this.#valueAndGrad = valueAndGrad(loss) as unknown as LossAndGrad;
    this.#where = where;
  }

  /** Computes micro-shard `k` into slab `k`. */
  run(k: number): void {
    const b = this.#buffers;
    const [start, end] = shardRows(k, b.shards, b.indices.length);
    const rows = end - start;
    let scratch = this.#scratch.get(rows);
    if (scratch === undefined) {
      scratch = [Matrix.zeros(rows, b.X.cols), Matrix.zeros(rows, b.Y.cols)];
      this.#scratch.set(rows, scratch);
    }
    const [Xk, Yk] = scratch;
    gatherRows(b.X, b.indices, start, Xk);
    gatherRows(b.Y, b.indices, start, Yk);
    const [value, grads] = this.#valueAndGrad(this.#params, Xk, Yk);
    const w = rows / b.indices.length; // this shard's share of the batch mean
    b.losses[k] = w * scalarOf(value, this.#where);
    const slabs = b.slabs;
    let offset = k * b.params.length;
    for (let i = 0; i < grads.length; i++) {
      const g = grads[i], [r, c] = b.shapes[i];
      if (!(g instanceof Matrix) || g.rows !== r || g.cols !== c) {
        throw new TypeError(
          `${this.#where}: the gradient of parameter ${i} is not a ${r}x${c} matrix`,
        );
      }
      const d = g.data;
      for (let j = 0; j < d.length; j++) slabs[offset + j] = w * d[j];
      offset += d.length;
    }
  }

  /**
   * Computes thread `t`'s block of micro-shards, then sums every node of the reduction tree
   * that lies inside the block (see {@linkcode reduceShards}): the threads share the summing.
   * Returns false, leaving the block unfinished, if `stopped()` turns true between shards.
   */
  runBlock(t: number, threads: number, stopped: () => boolean = () => false): boolean {
    const [first, end] = threadShards(t, threads, this.#buffers.shards);
    for (let k = first; k < end; k++) {
      if (stopped()) return false;
      this.run(k);
    }
    sumTree(this.#buffers, 0, this.#buffers.shards, (lo, hi) => first <= lo && hi <= end);
    return true;
  }
}

/**
 * Sums the weighted slabs with a fixed binary tree over the micro-shards, in place: node
 * `[lo, hi)` is `node [lo, mid) + node [mid, hi)` and ends in slab `lo`. The tree depends only
 * on the number of micro-shards, never on the threads, so the bits do not either. `take`
 * says which nodes this call computes (children always before parents).
 */
function sumTree(
  buffers: Buffers,
  lo: number,
  hi: number,
  take: (lo: number, hi: number) => boolean,
): void {
  if (hi - lo < 2) return;
  const mid = (lo + hi) >>> 1;
  sumTree(buffers, lo, mid, take);
  sumTree(buffers, mid, hi, take);
  if (!take(lo, hi)) return;
  const P = buffers.params.length, slabs = buffers.slabs;
  const to = lo * P, from = mid * P;
  for (let i = 0; i < P; i++) slabs[to + i] += slabs[from + i];
}

/**
 * Finishes the batch gradient after every thread ran {@linkcode ShardRunner.runBlock}: sums
 * the tree nodes that span more than one thread's block. The gradient of the batch mean loss
 * is then slab 0 (the first `params.length` elements of `slabs`); returns the batch's mean
 * loss before the update, summed in shard order.
 */
export function reduceShards(buffers: Buffers, threads: number): number {
  const { shards, losses } = buffers;
  const inOneBlock = (lo: number, hi: number) => {
    for (let t = 0; t < threads; t++) {
      const [first, end] = threadShards(t, threads, shards);
      if (first <= lo && lo < end) return hi <= end;
    }
    return false;
  };
  sumTree(buffers, 0, shards, (lo, hi) => !inOneBlock(lo, hi));
  let loss = 0;
  for (let k = 0; k < shards; k++) loss += losses[k];
  return loss;
}

/** The message the main thread sends a worker, once. */
export interface ToWorker {
  type: "init";
  /** Thread index, 1..threads-1 (the main thread is 0). */
  index: number;
  threads: number;
  buffers: Buffers;
  /** URL of the loss module. */
  loss: string;
}

/** Messages a worker sends the main thread. */
export type FromWorker = { type: "ready" } | { type: "fault"; message: string };

/** Imports a loss module by URL and returns its `loss` export. */
export async function importLoss(url: string): Promise<LossFn> {
  let mod: { loss?: unknown };
  try {
    mod = await import(url);
  } catch (e) {
    throw new Error(`train: cannot load the loss module ${url}: ${describeError(e)}`, { cause: e });
  }
  if (typeof mod.loss !== "function") {
    throw new TypeError(`train: the loss module ${url} does not export a function named "loss"`);
  }
  return mod.loss as LossFn;
}

/** A one-line description of something thrown. */
export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Allocates the buffers of a run on `threads` threads: shared memory when workers will use
 * them (plain `X` and `Y` are copied there once), plain memory otherwise.
 */
export function allocateBuffers(
  shapes: [number, number][],
  X: Matrix,
  Y: Matrix,
  batch: number,
  shards: number,
  threads: number,
): Buffers {
  const shared = threads > 1;
  const P = shapes.reduce((n, [r, c]) => n + r * c, 0);
  const f64 = (n: number) =>
    shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
  return {
    shapes,
    params: f64(P),
    slabs: f64(shards * P),
    losses: f64(shards),
    indices: shared ? new Int32Array(new SharedArrayBuffer(batch * 4)) : new Int32Array(batch),
    X: shared ? X.toShared().share() : X,
    Y: shared ? Y.toShared().share() : Y,
    control: new Int32Array(new SharedArrayBuffer((RUNNING + threads) * 4)),
    shards,
  };
}
