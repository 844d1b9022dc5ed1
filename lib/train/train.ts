// train(): minibatch training of any parameter tree with any optimizer, in-process or data-parallel
// on workers over shared memory, with validation, early stopping and checkpoints.

import { Matrix } from "../matrix.ts";
import type { Tree } from "../autograd/transforms.ts";
import { withScratch } from "../autograd/ops.ts";
import { jit } from "../autograd/jit.ts";
import {
  allocateBuffers,
  type Buffers,
  gatherRows,
  type ParamLayout,
  scalarOf,
} from "./_protocol.ts";
import { copyIn, copyOut, layoutOf } from "./_params.ts";
import { batchLoss, importLoss, type LossFn } from "./_shard.ts";
import { measureStepWork, planThreads } from "./_plan.ts";
import type { StepRunner } from "./_step.ts";
import { openStepRunner } from "./_pool.ts";
import { claimParams, type Settings, settingsOf } from "./_options.ts";
import type { Optimizer, OptimizerState } from "../optim/optimizers.ts";
import { createSampler, type Sampler, type Sampling } from "./_sampling.ts";
import {
  type BestState,
  type Checkpoint,
  dataFingerprint,
  readCheckpoint,
  writeCheckpoint,
} from "./_checkpoint.ts";

export type { Sampling };

/** One entry of the loss log. */
export interface LossEntry {
  /** The step (1-based) after whose update the loss was measured. */
  step: number;
  /** The loss of that step's batch with the updated parameters. */
  loss: number;
  /** The loss on the whole validation set at that step, when it was evaluated. */
  validation?: number;
}

/** Validation data for {@linkcode TrainOptions.validation}, with early stopping. */
export interface ValidationOptions {
  /** Validation features, with the training data's columns. */
  X: Matrix;
  /** Validation targets, with the training targets' columns. */
  Y: Matrix;
  /**
   * Evaluate the loss on the whole validation set every this many steps (and at the last
   * step). Default: `logEvery`.
   */
  every?: number;
  /**
   * Stop after this many evaluations in a row without a new lowest validation loss. Default:
   * never stop early (the best parameters are still the ones returned).
   */
  patience?: number;
}

/** Options of {@linkcode TrainOptions.checkpoint}. */
export interface CheckpointOptions {
  /** The checkpoint file, replaced atomically (a temporary file renamed over it). */
  path: string;
  /** Write it after every this many steps (and after the last step). */
  every: number;
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
  /**
   * Learning rate of the default optimizer (plain SGD), greater than 0. Default 0.01. Not
   * allowed with `optimizer` (give the rate to the optimizer).
   */
  lr?: number;
  /**
   * The update applied once per step, on the main thread, to the batch gradient summed in
   * the fixed shard order: any optimizer of lib/optim (`sgd`, `rmsprop`, `adam`, `adamw`, a
   * `chain(clipByGlobalNorm(c), …)`, with a schedule as its `lr`), used through its flat
   * in-place form. Default: `sgd({ lr })`, which computes `p[i] = p[i] - lr * g[i]`, the
   * trainer's update since the start, bit for bit. The optimizer's step count (what a
   * schedule sees) is the number of updates applied, saved in checkpoints.
   */
  optimizer?: Optimizer;
  /** Rows per batch. Default 100. */
  batch?: number;
  /** Steps (updates) in all, including those before a `resume`. Default 1000; not with epochs. */
  steps?: number;
  /**
   * How each batch's rows are chosen. `"replacement"` (default): `batch` draws of
   * `rng.randint(rows)`, the original protocol. `"epochs"`: each epoch shuffles the rows
   * (seeded Fisher–Yates) and cuts whole batches from that order; the `rows mod batch` rows
   * left at the end of an order do not make a batch and sit that epoch out (PyTorch's
   * `drop_last`), so every step has the same batch and shards; the next epoch's shuffle leaves
   * out others. The run is `epochs × floor(rows / batch)` steps.
   */
  sampling?: Sampling;
  /** Epochs with `sampling: "epochs"` (then `steps` must not be given). Default 1. */
  epochs?: number;
  /**
   * Validation data: its loss is computed on the main thread every `every` steps and logged
   * (`LossEntry.validation`); the parameters with the lowest validation loss are kept and
   * returned at the end (see `TrainResult.best`), and with `patience` training stops early.
   */
  validation?: ValidationOptions;
  /**
   * Write a checkpoint (parameters, optimizer state, RNG and sampler state, early-stopping
   * state, loss log, step) every `every` steps and after the last, atomically.
   */
  checkpoint?: CheckpointOptions;
  /**
   * A checkpoint file to continue from: its parameters replace the values of `params`, and
   * training goes on from its step to `steps` (or the epochs) with the same optimizer state,
   * RNG and sampler state, so that N steps, then a resume to M steps, give the same bits as M
   * steps at once, for any thread count. The other options must be those of the first run
   * (same data, batch, sampling, optimizer; `shards` is taken from the checkpoint).
   */
  resume?: string;
  /** Seed of the batch draws and epoch shuffles (`createRng`). Default 0. */
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
  /** Steps completed (updates applied), counting those before a resume. */
  stepsDone: number;
  /**
   * With validation data: the step whose parameters are returned (the lowest validation loss;
   * restored at the end unless training diverged) and that loss.
   */
  best?: { step: number; validationLoss: number };
  /** Whether `validation.patience` evaluations without improvement stopped training early. */
  stoppedEarly: boolean;
}

