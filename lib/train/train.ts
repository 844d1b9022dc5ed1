// Minibatch SGD with the autograd, in-process or data-parallel on workers over shared memory.

import { Matrix } from "../matrix.ts";
import type { Tree } from "../autograd/transforms.ts";
import { withScratch } from "../autograd/ops.ts";
import { allocateBuffers, type Buffers, gatherRows, scalarOf } from "./_protocol.ts";
import { copyIn, copyOut, layoutOf } from "./_params.ts";
import { batchLoss, importLoss, type LossFn } from "./_shard.ts";
import { measureStepWork, planThreads } from "./_plan.ts";
import type { StepRunner } from "./_step.ts";
import { openStepRunner } from "./_pool.ts";
import { sgd, type Update } from "./_update.ts";
import { claimParams, type Settings, settingsOf } from "./_options.ts";

/** One entry of the loss log. */
export interface LossEntry {
  /** The step (1-based) after whose update the loss was measured. */
  step: number;
  /** The loss of that step's batch with the updated parameters. */
  loss: number;
}

/** Options for {@linkcode train}. */
export interface TrainOptions<P extends Tree = Matrix[]> {
  /**
   * The parameters, updated in place: any tree `grad` accepts (matrices and numbers nested in
   * arrays and plain objects), such as `initMLP`'s `[W1, b1, ...]` or `{ W, b }`. The loss
   * module's `loss` receives a tree of the same structure.
   */
  params: P;
  /** Features, samples × features. Copied once into shared memory if workers need it. */
  X: Matrix;
  /** Targets, samples × outputs (one-hot for the MLP). */
  Y: Matrix;
  /** Learning rate, greater than 0. Default 0.01. */
  lr?: number;
  /** Rows per batch, drawn with replacement. Default 100. */
  batch?: number;
  /** SGD steps. Default 1000. */
  steps?: number;
  /** Seed of the batch draws (`createRng`). Default 0. */
  seed?: number;
  /**
   * Threads computing gradients, the main thread included (so 2 is one Worker beside the main
   * thread); `"auto"` (default) picks from the measured work of a step (see `ThreadPlan`).
   */
  threads?: number | "auto";
  /** @deprecated The old name of {@linkcode TrainOptions.threads}, with the same meaning. */
  workers?: number | "auto";
  /**
   * Milliseconds one step (or a worker's loading of the loss module) may take before training
   * rejects with an error naming the worker still at work, after stopping the workers. It
   * applies with workers (`threads > 1`): a step on the main thread alone cannot be
   * interrupted. Default: no limit, since a step's length depends on the model; then a worker
   * stuck in its loss, or one that dies without an event (V8 out of memory), waits until
   * `signal` aborts. A worker stuck in a busy loop cannot be stopped by `terminate()`: its
   * process can end only by `Deno.exit`.
   */
  stepTimeout?: number;
  /** Log the loss every this many steps (and at the last step). Default 50. */
  logEvery?: number;
  /** Called with each loss log entry as it is made. */
  onLog?: (entry: LossEntry) => void;
  /** Stops training, also while waiting on workers; the result then has status `"aborted"`. */
  signal?: AbortSignal;
  /**
   * A module exporting `loss(params, X, Y)` (a scalar tensor), as a URL or a file path; the
   * main thread and every worker import it. Default: the MLP mean squared error.
   */
  loss?: string | URL;
  /**
   * Shards per batch: the batch gradient is the size-weighted sum of their gradients in a
   * fixed order, so results are bit-identical for any number of threads (but differ in the
   * last bits between shard counts). Default: 1 for steps too small to split, else 6 (capped
   * at the batch).
   */
  shards?: number;
}

/** What {@linkcode train} returns. */
export interface TrainResult<P extends Tree = Matrix[]> {
  /**
   * The trained parameters: the tree that was passed in, its matrices updated in place (a
   * tree with number leaves comes back rebuilt, holding the same matrices and new numbers).
   */
  params: P;
  /** The loss log. */
  loss: LossEntry[];
  /** Threads that computed gradients, the main thread included. */
  threads: number;
  /** Why that many threads. */
  threadsReason: string;
  /** @deprecated The old name of {@linkcode TrainResult.threads}. */
  workers: number;
  /** @deprecated The old name of {@linkcode TrainResult.threadsReason}. */
  workersReason: string;
  /** Shards per batch. */
  shards: number;
  /** Wall time of the step loop, excluding starting and stopping workers. */
  seconds: number;
  /** `"ok"`, or why training stopped early. */
  status: "ok" | "diverged" | "aborted";
  /** The step whose loss or gradient was not finite (that step's update is not applied). */
  divergedAt?: number;
}

// The step loop yields to the event loop this often, so an AbortSignal (or a timer) can fire.
const YIELD_MS = 20;

/**
 * Trains by minibatch SGD: each step draws `batch` row indices with replacement from one
 * seeded RNG (`createRng(seed).randint`), takes the gradient of the loss with the autograd,
 * and applies `p -= lr * g`. Every `logEvery` steps, and at the last step, it logs the loss of
 * that step's batch after the update.
 *
 * With more than one thread, `threads - 1` module workers share the parameters, data and
 * gradient slabs through `SharedArrayBuffer`s and the main thread computes a share too. The
 * batch is split into a fixed number of shards (`shards`), which the threads claim as they
 * come free; their gradients are summed by a fixed binary tree, so the same seed gives
 * bit-identical parameters and logs for any thread count.
 *
 * Stops early with status `"diverged"` if a loss or gradient is not finite, and `"aborted"`
 * when `signal` aborts. A worker fault, or a step longer than `stepTimeout`, rejects with an
 * error naming the worker, after stopping every worker; `params` then hold the last complete
 * step. Two runs at once on the same matrices are refused: the second rejects.
 *
 * @example Fit a tiny network
 * ```ts
 * import { createRng, initMLP, Matrix, train } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const X = Matrix.from([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const Y = Matrix.from([[1, 0], [0, 1], [0, 1], [1, 0]]);
 * const params = initMLP([2, 8, 2], createRng(0));
 * const result = await train({ params, X, Y, lr: 0.1, batch: 4, steps: 200, threads: 1 });
 * assert.equal(result.status, "ok");
 * assert.equal(result.loss.length, 4); // steps 50, 100, 150, 200
 * assert.ok(result.loss[3].loss < result.loss[0].loss);
 * ```
 */
