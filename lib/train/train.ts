// Minibatch SGD with the autograd, in-process or data-parallel on workers over shared memory.

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { Matrix } from "../matrix.ts";
import { createRng } from "../random.ts";
import { withScratch } from "../autograd/ops.ts";
import {
  allocateBuffers,
  batchLoss,
  gatherRows,
  importLoss,
  scalarOf,
  ShardRunner,
  viewParams,
} from "./_shard.ts";
import { WorkerPool } from "./_pool.ts";

/** One entry of the loss log. */
export interface LossEntry {
  /** The step (1-based) after whose update the loss was measured. */
  step: number;
  /** The loss of that step's batch with the updated parameters. */
  loss: number;
}

/** Options for {@linkcode train}. */
export interface TrainOptions {
  /** The weight list (`initMLP`'s `[W1, b1, ...]`); updated in place. */
  params: Matrix[];
  /** Features, samples × features. Copied once into shared memory if workers need it. */
  X: Matrix;
  /** Targets, samples × outputs (one-hot for the MLP). */
  Y: Matrix;
  /** Learning rate. Default 0.01. */
  lr?: number;
  /** Rows per batch, drawn with replacement. Default 100. */
  batch?: number;
  /** SGD steps. Default 1000. */
  steps?: number;
  /** Seed of the batch draws (`createRng`). Default 0. */
  seed?: number;
  /**
   * Threads computing gradients, the main thread included; `"auto"` (default) picks from the
   * work per step (see {@linkcode planWorkers}).
   */
  workers?: number | "auto";
  /** Log the loss every this many steps (and at the last step). Default 50. */
  logEvery?: number;
  /** Called with each loss log entry as it is made. */
  onLog?: (entry: LossEntry) => void;
  /** Stops training between steps; the result then has status `"aborted"`. */
  signal?: AbortSignal;
  /**
   * A module exporting `loss(params, X, Y)` (a scalar tensor), as a URL or a file path; the
   * main thread and every worker import it. Default: the MLP mean squared error.
   */
  loss?: string | URL;
  /**
   * Micro-shards per batch: the batch gradient is the size-weighted sum of their gradients in
   * a fixed order, so results are bit-identical for any number of workers (but differ in the
   * last bits between shard counts). Default: 1 for steps too small to split, else 6 (capped
   * at the batch).
   */
  shards?: number;
}

/** What {@linkcode train} returns. */
export interface TrainResult {
  /** The trained parameters: the same matrices that were passed in. */
  params: Matrix[];
  /** The loss log. */
  loss: LossEntry[];
  /** Threads that computed gradients, the main thread included. */
  workers: number;
  /** Why that many threads. */
  workersReason: string;
  /** Micro-shards per batch. */
  shards: number;
  /** Wall time of the step loop, excluding starting and stopping workers. */
  seconds: number;
  /** `"ok"`, or why training stopped early. */
  status: "ok" | "diverged" | "aborted";
  /** The step whose loss or gradient was not finite (that step's update is not applied). */
  divergedAt?: number;
}

/** A worker's sync costs ~50 µs a step; below this many multiply-adds a thread does not pay. */
export const MIN_WORK_PER_THREAD = 1_000_000;
// Six micro-shards split evenly over 1, 2, 3 or 6 threads (threads claim them as they come
// free, so other counts balance too). Each costs a little: on the large benchmark step one
// thread runs 2% slower in 6 shards than in one, and 14% slower in 12.
const PARALLEL_SHARDS = 6;
// The step loop yields to the event loop this often, so an AbortSignal (or a timer) can fire.
const YIELD_MS = 20;

/** The thread plan for a run: see {@linkcode planWorkers}. */
export interface WorkerPlan {
  threads: number;
  shards: number;
  reason: string;
  /** Estimated multiply-adds per step. */
  work: number;
}

/**
 * Decides the micro-shards and threads for an MLP weight list and batch size. The work per
 * step is counted in multiply-adds (forward, weight gradients and hidden-layer gradients); with
 * `"auto"`, each thread must get at least {@linkcode MIN_WORK_PER_THREAD}, up to one per core.
 *
 * @example The seed experiment runs on one thread
 * ```ts
 * import { planWorkers } from "./train.ts";
 * import assert from "node:assert/strict";
 * const shapes: [number, number][] = [[25, 8], [25, 1], [10, 25], [10, 1], [2, 10], [2, 1]];
 * const plan = planWorkers(shapes, 100, "auto");
 * assert.equal(plan.threads, 1);
 * assert.equal(plan.work, 121_000);
 * ```
 */
