// The shard runner: the gradient work that the main thread and every worker do, and its sum.

import { Matrix } from "../matrix.ts";
import type { Tensor } from "../autograd/tracer.ts";
import { valueAndGrad } from "../autograd/transforms.ts";
import { jit } from "../autograd/jit.ts";
import { withScratch } from "../autograd/ops.ts";
import {
  type Buffers,
  busySlot,
  describeError,
  FINISHED,
  gatherRows,
  NEXT,
  scalarOf,
  shardRows,
  viewParams,
} from "./_protocol.ts";
import { forEachLeaf } from "./_params.ts";

/** A loss as a loss module exports it: `loss(params, X, Y)` → a scalar tensor. */
// deno-lint-ignore no-explicit-any
export type LossFn = (params: any, X: Tensor, Y: Tensor) => Tensor;

type LossAndGrad = (params: unknown, X: Matrix, Y: Matrix) => [Tensor, unknown];

// Whether new shard runners use the jitted step (for A/B benchmarks of this thread's runner;
// workers always do).
let useJit = true;

/**
 * @internal Makes shard runners created afterwards on this thread use the eager step
 * (`false`) or the jitted one (`true`, the default); returns the previous setting.
 */
export function setShardJit(on: boolean): boolean {
  const previous = useJit;
  useJit = on;
  return previous;
}

/**
 * The fixed binary reduction tree over `shards` leaves: node `[lo, hi)` is the sum of
 * `[lo, mid)` and `[mid, hi)` and is kept in slab `lo`. Leaves are nodes `0..shards-1`,
 * internal nodes follow; `parent[n]` is -1 at the root. It depends only on the number of
 * shards, so the order of every addition does too.
 */
interface ReductionTree {
  parent: Int32Array;
  /** For internal node `shards + j`: the slab it sums into (`lo`) and the one it adds (`mid`). */
  into: Int32Array;
  from: Int32Array;
}

