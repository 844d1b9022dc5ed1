// The thread plan: the work of the actual step, measured from the tape of one traced loss.

import { Matrix } from "../matrix.ts";
import { type Tensor, Trace, traceLeaf, valueOf } from "../autograd/tracer.ts";
import { flatten } from "../autograd/transforms.ts";
import { withScratch } from "../autograd/ops.ts";
import type { LossFn } from "./_shard.ts";

/** A thread's sync costs ~50 µs a step; below this many operations a thread does not pay. */
export const MIN_WORK_PER_THREAD = 1_000_000;
// Six shards split evenly over 1, 2, 3 or 6 threads (threads claim them as they come free, so
// other counts balance too). Each costs a little: on the large benchmark step one thread runs
// 2% slower in 6 shards than in one, and 14% slower in 12.
const PARALLEL_SHARDS = 6;
// Rows of the sample batches the loss is traced on (two sizes, to fit work = a + b·rows).
const SAMPLE_ROWS = 8;

/** The thread plan for a run: see {@linkcode planThreads}. */
export interface ThreadPlan {
  threads: number;
  shards: number;
  reason: string;
  /** Estimated operations per step (see {@linkcode measureStepWork}). */
  work: number;
}

/**
 * The operations of one training step of `loss` on `batch` rows, read from the tape of the
 * loss traced on sample rows of `X` and `Y`: a matrix product counts its multiply-adds, any
 * other primitive its output elements, each once forward and once more for every traced
 * argument the backward pass differentiates. Traced at two sample sizes and extrapolated
 * linearly to the batch, which is exact for losses that treat rows independently.
 */
export function measureStepWork(
  loss: LossFn,
  params: unknown,
  data: { X: Matrix; Y: Matrix },
  batch: number,
): number {
  const big = Math.min(batch, data.X.rows, SAMPLE_ROWS), small = Math.max(1, big >> 1);
  const at = (rows: number) => traceWork(loss, params, data.X, data.Y, rows);
  const workBig = at(big);
  if (small === big) return Math.round(workBig * batch / big);
  const workSmall = at(small), perRow = (workBig - workSmall) / (big - small);
  return Math.max(0, Math.round(workSmall + perRow * (batch - small)));
}

function traceWork(loss: LossFn, params: unknown, X: Matrix, Y: Matrix, rows: number): number {
  const Xs = new Matrix(rows, X.cols, X.data.slice(0, rows * X.cols));
  const Ys = new Matrix(rows, Y.cols, Y.data.slice(0, rows * Y.cols));
  const trace = new Trace("reverse", "train");
  const [leaves, rebuild] = flatten(params, "train", "params");
  const traced = rebuild(leaves.map((leaf) => traceLeaf(trace, leaf)));
  return withScratch(() => {
    loss(traced, Xs, Ys);
    let work = 0;
    for (const node of trace.tape) {
      if (node.primitive === undefined) continue; // a leaf
      const passes = 1 + node.parents.filter((p) => p !== undefined).length;
      work += passes * nodeWork(node.primitive.name, node.out, node.args, node.params);
    }
    return work;
  });
}

function nodeWork(name: string, out: Tensor, args: Tensor[], params: unknown): number {
  const o = valueOf(out);
  const size = o instanceof Matrix ? o.rows * o.cols : 1;
  if (name !== "matmul") return size;
  const a = valueOf(args[0]);
  const transA = (params as { transA?: boolean } | undefined)?.transA ?? false;
  const inner = a instanceof Matrix ? (transA ? a.rows : a.cols) : 1;
  return size * inner;
}

/**
 * Decides the shards and threads for a step of `work` operations on `batch` rows. With
 * `"auto"`, each thread must get at least {@linkcode MIN_WORK_PER_THREAD}, up to one per
 * core; an explicit count is kept up to one thread per shard. `option` names the option in
 * errors (`threads`, or its old name `workers`).
 */
export function planThreads(
  work: number,
  batch: number,
  requested: number | "auto",
  shards?: number,
  option = "threads",
): ThreadPlan {
  shards ??= work >= 2 * MIN_WORK_PER_THREAD ? Math.min(PARALLEL_SHARDS, batch) : 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > batch) {
    throw new RangeError(
      `train: shards must be an integer from 1 to the batch (${batch}), got ${shards}`,
    );
  }
  if (requested !== "auto") {
    if (!Number.isInteger(requested) || requested < 1 || requested > 256) {
      throw new RangeError(
        `train: ${option} must be "auto" or an integer from 1 to 256, got ${requested}`,
      );
    }
    // A thread with no shard to claim would only wait at every step.
    const threads = Math.min(requested, shards);
    const reason = threads === requested
      ? `${requested} requested`
      : `${requested} requested, ${threads} used: a step of ${count(work)} operations is ` +
        `${shards} shard${shards === 1 ? "" : "s"} (steps under ${
          count(2 * MIN_WORK_PER_THREAD)
        } are not split unless shards are given)`;
    return { threads, shards, work, reason };
  }
  const cores = Math.max(1, navigator.hardwareConcurrency ?? 1);
  const threads = Math.max(1, Math.min(cores, shards, Math.floor(work / MIN_WORK_PER_THREAD)));
  return { threads, shards, work, reason: autoReason(work, threads, shards, cores) };
}

function autoReason(work: number, threads: number, shards: number, cores: number): string {
  const per = `${count(work)} operations per step`;
  return threads > 1
    ? `${per}: ${threads} threads (${cores} cores, at least ${count(MIN_WORK_PER_THREAD)} each)`
    : cores === 1
    ? `${per}: 1 thread, the machine has 1 core`
    : shards === 1 && work >= 2 * MIN_WORK_PER_THREAD
    ? `${per}: 1 thread, the batch is one shard`
    : `${per}: 1 thread; a second pays for its ~50 µs sync only from ${
      count(2 * MIN_WORK_PER_THREAD)
    }`;
}

function count(n: number): string {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : `${n}`;
}