export function planWorkers(
  shapes: readonly (readonly [number, number])[],
  batch: number,
  workers: number | "auto",
  shards?: number,
): WorkerPlan {
  let work = 0;
  for (let i = 0; i < shapes.length; i += 2) {
    const [r, c] = shapes[i];
    work += batch * r * c * (i === 0 ? 2 : 3); // the first layer needs no input gradient
  }
  shards ??= work >= 2 * MIN_WORK_PER_THREAD ? Math.min(PARALLEL_SHARDS, batch) : 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > batch) {
    throw new RangeError(
      `train: shards must be an integer from 1 to the batch (${batch}), got ${shards}`,
    );
  }
  if (workers !== "auto") {
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
      throw new RangeError(
        `train: workers must be "auto" or an integer from 1 to 256, got ${workers}`,
      );
    }
    // A thread with no micro-shard to claim would only wait at every step.
    const threads = Math.min(workers, shards);
    const reason = threads === workers
      ? `${workers} requested`
      : `${workers} requested, ${threads} used: a step of ${count(work)} multiply-adds is ` +
        `${shards} micro-shard${shards === 1 ? "" : "s"} (steps under ${
          count(2 * MIN_WORK_PER_THREAD)
        } are not split unless shards are given)`;
    return { threads, shards, work, reason };
  }
  const cores = Math.max(1, navigator.hardwareConcurrency ?? 1);
  const threads = Math.max(1, Math.min(cores, shards, Math.floor(work / MIN_WORK_PER_THREAD)));
  const per = `${count(work)} multiply-adds per step`;
  const reason = threads > 1
    ? `${per}: ${threads} threads (${cores} cores, at least ${count(MIN_WORK_PER_THREAD)} each)`
    : cores === 1
    ? `${per}: 1 thread, the machine has 1 core`
    : shards === 1 && work >= 2 * MIN_WORK_PER_THREAD
    ? `${per}: 1 thread, the batch is one micro-shard`
    : `${per}: 1 thread; a second pays for its ~50 µs sync only from ${
      count(2 * MIN_WORK_PER_THREAD)
    }`;
  return { threads, shards, work, reason };
}

function count(n: number): string {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : `${n}`;
}