export async function train<P extends Tree = Matrix[]>(
  options: TrainOptions<P>,
): Promise<TrainResult<P>> {
  const settings = settingsOf(options);
  const { layout, leaves, paths } = layoutOf(options.params);
  const release = claimParams(leaves, paths); // before any await: a concurrent call sees it
  try {
    const loss = await importLoss(settings.lossUrl);
    const work = measureStepWork(loss, options.params, options, settings.batch);
    const { threads, shards, reason } = planThreads(
      work,
      settings.batch,
      settings.threads,
      options.shards,
      settings.threadsOption,
    );
    const buffers = allocateBuffers(layout, options, settings.batch, shards, threads);
    copyIn(leaves, buffers.params);
    const { lossUrl, stepTimeout } = settings, signal = options.signal;
    const runner = await openStepRunner(buffers, loss, { lossUrl, signal, stepTimeout });
    let run: Run | undefined, trained = leaves;
    try {
      run = await runSteps(runner, buffers, loss, settings, options);
    } finally {
      await runner.close();
      trained = copyOut(buffers.params, leaves);
    }
    const params = layout.scalars ? layoutRebuild(options.params, trained) : options.params;
    const plan = { threads, threadsReason: reason, workers: threads, workersReason: reason };
    return { params, ...plan, shards, ...run };
  } finally {
    release();
  }
}

/** The tree `like` with its leaves replaced, in flatten order. */
function layoutRebuild<P>(like: P, leaves: (Matrix | number)[]): P {
  let i = 0;
  const build = (x: unknown): unknown =>
    typeof x === "number" || x instanceof Matrix
      ? leaves[i++]
      : Array.isArray(x)
      ? x.map(build)
      : Object.fromEntries(Object.entries(x as object).map(([k, v]) => [k, build(v)]));
  return build(like) as P;
}

/** How the step loop ended. */
type Run = Pick<TrainResult, "loss" | "seconds" | "status" | "divergedAt">;

/** The step loop: draw a batch, step, check, update, log, now and then yield. */
async function runSteps(
  runner: StepRunner,
  buffers: Buffers,
  loss: LossFn,
  settings: Settings,
  options: Pick<TrainOptions, "X" | "onLog" | "signal">,
): Promise<Run> {
  const { steps, logEvery, rng, batch } = settings, { signal, onLog } = options;
  const update: Update = sgd(settings.lr);
  const gradient = buffers.slabs.subarray(0, buffers.params.length);
  const evaluate = afterLoss(runner, buffers, loss, batch);
  const log: LossEntry[] = [];
  const yieldToEventLoop = eventLoopYielder();
  const start = performance.now();
  let lastYield = start;
  const end = (status: Run["status"], divergedAt?: number): Run => {
    yieldToEventLoop.close();
    const seconds = (performance.now() - start) / 1000;
    return { loss: log, seconds, status, ...(divergedAt === undefined ? {} : { divergedAt }) };
  };
  try {
    for (let step = 1; step <= steps; step++) {
      if (signal?.aborted) return end("aborted");
      for (let i = 0; i < batch; i++) buffers.indices[i] = rng.randint(options.X.rows);
      let done = runner.step(step);
      if (typeof done !== "boolean") done = await done;
      if (!done) return end("aborted");
      if (!Number.isFinite(batchLoss(buffers)) || !allFinite(gradient)) {
        return end("diverged", step);
      }
      update(buffers.params, gradient, step);
      if (step % logEvery === 0 || step === steps) {
        const entry = { step, loss: evaluate() };
        if (!Number.isFinite(entry.loss)) return end("diverged", step);
        log.push(entry);
        onLog?.(entry);
      }
      if (performance.now() - lastYield > YIELD_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    return end("ok");
  } finally {
    yieldToEventLoop.close();
  }
}

/** The loss of the current batch at the current (updated) parameters, on the main thread. */
function afterLoss(runner: StepRunner, buffers: Buffers, loss: LossFn, batch: number) {
  const Xb = Matrix.zeros(batch, buffers.X.cols), Yb = Matrix.zeros(batch, buffers.Y.cols);
  return (): number => {
    gatherRows(buffers.X, buffers.indices, 0, Xb);
    gatherRows(buffers.Y, buffers.indices, 0, Yb);
    return withScratch(() => scalarOf(loss(runner.local.params, Xb, Yb), "train"));
  };
}

/**
 * A message to ourselves yields to the event loop in ~20 µs; a setTimeout(0) chained from a
 * timer is clamped to milliseconds, which cost 4% of a run when yielding every 50 ms.
 */
function eventLoopYielder(): (() => Promise<unknown>) & { close(): void } {
  const channel = new MessageChannel();
  const yielder = () =>
    new Promise((resolve) => {
      channel.port1.onmessage = resolve;
      channel.port2.postMessage(null);
    });
  return Object.assign(yielder, { close: () => channel.port1.close() });
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
