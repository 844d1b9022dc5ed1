// What the main thread and workers share: memory layout, messages, loss loading, shard work.

import { Matrix, type SharedMatrixHandle } from "../matrix.ts";
import type { Tensor } from "../autograd/tracer.ts";
import { valueAndGrad } from "../autograd/transforms.ts";
import { withScratch } from "../autograd/ops.ts";

/** A loss as a loss module exports it: `loss(params, X, Y)` → a scalar tensor. */
export type LossFn = (params: Tensor[], X: Tensor, Y: Tensor) => Tensor;

/** Control block slots (an `Int32Array`): the barrier of the data-parallel step. */
export const GEN = 0; // bumped by the main thread to start a step (or to release workers on stop)
export const FINISHED = 1; // set to 1 by whichever thread completes the batch gradient
export const STOP = 2; // set once: workers leave their loop
export const NEXT = 3; // the next unclaimed micro-shard of the step
export const RUNNING = 4; // slot RUNNING + i is 1 while worker i runs, 0 once it has left its loop

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
  /** The barrier, claim counter, stop and running flags (see {@linkcode GEN} and after). */
  control: Int32Array;
  /** Per node of the reduction tree, how many of its two children are summed this step. */
  arrivals: Int32Array;
  /** Micro-shards per batch: fixed for the run, independent of the number of threads. */
  shards: number;
}

/** Rows `[start, end)` of the batch that micro-shard `k` of `shards` covers. */
export function shardRows(k: number, shards: number, batch: number): [number, number] {
  return [Math.floor(k * batch / shards), Math.floor((k + 1) * batch / shards)];
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
 * The fixed binary reduction tree over `shards` leaves: node `[lo, hi)` is the sum of
 * `[lo, mid)` and `[mid, hi)` and is kept in slab `lo`. Leaves are nodes `0..shards-1`,
 * internal nodes follow; `parent[n]` is -1 at the root. It depends only on the number of
 * micro-shards, so the order of every addition does too.
 */
interface Tree {
  parent: Int32Array;
  /** For internal node `shards + j`: the slab it sums into (`lo`) and the one it adds (`mid`). */
  into: Int32Array;
  from: Int32Array;
}

function buildTree(shards: number): Tree {
  const parent = new Int32Array(Math.max(1, 2 * shards - 1)).fill(-1);
  const into = new Int32Array(Math.max(0, shards - 1)), from = new Int32Array(into.length);
  let next = shards;
  const build = (lo: number, hi: number): number => {
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >>> 1;
    const left = build(lo, mid), right = build(mid, hi);
    const node = next++;
    parent[left] = parent[right] = node;
    into[node - shards] = lo;
    from[node - shards] = mid;
    return node;
  };
  build(0, shards);
  return { parent, into, from };
}

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
  readonly #tree: Tree;
  // Gather buffers, one pair per micro-shard size (there are at most two sizes).
  readonly #scratch = new Map<number, [Matrix, Matrix]>();

  constructor(buffers: Buffers, loss: LossFn, where: string) {
    this.#buffers = buffers;
    this.#params = viewParams(buffers.params, buffers.shapes);
    this.#valueAndGrad = valueAndGrad(loss) as unknown as LossAndGrad;
    this.#where = where;
    this.#tree = buildTree(buffers.shards);
  }

  /**
   * Main thread, before releasing a step (after writing its batch indices and parameters):
   * clears the tree's arrival counts and the finished flag, then reopens the claim counter.
   */
  reset(): void {
    const { arrivals, control } = this.#buffers;
    arrivals.fill(0);
    Atomics.store(control, FINISHED, 0);
    Atomics.store(control, NEXT, 0); // last: a claim that sees it sees the resets too
  }

  /**
   * Claims micro-shards one at a time until none is left, computes each, and sums the
   * reduction tree as far as it can: the thread that completes a node's second child adds
   * the two and climbs on, so summing is shared too and never waits. The thread that
   * completes the root sets {@linkcode FINISHED} and wakes the main thread. Returns false if
   * `stopped()` turned true between shards.
   */
  work(stopped: () => boolean = () => false): boolean {
    const { control, shards } = this.#buffers;
    for (;;) {
      if (stopped()) return false;
      const k = Atomics.add(control, NEXT, 1);
      if (k >= shards) return true;
      this.run(k);
      this.#climb(k);
    }
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
    const w = rows / b.indices.length; // this shard's share of the batch mean
    // The step's intermediates live in reused scratch memory: copy the results out at once.
    withScratch(() => {
      const [value, grads] = this.#valueAndGrad(this.#params, Xk, Yk);
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
    });
  }

  /** After leaf `k` is written: sums every ancestor whose other child is already done. */
  #climb(k: number): void {
    const { control, arrivals, slabs, shards } = this.#buffers;
    const { parent, into, from } = this.#tree;
    const P = this.#buffers.params.length;
    for (let node = k; parent[node] >= 0;) {
      const j = parent[node] - shards;
      // The first child to arrive leaves; the second sees the first's slab (Atomics order it).
      if (Atomics.add(arrivals, j, 1) === 0) return;
      const to = into[j] * P, add = from[j] * P;
      for (let i = 0; i < P; i++) slabs[to + i] += slabs[add + i];
      node = parent[node];
    }
    Atomics.store(control, FINISHED, 1);
    Atomics.notify(control, FINISHED);
  }
}

/**
 * The batch's mean loss before the update, once the step is {@linkcode FINISHED}: the weighted
 * shard losses summed in shard order. (The batch gradient is then slab 0.)
 */
export function batchLoss(buffers: Buffers): number {
  let loss = 0;
  for (let k = 0; k < buffers.shards; k++) loss += buffers.losses[k];
  return loss;
}

/** The message the main thread sends a worker, once. */
export interface ToWorker {
  type: "init";
  /** Worker index, from 1 (the main thread is 0). */
  index: number;
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
  const i32 = (n: number) =>
    shared ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n);
  return {
    shapes,
    params: f64(P),
    slabs: f64(shards * P),
    losses: f64(shards),
    indices: i32(batch),
    X: shared ? X.toShared().share() : X,
    Y: shared ? Y.toShared().share() : Y,
    // Atomics.wait/notify need shared memory, even in-process (where nobody waits).
    control: new Int32Array(new SharedArrayBuffer((RUNNING + threads) * 4)),
    arrivals: i32(Math.max(1, shards - 1)),
    shards,
  };
}