/**
 * Trains by minibatch SGD: each step draws `batch` row indices with replacement from one
 * seeded RNG (`createRng(seed).randint`), takes the gradient of the loss with the autograd,
 * and applies `p -= lr * g`. Every `logEvery` steps, and at the last step, it logs the loss of
 * that step's batch after the update.
 *
 * With more than one worker, `workers - 1` module workers share the parameters, data and
 * gradient slabs through `SharedArrayBuffer`s and the main thread computes a share too. The
 * batch is split into a fixed number of micro-shards (`shards`), which the threads claim as
 * they come free; their gradients are summed by a fixed binary tree, so the same seed gives
 * bit-identical parameters and logs for any worker count.
 *
 * Stops early with status `"diverged"` if a loss or gradient is not finite, and `"aborted"`
 * when `signal` aborts. A worker fault rejects with an error naming the worker, after
 * stopping every worker; `params` then hold the last complete step.
 *
 * @example Fit a tiny network
 * ```ts
 * import { createRng, initMLP, Matrix, train } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const X = Matrix.from([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const Y = Matrix.from([[1, 0], [0, 1], [0, 1], [1, 0]]);
 * const params = initMLP([2, 8, 2], createRng(0));
 * const result = await train({ params, X, Y, lr: 0.1, batch: 4, steps: 200, workers: 1 });
 * assert.equal(result.status, "ok");
 * assert.equal(result.loss.length, 4); // steps 50, 100, 150, 200
 * assert.ok(result.loss[3].loss < result.loss[0].loss);
 * ```
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { params, X, Y, onLog, signal } = options;
  const lr = options.lr ?? 0.01;
  const batch = options.batch ?? 100;
  const steps = options.steps ?? 1000;
  const seed = options.seed ?? 0;
  const logEvery = options.logEvery ?? 50;
  checkInputs(params, X, Y);
  if (typeof lr !== "number" || !Number.isFinite(lr)) {
    throw new RangeError(`train: lr must be a finite number, got ${lr}`);
  }
  checkInteger("batch", batch, 1);
  checkInteger("steps", steps, 0);
  checkInteger("logEvery", logEvery, 1);
  const rng = createRng(seed);
  const shapes = params.map((p) => [p.rows, p.cols] as [number, number]);
  const plan = planWorkers(shapes, batch, options.workers ?? "auto", options.shards);
  const lossUrl = lossModuleUrl(options.loss);
  const loss = await importLoss(lossUrl);

  const buffers = allocateBuffers(shapes, X, Y, batch, plan.shards, plan.threads);
  let offset = 0;
  for (const p of params) {
    buffers.params.set(p.data, offset);
    offset += p.data.length;
  }
  const live = viewParams(buffers.params, shapes);
  const runner = new ShardRunner(buffers, loss, "train");
  const gradient = buffers.slabs.subarray(0, buffers.params.length);
  const Xb = Matrix.zeros(batch, X.cols), Yb = Matrix.zeros(batch, Y.cols);
  const log: LossEntry[] = [];
  let status: TrainResult["status"] = "ok";
  let divergedAt: number | undefined;
  let seconds = 0;

  const pool = plan.threads > 1 ? new WorkerPool(buffers, plan.threads, lossUrl) : undefined;
  // A message to ourselves yields to the event loop in ~20 µs; a setTimeout(0) chained from a
  // timer is clamped to milliseconds, which cost 4% of a run when yielding every 50 ms.
  const channel = new MessageChannel();
  const yieldToEventLoop = () =>
    new Promise((resolve) => {
      channel.port1.onmessage = resolve;
      channel.port2.postMessage(null);
    });
  try {
    await pool?.start();
    const start = performance.now();
    let lastYield = start;
    for (let step = 1; step <= steps; step++) {
      if (signal?.aborted) {
        status = "aborted";
        break;
      }
      for (let i = 0; i < batch; i++) buffers.indices[i] = rng.randint(X.rows);
      if (pool) await pool.step(runner, step);
      else {
        runner.reset();
        runner.work();
      }
      const before = batchLoss(buffers);
      if (!Number.isFinite(before) || !allFinite(gradient)) {
        status = "diverged";
        divergedAt = step;
        break;
      }
      const w = buffers.params;
      for (let i = 0; i < w.length; i++) w[i] -= lr * gradient[i];
      if (step % logEvery === 0 || step === steps) {
        gatherRows(buffers.X, buffers.indices, 0, Xb);
        gatherRows(buffers.Y, buffers.indices, 0, Yb);
        const after = withScratch(() => scalarOf(loss(live, Xb, Yb), "train"));
        if (!Number.isFinite(after)) {
          status = "diverged";
          divergedAt = step;
          break;
        }
        const entry = { step, loss: after };
        log.push(entry);
        onLog?.(entry);
      }
      if (performance.now() - lastYield > YIELD_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    seconds = (performance.now() - start) / 1000;
  } finally {
    channel.port1.close();
    await pool?.close();
    for (const [i, p] of params.entries()) p.data.set(live[i].data);
  }
  return {
    params,
    loss: log,
    workers: plan.threads,
    workersReason: plan.reason,
    shards: plan.shards,
    seconds,
    status,
    ...(divergedAt === undefined ? {} : { divergedAt }),
  };
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`train: ${name} must be an integer of at least ${min}, got ${value}`);
  }
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function checkInputs(params: Matrix[], X: Matrix, Y: Matrix): void {
  if (!Array.isArray(params) || params.length === 0 || !params.every((p) => p instanceof Matrix)) {
    throw new TypeError("train: params must be a non-empty array of matrices (the initMLP list)");
  }
  if (!(X instanceof Matrix) || !(Y instanceof Matrix)) {
    throw new TypeError("train: X and Y must be matrices");
  }
  if (X.rows !== Y.rows) {
    throw new TypeError(
      `train: X has ${X.rows} rows but Y has ${Y.rows}; they need one per sample`,
    );
  }
}

/** The loss module's URL: the default, or the given URL or path (resolved from the cwd). */
function lossModuleUrl(loss: string | URL | undefined): string {
  if (loss === undefined) return new URL("./mlp_loss.ts", import.meta.url).href;
  if (loss instanceof URL) return loss.href;
  if (typeof loss !== "string" || loss === "") {
    throw new TypeError(`train: loss must be a module URL or path, got ${String(loss)}`);
  }
  return /^[a-z][a-z0-9+.-]+:/i.test(loss) ? loss : pathToFileURL(resolve(loss)).href;
}
