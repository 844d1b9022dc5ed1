// The trainer's options read once: defaults, checks with errors that name them, the loss URL.

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { Matrix } from "../matrix.ts";
import { createRng, type Rng } from "../random.ts";

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
}

/** Fills in defaults and checks every option, naming the bad one. */
export function settingsOf(options: RawSettings): Settings {
  const { X, Y } = options;
  checkData(X, Y);
  const lr = options.lr ?? 0.01;
  if (typeof lr !== "number" || !Number.isFinite(lr) || lr <= 0) {
    throw new RangeError(`train: lr must be a finite number greater than 0, got ${lr}`);
  }
  const batch = checkInteger("batch", options.batch ?? 100, 1);
  const steps = checkInteger("steps", options.steps ?? 1000, 0);
  const logEvery = checkInteger("logEvery", options.logEvery ?? 50, 1);
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
    lr,
    batch,
    steps,
    logEvery,
    rng: createRng(options.seed ?? 0),
    threads: threads ?? workers ?? "auto",
    threadsOption: threads === undefined && workers !== undefined ? "workers" : "threads",
    stepTimeout,
    lossUrl: lossModuleUrl(options.loss),
  };
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