function buildReductionTree(shards: number): ReductionTree {
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
 * Computes shards into their slabs: gathers the shard's rows, takes the gradient of the mean
 * loss with the autograd, and writes it weighted by rows / batch to slab `k` (so the slabs sum
 * to the gradient of the batch mean), the weighted loss to `losses[k]`. The same code runs on
 * the main thread (thread 0) and in every worker.
 */
export class ShardRunner {
  readonly #buffers: Buffers;
  readonly #index: number;
  #params: unknown;
  #valueAndGrad: LossAndGrad;
  readonly #eager: LossAndGrad;
  /** Why this runner computes eagerly, if it does: jit off, or the loss could not be jitted. */
  eagerReason: string | undefined;
  readonly #where: string;
  readonly #tree: ReductionTree;
  readonly #offsets: Int32Array;
  // Whether the parameter tree is one array of leaves, as the gradient then is.
  readonly #flat: boolean;
  // Gather buffers, one pair per shard size (there are at most two sizes).
  readonly #scratch = new Map<number, [Matrix, Matrix]>();

  constructor(buffers: Buffers, loss: LossFn, index: number, where: string) {
    this.#buffers = buffers;
    this.#index = index;
    this.#params = viewParams(buffers.params, buffers.layout);
    // The jitted step gives the eager bits (lib/autograd/jit.ts) with no tape or boxes per
    // step; a loss that cannot be jitted (it branches on a traced value) falls back to eager.
    this.#eager = valueAndGrad(loss) as unknown as LossAndGrad;
    this.eagerReason = !useJit
      ? "jit is off"
      : eagerLosses.has(loss)
      ? "the loss module exports jit = false"
      : undefined;
    this.#valueAndGrad = this.eagerReason === undefined ? jit(this.#eager) : this.#eager;
    this.#where = where;
    this.#tree = buildReductionTree(buffers.shards);
    const { shapes, skeleton } = buffers.layout;
    this.#flat = Array.isArray(skeleton) && skeleton.every((node) => typeof node === "number");
    this.#offsets = new Int32Array(shapes.length);
    for (let i = 1; i < shapes.length; i++) {
      const s = shapes[i - 1];
      this.#offsets[i] = this.#offsets[i - 1] + (s === null ? 1 : s[0] * s[1]);
    }
  }

  /** The parameter tree viewing the live parameters (numbers as they are now). */
  get params(): unknown {
    if (this.#buffers.layout.scalars) {
      this.#params = viewParams(this.#buffers.params, this.#buffers.layout);
    }
    return this.#params;
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
   * Claims shards one at a time until none is left, computes each, and sums the reduction
   * tree as far as it can: the thread that completes a node's second child adds the two and
   * climbs on, so summing is shared too and never waits. The thread that completes the root
   * sets {@linkcode FINISHED} and wakes the main thread. Returns false if `stopped()` turned
   * true between shards.
   */
  work(stopped: () => boolean = never): boolean {
    const { control, shards } = this.#buffers;
    const busy = busySlot(this.#buffers, this.#index);
    for (;;) {
      if (stopped()) return false;
      const k = Atomics.add(control, NEXT, 1);
      if (k >= shards) return true;
      Atomics.store(control, busy, k + 1); // names this thread if the shard never finishes
      this.run(k);
      Atomics.store(control, busy, 0);
      this.#climb(k);
    }
  }

  /** Computes shard `k` into slab `k`. */
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
      const [value, grads] = this.#lossAndGrad(this.params, Xk, Yk);
      b.losses[k] = w * scalarOf(value, this.#where);
      this.#writeSlab(k, grads, w);
    });
  }

  /** The jitted step, or the eager one from the first time jit fails (the reason is kept). */
  #lossAndGrad(params: unknown, X: Matrix, Y: Matrix): [Tensor, unknown] {
    if (this.eagerReason !== undefined) return this.#eager(params, X, Y);
    try {
      return this.#valueAndGrad(params, X, Y);
    } catch (e) {
      this.eagerReason = `the loss cannot be jitted: ${describeError(e)}`;
      this.#valueAndGrad = this.#eager;
      return this.#eager(params, X, Y); // a loss that fails eagerly too throws from here
    }
  }

  #writeSlab(k: number, grads: unknown, w: number): void {
    const { skeleton } = this.#buffers.layout;
    // A flat list of leaves (the MLP's weight list) needs no tree walk.
    if (Array.isArray(grads) && this.#flat) {
      for (let i = 0; i < grads.length; i++) this.#writeLeaf(k, i, grads[i], w);
    } else forEachLeaf(grads, skeleton, (i, g) => this.#writeLeaf(k, i, g, w), this.#where);
  }

  #writeLeaf(k: number, i: number, g: unknown, w: number): void {
    const slabs = this.#buffers.slabs, shape = this.#buffers.layout.shapes[i];
    const offset = k * this.#buffers.params.length + this.#offsets[i];
    if (shape === null && typeof g === "number") slabs[offset] = w * g;
    else if (shape !== null && g instanceof Matrix && g.rows === shape[0] && g.cols === shape[1]) {
      const d = g.data;
      for (let j = 0; j < d.length; j++) slabs[offset + j] = w * d[j];
    } else {
      const want = shape === null ? "a number" : `a ${shape[0]}x${shape[1]} matrix`;
      throw new TypeError(`${this.#where}: the gradient of parameter ${i} is not ${want}`);
    }
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

const never = () => false;

/**
 * The batch's mean loss before the update, once the step is {@linkcode FINISHED}: the weighted
 * shard losses summed in shard order. (The batch gradient is then slab 0.)
 */
export function batchLoss(buffers: Buffers): number {
  let loss = 0;
  for (let k = 0; k < buffers.shards; k++) loss += buffers.losses[k];
  return loss;
}

// Losses from modules that export `jit = false`: their JS must run on every step.
const eagerLosses = new WeakSet<LossFn>();

/**
 * Imports a loss module by URL and returns its `loss` export. A module that exports
 * `jit = false` is run eagerly, its JS called on every step (jitted, it runs once per shape).
 */
export async function importLoss(url: string): Promise<LossFn> {
  let mod: { loss?: unknown; jit?: unknown };
  try {
    mod = await import(url);
  } catch (e) {
    throw new Error(`train: cannot load the loss module ${url}: ${describeError(e)}`, { cause: e });
  }
  if (typeof mod.loss !== "function") {
    throw new TypeError(`train: the loss module ${url} does not export a function named "loss"`);
  }
  if (mod.jit === false) eagerLosses.add(mod.loss as LossFn);
  return mod.loss as LossFn;
}