// The step loop yields to the event loop this often, so an AbortSignal (or a timer) can fire.
const YIELD_MS = 20;

/**
 * Trains by minibatch gradient descent: each step takes a batch of `batch` row indices from
 * one seeded RNG (`createRng(seed)`: drawn with replacement, or cut from a shuffled epoch with
 * `sampling: "epochs"`), takes the gradient of the loss with the autograd, and applies the
 * optimizer once to it (default plain SGD, `p -= lr * g`; or any lib/optim optimizer, with
 * schedules and clipping). Every `logEvery` steps, and at the last step, it logs the loss of
 * that step's batch after the update; with `validation` data also the validation loss, every
 * `validation.every` steps, keeping the best parameters (returned at the end) and stopping
 * after `patience` evaluations without improvement. `checkpoint` saves everything needed for
 * `resume` to continue bit for bit.
 *
 * With more than one thread, `threads - 1` module workers share the parameters, data and
 * gradient slabs through `SharedArrayBuffer`s and the main thread computes a share too. The
 * batch is split into a fixed number of shards (`shards`), which the threads claim as they
 * come free; their gradients are summed by a fixed binary tree and the optimizer runs on the
 * main thread on that sum, so the same seed gives bit-identical parameters and logs for any
 * thread count, with every optimizer, schedule and sampling mode.
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
 *
 * @example Adam over epochs, with early stopping on validation data
 * ```ts
 * import { adam, createRng, initMLP, Matrix, train } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const X = Matrix.from([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const Y = Matrix.from([[1, 0], [0, 1], [0, 1], [1, 0]]);
 * const result = await train({
 *   params: initMLP([2, 8, 2], createRng(0)),
 *   X,
 *   Y,
 *   optimizer: adam({ lr: 0.05 }),
 *   batch: 2,
 *   sampling: "epochs",
 *   epochs: 100, // 2 steps an epoch
 *   validation: { X, Y, every: 10, patience: 5 },
 *   threads: 1,
 * });
 * assert.equal(result.status, "ok");
 * assert.ok(result.best !== undefined && result.best.step <= result.stepsDone);
 * ```
 */
