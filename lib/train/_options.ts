// The trainer's options read once: defaults, checks with errors that name them, the loss URL.

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { Matrix } from "../matrix.ts";
import { createRng, type Rng } from "../random.ts";
import { type Optimizer, sgd } from "../optim/optimizers.ts";
import { type Sampling, stepsPerEpoch } from "./_sampling.ts";

/** The options {@linkcode settingsOf} reads, as `TrainOptions` declares them. */
export interface RawSettings {
  X: Matrix;
  Y: Matrix;
  lr?: number;
  batch?: number;
  steps?: number;
  seed?: number;
  logEvery?: number;
  threads?: number | "auto";
  workers?: number | "auto";
  stepTimeout?: number;
  loss?: string | URL;
  optimizer?: Optimizer;
  sampling?: Sampling;
  epochs?: number;
  validation?: { X: Matrix; Y: Matrix; every?: number; patience?: number };
  checkpoint?: { path: string; every: number };
  resume?: string;
}

/** The checked settings of one run, defaults filled in. */
export interface Settings {
  lr: number;
  batch: number;
  steps: number;
  logEvery: number;
  /** The batch draws. */
  rng: Rng;
  /** Threads requested, and the name the caller used for them (for errors). */
  threads: number | "auto";
  threadsOption: "threads" | "workers";
  stepTimeout?: number;
  /** URL of the loss module. */
  lossUrl: string;
  /** The update applied once per step (default: plain SGD at `lr`). */
  optimizer: Optimizer;
  sampling: Sampling;
  /** Validation data, how often to evaluate it and the patience (Infinity: never stop). */
  validation?: { X: Matrix; Y: Matrix; every: number; patience: number };
  checkpoint?: { path: string; every: number };
  resume?: string;
}

/** Fills in defaults and checks every option, naming the bad one. */
export function settingsOf(options: RawSettings): Settings {
  checkData(options.X, options.Y);
  const lr = options.lr ?? 0.01;
  if (typeof lr !== "number" || !Number.isFinite(lr) || lr <= 0) {
    throw new RangeError(`train: lr must be a finite number greater than 0, got ${lr}`);
  }
  const batch = checkInteger("batch", options.batch ?? 100, 1);
  const sampling = options.sampling ?? "replacement";
  if (sampling !== "replacement" && sampling !== "epochs") {
    throw new RangeError(
      `train: sampling must be "replacement" or "epochs", got ${JSON.stringify(sampling)}`,
    );
  }
  const logEvery = checkInteger("logEvery", options.logEvery ?? 50, 1);
  return {
    lr,
    batch,
    optimizer: optimizerOf(options, lr),
    sampling,
    validation: validationOf(options, logEvery),
    checkpoint: checkpointOf(options.checkpoint),
    resume: pathOption("resume", options.resume),
    steps: stepsOf(options, sampling, batch),
    logEvery,
    rng: createRng(options.seed ?? 0),
    ...threadsOf(options),
    lossUrl: lossModuleUrl(options.loss),
  };
}

/** The run's steps: `steps` drawn with replacement, or whole batches of `epochs` shuffles. */
function stepsOf(options: RawSettings, sampling: Sampling, batch: number): number {
  if (sampling === "replacement") {
    if (options.epochs !== undefined) {
      throw new RangeError('train: epochs needs sampling: "epochs"');
    }
    return checkInteger("steps", options.steps ?? 1000, 0);
  }
  if (options.steps !== undefined) {
    throw new RangeError(
      'train: with sampling "epochs" give epochs, not steps (steps are epochs × whole batches)',
    );
  }
  const epochs = checkInteger("epochs", options.epochs ?? 1, 1);
  const perEpoch = stepsPerEpoch(options.X.rows, batch);
  if (perEpoch === 0) {
    throw new RangeError(
      `train: sampling "epochs" needs a batch (${batch}) of at most the rows (${options.X.rows})`,
    );
  }
  return epochs * perEpoch;
}