export async function train<P extends Tree = Matrix[]>(
  options: TrainOptions<P>,
): Promise<TrainResult<P>> {
  const settings = settingsOf(options);
  const { layout, leaves, paths } = layoutOf(options.params);
  const release = claimParams(leaves, paths); // before any await: a concurrent call sees it
  try {
    const resumed = settings.resume === undefined
      ? undefined
      : checkResume(await readCheckpoint(settings.resume), settings, layout, options);
    const loss = await importLoss(settings.lossUrl);
    const work = measureStepWork(loss, options.params, options, settings.batch);
    const { threads, shards, reason } = planThreads(
      work,
      settings.batch,
      settings.threads,
      options.shards ?? resumed?.shards,
      settings.threadsOption,
    );
    const buffers = allocateBuffers(layout, options, settings.batch, shards, threads);
    copyIn(leaves, buffers.params);
    const start = startState(settings, buffers, options.X.rows, resumed);
    const { lossUrl, stepTimeout } = settings, signal = options.signal;
    const runner = await openStepRunner(buffers, loss, { lossUrl, signal, stepTimeout });
    let run: Run | undefined, trained = leaves;
    try {
      run = await runSteps(runner, buffers, loss, settings, options, start);
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

/** Checks a checkpoint against this run; what does not match is named. */
function checkResume(
  c: Checkpoint,
  settings: Settings,
  layout: ParamLayout,
  options: Pick<TrainOptions, "X" | "Y" | "shards">,
): Checkpoint {
  const where = `train: resume ${settings.resume}`;
  const differ = (what: string, saved: unknown, now: unknown) => {
    throw new RangeError(`${where}: the checkpoint has ${what} ${saved}, this run ${now}`);
  };
  if (c.params.length !== layout.size) differ("parameters:", c.params.length, layout.size);
  if (c.batch !== settings.batch) differ("batch", c.batch, settings.batch);
  if (c.rows !== options.X.rows) differ("training rows:", c.rows, options.X.rows);
  const data = dataFingerprint(options.X.data, options.Y.data);
  if (c.data !== data) {
    throw new RangeError(
      `${where}: the checkpoint was made on other training data (fingerprint ${c.data}, this ` +
        `run's ${data}): another file, split, seed or standardization`,
    );
  }
  if (c.sampling !== settings.sampling) differ("sampling", c.sampling, settings.sampling);
  if (options.shards !== undefined && options.shards !== c.shards) {
    differ("shards", c.shards, options.shards);
  }
  if (c.step > settings.steps) {
    throw new RangeError(
      `${where}: the checkpoint is at step ${c.step}, past this run's ${settings.steps} steps`,
    );
  }
  if ((c.best !== null) !== (settings.validation !== undefined)) {
    throw new RangeError(
      `${where}: the checkpoint was made ${c.best ? "with" : "without"} validation data; ` +
        "resume with the same",
    );
  }
  return c;
}

/** Where the step loop starts: fresh, or from a checkpoint. */
interface StartState {
  /** Steps already done. */
  step: number;
  state: OptimizerState;
  sampler: Sampler;
  best: BestState | null;
  log: LossEntry[];
}

function startState(
  settings: Settings,
  buffers: Buffers,
  rows: number,
  resumed: Checkpoint | undefined,
): StartState {
  const { optimizer, rng } = settings, n = buffers.params.length;
  const state = optimizer.initFlat(n);
  const sampler = createSampler(settings.sampling, rows, settings.batch, rng);
  const best = settings.validation
    ? { loss: Infinity, step: 0, since: 0, params: new Float64Array(n) }
    : null;
  if (resumed === undefined) return { step: 0, state, sampler, best, log: [] };
  const where = `train: resume ${settings.resume}`;
  const slots = resumed.optimizer.slots;
  if (slots.length !== state.slots.length || slots.some((s) => s.length !== n)) {
    throw new RangeError(
      `${where}: the checkpoint's optimizer state (${slots.length} buffers) does not belong ` +
        `to this optimizer (${state.slots.length} buffers of ${n})`,
    );
  }
  buffers.params.set(resumed.params);
  state.count = resumed.optimizer.count;
  state.slots.forEach((s, i) => s.set(slots[i]));
  rng.setState(resumed.rng);
  sampler.restore(resumed.sampler);
  if (best && resumed.best) {
    if (resumed.best.params.length !== n) throw new RangeError(`${where}: damaged best params`);
    Object.assign(best, resumed.best);
  }
  return { step: resumed.step, state, sampler, best, log: resumed.log.map((e) => ({ ...e })) };
}

/** How the step loop ended. */
type Run = Pick<
  TrainResult,
  "loss" | "seconds" | "status" | "divergedAt" | "stepsDone" | "best" | "stoppedEarly"
>;

/**
 * The step loop: draw a batch, compute the gradient, check, update, log and validate,
 * checkpoint, now and then yield. Within a step, what only the last step does (its log entry
 * and validation when `logEvery` or `every` would not make them) comes after the checkpoint,
 * so a checkpoint holds what a longer run has at that step.
 */
async function runSteps(
  runner: StepRunner,
  buffers: Buffers,
  loss: LossFn,
  settings: Settings,
  options: Pick<TrainOptions, "X" | "Y" | "onLog" | "signal">,
  start: StartState,
): Promise<Run> {
  const { steps, logEvery, batch, optimizer, validation, checkpoint } = settings;
  const { signal, onLog } = options, { state, sampler, best, log } = start;
  const gradient = buffers.slabs.subarray(0, buffers.params.length);
  const evaluate = afterLoss(runner, buffers, loss, batch);
  const validateInto = validation && best
    ? validator(buffers, lossValue(runner, loss), validation, best)
    : null;
  const save = checkpoint && checkpointSaver(checkpoint.path, settings, buffers, options, start);
  const yieldToEventLoop = eventLoopYielder();
  const loop: LoopState = {
    buffers,
    best,
    log,
    startTime: performance.now(),
    stepsDone: start.step,
    stoppedEarly: false,
  };
  let lastYield = loop.startTime;
  const end = (status: Run["status"], divergedAt?: number): Run => {
    yieldToEventLoop.close();
    return finish(loop, status, divergedAt);
  };
  try {
    for (let step = start.step + 1; step <= steps; step++) {
      if (signal?.aborted) return end("aborted");
      sampler.fill(buffers.indices);
      let done = runner.step(step);
      if (typeof done !== "boolean") done = await done;
      if (!done) return end("aborted");
      if (!Number.isFinite(batchLoss(buffers)) || !allFinite(gradient)) {
        return end("diverged", step);
      }
      optimizer.stepFlat(buffers.params, gradient, state);
      loop.stepsDone = step;
      const last = step === steps;
      const validates = validateInto !== null && step % validation!.every === 0;
      const logs = step % logEvery === 0 || validates;
      let entry: LossEntry | undefined;
      if (logs || last) {
        entry = { step, loss: evaluate() };
        if (!Number.isFinite(entry.loss)) return end("diverged", step);
        if (validates && !validateInto(entry)) return end("diverged", step);
      }
      if (save && (step % checkpoint.every === 0 || last)) {
        // What a longer run holds after this step: the last step's extras come after.
        await save(step, logs ? [...log, entry!] : log);
      }
      if (entry) {
        if (last && validateInto && !validates && !validateInto(entry)) {
          return end("diverged", step);
        }
        log.push(entry);
        onLog?.(entry);
      }
      if (best && best.since >= validation!.patience) {
        loop.stoppedEarly = true;
        return end("ok");
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

/** What the step loop has done so far, for {@linkcode finish}. */
interface LoopState {
  buffers: Buffers;
  best: BestState | null;
  log: LossEntry[];
  startTime: number;
  stepsDone: number;
  stoppedEarly: boolean;
}

/** The run's record; the best parameters go back into place unless the run diverged. */
function finish(loop: LoopState, status: Run["status"], divergedAt?: number): Run {
  const { best, buffers } = loop;
  const seconds = (performance.now() - loop.startTime) / 1000;
  if (best && best.step > 0 && status !== "diverged") buffers.params.set(best.params);
  return {
    loss: loop.log,
    seconds,
    status,
    ...(divergedAt === undefined ? {} : { divergedAt }),
    stepsDone: loop.stepsDone,
    ...(best && best.step > 0 ? { best: { step: best.step, validationLoss: best.loss } } : {}),
    stoppedEarly: loop.stoppedEarly,
  };
}

/**
 * Validates the current parameters into a log entry and keeps the best parameters in `best`;
 * returns false when the validation loss is not finite.
 */
function validator(
  buffers: Buffers,
  value: (X: Matrix, Y: Matrix) => number,
  validation: { X: Matrix; Y: Matrix },
  best: BestState,
): (entry: LossEntry) => boolean {
  return (entry) => {
    const v = value(validation.X, validation.Y);
    if (!Number.isFinite(v)) return false;
    entry.validation = v;
    if (v < best.loss) {
      best.loss = v;
      best.step = entry.step;
      best.since = 0;
      best.params.set(buffers.params);
    } else best.since++;
    return true;
  };
}

/** Writes the run's checkpoint after step `step`, with the log a longer run has there. */
function checkpointSaver(
  path: string,
  settings: Settings,
  buffers: Buffers,
  options: Pick<TrainOptions, "X" | "Y">,
  start: StartState,
): (step: number, log: LossEntry[]) => Promise<void> {
  const data = dataFingerprint(options.X.data, options.Y.data);
  const { batch, sampling, rng } = settings, { state, sampler, best } = start;
  return (step, log) =>
    writeCheckpoint(path, {
      step,
      batch,
      shards: buffers.shards,
      rows: options.X.rows,
      data,
      sampling,
      params: buffers.params,
      optimizer: state,
      rng: rng.getState(),
      sampler: sampler.state(),
      best,
      log,
    });
}

/**
 * The loss of the current batch at the current (updated) parameters, on the main thread:
 * jitted (the eager bits, traced once) unless the step runs eagerly or the loss fails to jit.
 */
function afterLoss(runner: StepRunner, buffers: Buffers, loss: LossFn, batch: number) {
  const Xb = Matrix.zeros(batch, buffers.X.cols), Yb = Matrix.zeros(batch, buffers.Y.cols);
  const value = lossValue(runner, loss);
  return (): number => {
    gatherRows(buffers.X, buffers.indices, 0, Xb);
    gatherRows(buffers.Y, buffers.indices, 0, Yb);
    return value(Xb, Yb);
  };
}

/**
 * `loss` at the live parameters on `X` and `Y`, as a number, inside `withScratch`: through
 * `jit(loss)` while the main thread's step is jitted, eagerly from the first time it is not
 * or the jitted loss throws (the eager loss then runs, and throws if it fails too).
 */
function lossValue(runner: StepRunner, loss: LossFn): (X: Matrix, Y: Matrix) => number {
  let jitted: LossFn | undefined = jit(loss);
  const eager = (X: Matrix, Y: Matrix) => scalarOf(loss(runner.local.params, X, Y), "train");
  return (X, Y) =>
    withScratch(() => {
      if (jitted !== undefined && runner.local.eagerReason === undefined) {
        try {
          return scalarOf(jitted(runner.local.params, X, Y), "train");
        } catch {
          jitted = undefined;
        }
      }
      return eager(X, Y);
    });
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

/**
 * Whether every element is finite, without a branch per element: `x * 0` is 0 for a finite
 * `x` and NaN for an infinity or NaN, and a NaN makes the sum NaN. Two sums halve the chain.
 */
function allFinite(a: Float64Array): boolean {
  let z0 = 0, z1 = 0, i = 0;
  const n = a.length;
  for (; i + 1 < n; i += 2) {
    z0 += a[i] * 0;
    z1 += a[i + 1] * 0;
  }
  if (i < n) z0 += a[i] * 0;
  return z0 + z1 === 0;
}