/** Threads (or their old name, workers) and the step timeout. */
function threadsOf(
  options: RawSettings,
): Pick<Settings, "threads" | "threadsOption" | "stepTimeout"> {
  const { threads, workers, stepTimeout } = options;
  if (threads !== undefined && workers !== undefined && threads !== workers) {
    throw new RangeError(
      `train: threads (${threads}) and its old name workers (${workers}) disagree; give threads`,
    );
  }
  if (stepTimeout !== undefined && !(stepTimeout > 0 && stepTimeout <= 2 ** 31 - 1)) {
    throw new RangeError(
      `train: stepTimeout must be a number of milliseconds from 1 to 2^31-1, got ${stepTimeout}`,
    );
  }
  return {
    threads: threads ?? workers ?? "auto",
    threadsOption: threads === undefined && workers !== undefined ? "workers" : "threads",
    stepTimeout,
  };
}

/** The given optimizer (flat-capable, and then no `lr`), else SGD at `lr`. */
function optimizerOf(options: RawSettings, lr: number): Optimizer {
  const optimizer = options.optimizer;
  if (optimizer === undefined) return sgd({ lr });
  if (typeof optimizer?.initFlat !== "function" || typeof optimizer.stepFlat !== "function") {
    throw new TypeError(
      "train: optimizer must be an optimizer from lib/optim (sgd, adam, chain(...)), " +
        "with initFlat and stepFlat",
    );
  }
  if (options.lr !== undefined) {
    throw new RangeError(
      "train: lr is the learning rate of the default SGD; with an optimizer, give it to the " +
        "optimizer (adam({ lr }))",
    );
  }
  return optimizer;
}

function validationOf(options: RawSettings, logEvery: number): Settings["validation"] {
  const v = options.validation;
  if (v === undefined) return undefined;
  if (v === null || typeof v !== "object") {
    throw new TypeError("train: validation must be { X, Y, every?, patience? }");
  }
  if (!(v.X instanceof Matrix) || !(v.Y instanceof Matrix)) {
    throw new TypeError("train: validation.X and validation.Y must be matrices");
  }
  if (v.X.rows !== v.Y.rows || v.X.rows === 0) {
    throw new TypeError(
      `train: validation.X has ${v.X.rows} rows and validation.Y ${v.Y.rows}; they need the ` +
        "same number, at least 1",
    );
  }
  if (v.X.cols !== options.X.cols || v.Y.cols !== options.Y.cols) {
    throw new TypeError(
      `train: validation data is ${v.X.cols} features × ${v.Y.cols} outputs but the training ` +
        `data is ${options.X.cols} × ${options.Y.cols}`,
    );
  }
  const every = checkInteger("validation.every", v.every ?? logEvery, 1);
  const patience = v.patience === undefined || v.patience === Infinity
    ? Infinity
    : checkInteger("validation.patience", v.patience, 1);
  return { X: v.X, Y: v.Y, every, patience };
}

function checkpointOf(c: RawSettings["checkpoint"]): Settings["checkpoint"] {
  if (c === undefined) return undefined;
  if (c === null || typeof c !== "object") {
    throw new TypeError("train: checkpoint must be { path, every }");
  }
  return {
    path: pathOption("checkpoint.path", c.path)!,
    every: checkInteger("checkpoint.every", c.every, 1),
  };
}

function pathOption(name: string, path: unknown): string | undefined {
  if (path === undefined) return undefined;
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`train: ${name} must be a file path, got ${String(path)}`);
  }
  return path;
}

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`train: ${name} must be an integer of at least ${min}, got ${value}`);
  }
  return value;
}

function checkData(X: Matrix, Y: Matrix): void {
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

// The data of parameter matrices that a train() call is updating.
const inUse = new WeakSet<Float64Array>();

/**
 * Marks the matrices as being trained until `release` is called; throws if another run holds
 * one, since both would write the same memory and one run's updates would be lost.
 */
export function claimParams(leaves: readonly unknown[], paths: readonly string[]): () => void {
  const matrices = leaves.filter((leaf): leaf is Matrix => leaf instanceof Matrix);
  const taken = leaves.findIndex((leaf) => leaf instanceof Matrix && inUse.has(leaf.data));
  if (taken >= 0) {
    throw new Error(
      `train: ${paths[taken]} is already being trained by another train() call, which would ` +
        "overwrite this run's updates; wait for that run to finish or train a copy (clone())",
    );
  }
  for (const m of matrices) inUse.add(m.data);
  return () => {
    for (const m of matrices) inUse.delete(m.data);
  };
}
